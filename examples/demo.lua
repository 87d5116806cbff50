-- A tour of the library with a personal access token: who am I, workspace KPIs, the
-- cost report as Lua tables, budgets near their limit, and a mistake caught before
-- any request. `make demo` runs it against the emulator.
-- token: pat_read
--   ALEPHANT_TOKEN=pat_... ALEPHANT_WORKSPACE_ID=<uuid> lua5.4 examples/demo.lua
local alephant = require "alephant"
local reports = require "alephant.reports"

local client = assert(alephant.new())
print(("client: %s (%s), workspace %s"):format(client:redacted_token(), client:token_kind(), client.workspace_id))

-- One call: the unwrapped payload, and meta with the request id.
local overview, err, meta = client.analytics:overview()
if not overview then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
print(("overview: %d agents, %d members, %d virtual keys (request %s)"):format(overview.totalAgents or 0,
  overview.totalMembers or 0, overview.totalVirtualKeys or 0, meta.request_id))

-- The cost report is plain data: render it however you like.
local costs = assert(reports.costs(client, { days = 7 }))
print(("last 7 days: $%.2f (%s on the 7 days before)"):format(costs.total,
  costs.change_pct and ("%+.1f%%"):format(costs.change_pct) or "no comparison"))
for _, row in ipairs(costs.top.models) do
  print(("  %-22s $%8.2f  %5.1f%%"):format(row.name, row.cost, row.share_pct))
end

local budgets = assert(reports.budgets(client, { threshold = 0.5 }))
for _, item in ipairs(budgets.items) do
  print(("over half its budget: %s %s, %.0f%% of $%.2f"):format(item.kind, item.name, item.used_pct, item.budget))
end

-- Two scopes at once: refused with a one-line error, nothing sent.
local data, bad = client.analytics:usage{ agent_id = "f309d82a-9f43-46f6-84fe-5e2f98c7f01e",
  member_id = "077e53aa-f787-4413-884d-b8e0f54db311" }
assert(data == nil and bad.kind == "validation")
print(tostring(bad))
client:close()
