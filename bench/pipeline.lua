-- Where the SDK's time goes, part two: its CPU cost without any network. CPU time
-- (os.clock) per operation of
--   pipeline  `client.analytics:usage{from, to}` with an in-memory transport (the
--             documented `transport` option) that returns bench/usage_body.json:
--             everything the SDK does per call except libcurl
--   decode    `core.json_decode` of that body (part of the pipeline)
--   prepare   `state:prepare("analytics.usage", {from, to})` (part of the pipeline)
--   uuid4     `core.uuid4()`, the x-request-id (part of the pipeline)
--   tables    building the decoded answer's tables again from a tape recorded once
--             (bench/tables_floor.c: only the C-API calls that make them, no parsing):
--             the floor under any decoder that returns Lua tables (absent when
--             bench/run.sh has not built tables_floor for this interpreter)
--   cjson_decode  Debian's lua-cjson `cjson.decode` of the same body (the yardstick
--             for decode; absent when cjson is not installed)
--
--   lua5.4|luajit bench/pipeline.lua BODY_FILE [SECONDS]   -> "<name> ops=<per second>" lines
--   lua5.4|luajit bench/pipeline.lua BODY_FILE count CASE N
--     -> exactly N operations of one case, untimed (bench/run.sh counts their
--        instructions with valgrind --tool=callgrind: the difference between 2N and N)
local alephant = require "alephant"
local core = require "alephant.core"

local body_file, seconds = arg[1], tonumber(arg[2]) or 0.5
local count_case, count = arg[2] == "count" and arg[3], tonumber(arg[4])
if not body_file or (arg[2] == "count" and not (count_case and count)) then
  io.stderr:write("usage: pipeline.lua BODY_FILE [SECONDS] | BODY_FILE count CASE N\n")
  os.exit(2)
end
local f = assert(io.open(body_file, "rb"))
local body = f:read("*a")
f:close()

-- The transport contract (README, Configuration): request{method, url, headers, body,
-- timeout} -> {status, headers, body}. One response table is returned every time; the
-- SDK does not modify it.
local answer = { status = 200, headers = { ["content-type"] = "application/json" }, body = body }
local memory = { request = function() return answer end }

local client = assert(alephant.new{
  token = "pat_bench0000_00000000000000000000", workspace_id = "123e4567-e89b-12d3-a456-426614174000",
  base_url = "http://127.0.0.1:9", transport = memory,
})
local params = { from = "2026-10-29", to = "2026-11-27" }
local state = client._state -- the client's own core state (internal, read-only use here)
local now = os.time()

local cases = {
  { "pipeline", function()
    local data = client.analytics:usage(params)
    if not data then error("pipeline call failed") end
  end },
  { "decode", function() core.json_decode(body) end },
  { "prepare", function() state:prepare("analytics.usage", params, now) end },
  { "uuid4", function() core.uuid4() end },
}
local has_floor, floor = pcall(require, "tables_floor")
if has_floor then
  local decoded = core.json_decode(body)
  local tape = floor.record(decoded)
  local number_type = rawget(math, "type") or type -- integers and floats are one type on LuaJIT
  -- the floor must build what the decoder builds, or it measures something else
  local function same(a, b)
    if type(a) ~= "table" or type(b) ~= "table" then
      return a == b and (type(a) ~= "number" or number_type(a) == number_type(b))
    end
    for k, v in pairs(a) do if not same(v, b[k]) then return false end end
    for k in pairs(b) do if a[k] == nil then return false end end
    return true
  end
  assert(same(decoded, tape:build()), "tables_floor built a different answer")
  cases[#cases + 1] = { "tables", function() tape:build() end }
end
local has_cjson, cjson = pcall(require, "cjson")
if has_cjson then cases[#cases + 1] = { "cjson_decode", function() cjson.decode(body) end } end

local function measure(fn)
  fn()
  local n = 100
  while true do -- calibrate to about a tenth of the stretch
    local t0 = os.clock()
    for _ = 1, n do fn() end
    if os.clock() - t0 >= seconds / 10 then break end
    n = n * 2
  end
  local calls, t0 = 0, os.clock()
  repeat
    for _ = 1, n do fn() end
    calls = calls + n
  until os.clock() - t0 >= seconds
  return calls / (os.clock() - t0)
end

if count_case then
  for _, c in ipairs(cases) do
    if c[1] == count_case then
      local fn = c[2]
      for _ = 1, count do fn() end
      client:close()
      return
    end
  end
  error("unknown case " .. tostring(count_case))
end
for _, c in ipairs(cases) do print(("%s ops=%.0f"):format(c[1], measure(c[2]))) end
client:close()
