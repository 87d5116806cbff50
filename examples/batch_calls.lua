-- Several calls at once: every agent's usage for the last seven days in one
-- client:batch, next to the same calls one after another; a refused call gets its error
-- in its own slot and is not sent.
-- token: pat_read
--   ALEPHANT_TOKEN=pat_... ALEPHANT_WORKSPACE_ID=<uuid> lua5.4 examples/batch_calls.lua
local alephant = require "alephant"
local core = require "alephant.core"

local client = assert(alephant.new())

local now = os.time()
local from, to = os.date("!%Y-%m-%d", now - 6 * 86400), os.date("!%Y-%m-%d", now)

local agents, err = client.agents:all()
if not agents then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end

local calls = {}
for i, agent in ipairs(agents) do
  calls[i] = { "analytics.usage", { from = from, to = to, agent_id = agent.id } }
end
-- a mistake in one call: refused before anything is sent, the others still go out
calls[#calls + 1] = { "analytics.usage", { from = to, to = from } }

local t0 = core.monotonic()
local results = client:batch(calls, { max_concurrency = 8 })
local batch_s = core.monotonic() - t0

for i, r in ipairs(results) do
  local agent = agents[i]
  if r.data then
    local cost = 0
    for _, day in ipairs(r.data.series or {}) do cost = cost + (day.cost or 0) end
    print(("%-24s $%8.2f  (%d attempt%s)"):format(agent.name or agent.id, cost, r.meta.attempts,
      r.meta.attempts == 1 and "" or "s"))
  else
    print(("%-24s %s"):format(agent and (agent.name or agent.id) or "(the mistaken call)", tostring(r.err)))
  end
end
assert(results[#results].err and results[#results].err.kind == "validation", "the mistaken call was not refused")

-- the same calls one after another, for comparison (times depend on the server)
t0 = core.monotonic()
for i = 1, #agents do client:call(calls[i][1], calls[i][2]) end
print(("%d calls: %.0f ms together, %.0f ms one after another"):format(#agents, batch_s * 1000,
  (core.monotonic() - t0) * 1000))
