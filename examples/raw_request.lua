-- Routes the catalog does not describe, through client:request, with the route family's
-- rules (token kinds, X-Workspace-Id, envelope, retries for GET, path checks).
-- token: pat_read
--   ALEPHANT_TOKEN=pat_... ALEPHANT_WORKSPACE_ID=<uuid> lua5.4 examples/raw_request.lua
local alephant = require "alephant"

local client = assert(alephant.new())

-- Query names are the wire names; the SaaS envelope is unwrapped, pagination is in meta.
local agents, err, meta = client:request("GET", "/api/v1/agents", { query = { page = 1, pageSize = 3 } })
if not agents then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
print(("%s: %d agents (HTTP %d)"):format(meta.endpoint, #agents, meta.status))

-- One agent's analytics, by a path built from its id.
local a = assert(client:request("GET", "/api/v1/agents/" .. agents[1].id .. "/analytics", { query = { days = 7 } }))
print(("%s: %s"):format(agents[1].name, type(a) == "table" and "analytics received" or "?"))

-- The same checks as catalog calls, before anything is sent:
local _, e1 = client:request("GET", "/api/v1/pats")                       -- JWT only
local _, e2 = client:request("GET", "/api/v1/agents/../pats")             -- leaves its route
local _, e3 = client:request("GET", "/api/v1/analytics/costs", { query = { dateFrom = "2026-11-01" } })
for _, e in ipairs({ e1, e2, e3 }) do print(("refused (%s): %s"):format(e.kind, e.message)) end
