-- The C core through the Lua binding: `state:prepare(name, params, now)` calls per
-- second (validation, auth plan, URL and header building, the request table), for a
-- typical endpoint and for the costliest ones. No network. CPU time (os.clock) of one
-- timed stretch of at least SECONDS per endpoint; bench/run.sh repeats the process.
--
--   lua5.4|luajit bench/prepare.lua [SECONDS]
--     -> one line per case: "<case> <endpoint> ops=<calls per second>"
--   lua5.4|luajit bench/prepare.lua count CASE N
--     -> exactly N calls of one case, untimed (bench/run.sh counts their instructions
--        with valgrind --tool=callgrind: the difference between N and 0 calls)
--
-- The params table is built once and reused: a caller's own table literal is not the
-- binding's cost. Each request is kept (in a slot of `kept`) as a caller keeps it: under
-- LuaJIT a table made by a Lua constructor that nothing reads could be left out of a
-- compiled loop altogether (allocation sinking), and the figure would not be prepare's.
-- package.cpath is set by bench/run.sh (LUA_CPATH).
local core = require "alephant.core"


local WS = "123e4567-e89b-12d3-a456-426614174000"
local ID = "9d7c5b3a-1e2f-4a6b-8c9d-0e1f2a3b4c5d"

-- A made-up PAT: nothing here talks to a server.
local state = assert(core.state_new{
  token = "pat_bench0000_00000000000000000000", workspace_id = WS,
  base_url = "https://alephant.io", analytics_url = "https://analytics.alephant.io",
  gateway_url = "https://ai.alephant.io/v1",
})

local cases = {
  { "typical", "analytics.usage", { from = "2026-10-29", to = "2026-11-27", agent_id = ID } },
  -- every parameter that may be combined (from/start and agent/member/entity_type exclude each other)
  { "logs_all", "collector.logs", { from = "2026-10-29", to = "2026-11-27", agent_id = ID, search = ID,
    master_key_id = ID, department_id = ID, limit = 200, offset = 400 } },
  { "request_logs_all", "collector.request_logs", {
    start = "2026-11-27T00:00:00Z", ["end"] = "2026-11-27T12:30:00+01:00",
    limit = 200, master_key_id = ID, department_id = ID, entity_type = "agent", entity_id = ID,
    model = "gpt-4o-mini", search = ID, status = "200" } },
}

local now = os.time()
local kept = {}

local function measure(name, params, seconds)
  local prepare = state.prepare
  local req, err = prepare(state, name, params, now)
  assert(req, err and tostring(err))
  local n = 1000
  while true do -- calibrate to about a tenth of the stretch
    local t0 = os.clock()
    for i = 1, n do kept[i % 4] = prepare(state, name, params, now) end
    if os.clock() - t0 >= seconds / 10 then break end
    n = n * 2
  end
  local calls, t0 = 0, os.clock()
  repeat
    for i = 1, n do kept[i % 4] = prepare(state, name, params, now) end
    calls = calls + n
  until os.clock() - t0 >= seconds
  assert(next(kept), "the requests were kept")
  return calls / (os.clock() - t0)
end

if arg[1] == "count" then
  local n = assert(tonumber(arg[3]), "count CASE N")
  for _, c in ipairs(cases) do
    if c[1] == arg[2] then
      local prepare = state.prepare
      for i = 1, n do kept[i % 4] = prepare(state, c[2], c[3], now) end
      assert(n == 0 or next(kept), "the requests were kept")
      state:close()
      return
    end
  end
  error("unknown case " .. tostring(arg[2]))
end
local seconds = tonumber(arg[1]) or 0.5
for _, c in ipairs(cases) do
  print(("%s %s ops=%.0f"):format(c[1], c[2], measure(c[2], c[3], seconds)))
end
state:close()
