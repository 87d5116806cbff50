-- The same reports with a virtual key: Cockpit data for the key's own agent or member,
-- by period (24h, 7d, 30d, billing_cycle) rather than dates.
-- token: vk_agent
--   ALEPHANT_TOKEN=vk-... lua5.4 examples/report_key_costs.lua
local alephant = require "alephant"
local reports = require "alephant.reports"

local client = assert(alephant.new())
local r = assert(reports.costs(client, { period = "7d" }))
print(("%s %s, %s: $%.2f (%s)"):format(r.entity and r.entity.type or "unbound key",
  r.entity and r.entity.name or "", r.period, r.total,
  r.change_pct and ("%+.1f%% on the previous period"):format(r.change_pct) or "no comparison"))
for _, row in ipairs(r.top.models) do print(("  %-28s $%.2f"):format(row.name, row.cost)) end

local b = assert(reports.budgets(client, { threshold = 0 }))
for _, item in ipairs(b.items) do
  print(("budget of the %s: $%.2f of $%.2f (%.1f%%)"):format(item.kind:gsub("_", " "), item.spent, item.budget,
    item.used_pct))
end

-- Dates are refused before any request: Cockpit has no date windows.
local _, err = reports.costs(client, { from = "2026-11-01", to = "2026-11-07" })
print(tostring(err))
client:close()
