-- The cost report from Lua, drawn with alephant.cli.chart: totals against the previous
-- window, a daily sparkline and the top agents.
-- token: pat_read
--   ALEPHANT_TOKEN=pat_... ALEPHANT_WORKSPACE_ID=<uuid> lua5.4 examples/report_costs.lua
local alephant = require "alephant"
local reports = require "alephant.reports"
local chart = require "alephant.cli.chart"

local client = assert(alephant.new())
local r, err = reports.costs(client, { days = 14, top = 3 })
if not r then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end

print(("%s .. %s: $%.2f, previous %d days $%.2f"):format(r.window.from, r.window.to, r.total, r.window.days,
  r.previous.total))
local daily = {}
for i, d in ipairs(r.daily) do daily[i] = d.cost end
print("daily: " .. chart.sparkline(daily, { utf8 = chart.utf8() }))

-- Each breakdown's rows add up to 100%: the top N, "(k others)", and the spend the
-- dimension does not cover (for agents: the members' spend).
local total = 0
for _, row in ipairs(r.top.agents) do
  print(("  %-20s $%7.2f %5.1f%% %s"):format(row.name, row.cost, row.share_pct, row.kind))
  total = total + row.share_pct
end
assert(math.abs(total - 100) < 0.01)
client:close()
