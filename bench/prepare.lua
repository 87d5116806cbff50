-- The C core through the Lua binding: `state:prepare(name, params, now)` calls per
-- second (validation, auth plan, URL and header building, the request table), for a
-- typical endpoint and for the costliest ones. No network. CPU time (os.clock) of one
-- timed stretch of at least SECONDS per endpoint; bench/run.sh repeats the process.
--
-- Then the floor under the typical case: the same request table (its keys and values,
-- a fresh headers table each time) built with nothing else, no checks, no plan, no state:
--   floor_c    by bench/prepare_floor.c, the C-API calls that prepare makes for it on
--              Lua 5.4 (absent when bench/run.sh has not built prepare_floor)
--   floor_lua  by a Lua table constructor, as prepare makes it on LuaJIT
-- called as prepare is, with the same arguments. Before anything is timed or counted,
-- each floor's table is checked against prepare's own answer (the same keys, value
-- types and values), or it would measure something else.
--
--   lua5.4|luajit bench/prepare.lua [SECONDS]
--     -> one line per case: "<case> <endpoint> ops=<calls per second>"
--   lua5.4|luajit bench/prepare.lua count CASE N
--     -> exactly N calls of one case (or floor), untimed (bench/run.sh counts their
--        instructions with valgrind --tool=callgrind: the difference between N and 0 calls)
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
local prepare = state.prepare

-- ---- the floor under the typical case -----------------------------------------------
-- prepare's fields and headers in the order it sets them (src/lua/state_private.h, REQUEST_FIELDS
-- and request.h): the floor sets them in the same order, so that it meets the same
-- collisions in the tables' hash parts
local FIELD_ORDER = { "method", "url", "headers", "endpoint", "api", "family", "idempotent", "paging", "body" }
local HEADER_ORDER = { "Accept", "Authorization", "X-Workspace-Id" } -- then the parameters', then Content-Type

-- Made only when a floor is measured, after prepare's cases: the floors' objects in the
-- heap would change the collector's work in prepare's figures.
local typical = cases[1]
local answer, fields, headers

local function floor_layout()
  answer = assert(prepare(state, typical[2], typical[3], now))
  fields, headers = {}, {}
  local known = {}
  for _, k in ipairs(FIELD_ORDER) do
    known[k] = true
    if answer[k] ~= nil then fields[#fields + 1] = k end
  end
  for k in pairs(answer) do assert(known[k], "prepare_floor: a field the floor does not know: " .. tostring(k)) end
  local first, extra = {}, {}
  for _, h in ipairs(HEADER_ORDER) do
    first[h] = true
    if answer.headers[h] ~= nil then headers[#headers + 1] = h end
  end
  for h in pairs(answer.headers) do
    if not first[h] and h ~= "Content-Type" then extra[#extra + 1] = h end
  end
  table.sort(extra)
  for _, h in ipairs(extra) do headers[#headers + 1] = h end
  if answer.headers["Content-Type"] ~= nil then headers[#headers + 1] = "Content-Type" end
end

-- floor_lua: one constructor with the keys in place and the values as upvalues
local function constructor_floor()
  local values, parts = {}, {}
  for _, k in ipairs(fields) do
    if k == "headers" then
      local hs = {}
      for _, h in ipairs(headers) do
        values[#values + 1] = answer.headers[h]
        hs[#hs + 1] = ("[%q] = v%d"):format(h, #values)
      end
      parts[#parts + 1] = ("[%q] = {%s}"):format(k, table.concat(hs, ", "))
    else
      values[#values + 1] = answer[k]
      parts[#parts + 1] = ("[%q] = v%d"):format(k, #values)
    end
  end
  local names = {}
  for i = 1, #values do names[i] = "v" .. i end
  local src = ("local %s = ...\nreturn function() return {%s} end\n"):format(table.concat(names, ", "),
    table.concat(parts, ", "))
  local unpack = rawget(table, "unpack") or rawget(_G, "unpack")
  return assert(load(src, "=prepare_floor_lua"))(unpack(values, 1, #values))
end

local number_type = rawget(math, "type") or type -- integers and floats are one type on LuaJIT
-- a floor must build what prepare answers (keys, value types and values), or it
-- measures something else
local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then
    return type(a) == type(b) and a == b and (type(a) ~= "number" or number_type(a) == number_type(b))
  end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

-- { {name, build}, ... }, each checked against prepare's answer
local function make_floors()
  local floors = {}
  floor_layout()
  local has_c, floor_c = pcall(require, "prepare_floor")
  if has_c then floors[#floors + 1] = { "floor_c", floor_c.new(answer, fields, headers) } end
  floors[#floors + 1] = { "floor_lua", constructor_floor() }
  for _, f in ipairs(floors) do
    local copy = f[2](state, typical[2], typical[3], now)
    assert(same(answer, copy), f[1] .. " built a different table than prepare's answer")
    assert(copy ~= answer and copy.headers ~= answer.headers, f[1] .. ": a fresh table and headers table each call")
  end
  return floors
end

-- ---- timing and counting ------------------------------------------------------------
local function measure(fn, name, params, seconds)
  local req, err = fn(state, name, params, now)
  assert(req, err and tostring(err))
  local n = 1000
  while true do -- calibrate to about a tenth of the stretch
    local t0 = os.clock()
    for i = 1, n do kept[i % 4] = fn(state, name, params, now) end
    if os.clock() - t0 >= seconds / 10 then break end
    n = n * 2
  end
  local calls, t0 = 0, os.clock()
  repeat
    for i = 1, n do kept[i % 4] = fn(state, name, params, now) end
    calls = calls + n
  until os.clock() - t0 >= seconds
  assert(next(kept), "the requests were kept")
  return calls / (os.clock() - t0)
end

if arg[1] == "count" then
  local n = assert(tonumber(arg[3]), "count CASE N")
  local fn, c = nil, nil
  for _, x in ipairs(cases) do
    if x[1] == arg[2] then fn, c = prepare, x end
  end
  if not fn and arg[2]:match("^floor") then
    for _, f in ipairs(make_floors()) do
      if f[1] == arg[2] then fn, c = f[2], typical end
    end
  end
  if not fn then error("unknown case " .. tostring(arg[2])) end
  local name, params = c[2], c[3]
  for i = 1, n do kept[i % 4] = fn(state, name, params, now) end
  assert(n == 0 or next(kept), "the requests were kept")
  state:close()
  return
end
local seconds = tonumber(arg[1]) or 0.5
for _, c in ipairs(cases) do
  print(("%s %s ops=%.0f"):format(c[1], c[2], measure(prepare, c[2], c[3], seconds)))
end
for _, f in ipairs(make_floors()) do
  print(("%s %s ops=%.0f"):format(f[1], typical[2], measure(f[2], typical[2], typical[3], seconds)))
end
state:close()
