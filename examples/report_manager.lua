-- The manager reports: the workspace at a glance, unusual days, two weeks side by side,
-- and where the money goes, each as a plain Lua table.
-- token: pat_read
--   ALEPHANT_TOKEN=pat_... ALEPHANT_WORKSPACE_ID=<uuid> lua5.4 examples/report_manager.lua
local alephant = require "alephant"
local reports = require "alephant.reports"

local client = assert(alephant.new())

local function check(r, err)
  if not r then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  return r
end

local d = check(reports.dashboard(client))
print(("billing period: $%.2f, %d requests; last 24 h: $%.2f (%d calls)"):format(d.overview.total_cost,
  d.overview.total_requests, d.live.cost, d.calls))

local a = check(reports.anomalies(client, { days = 30, explain = 1 }))
print(("%d unusual day(s) in %s .. %s (%d calls)"):format(#a.items, a.from, a.to, a.calls))
for _, it in ipairs(a.items) do
  print(("  %s  $%.2f vs $%.2f expected  %s %s"):format(it.date, it.cost, it.expected, it.severity, it.direction))
end

local c = check(reports.compare(client)) -- the last 7 days against the 7 before
for _, it in ipairs(c.items) do
  if it.metric == "cost" then
    print(("last 7 days $%.2f, the 7 before $%.2f (%+.1f%%)"):format(it.current, it.previous, it.delta_pct or 0))
  end
end

local dd = check(reports.drill_down(client, { days = 7 }))
for _, dep in ipairs(dd.departments) do print(("  %-12s $%.2f  %.1f%%"):format(dep.name, dep.cost, dep.share_pct)) end
