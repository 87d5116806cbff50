-- Sequential SDK calls against the benchmark's nginx (bench/run.sh starts it): each call
-- is `client.analytics:usage{from, to}` with a PAT and a workspace id, so validation,
-- request building, the libcurl transport, JSON decoding and unwrapping are all timed.
--
--   lua5.4|luajit bench/sdk_calls.lua calls BASE_URL N   -> calls=N seconds=S
--   lua5.4|luajit bench/sdk_calls.lua memory BASE_URL N1 N2
--     -> after N1 and after N2 calls (each after a full collection):
--        rss_kb_1=.. lua_kb_1=.. rss_kb_2=.. lua_kb_2=..
--
-- Token and workspace id come from BENCH_TOKEN / BENCH_WORKSPACE (never printed); for an
-- https BASE_URL, BENCH_CAFILE names the CA to trust.
-- package.path/cpath are set by bench/run.sh (LUA_PATH / LUA_CPATH).
local alephant = require "alephant"
local core = require "alephant.core"

local mode, base_url = arg[1], arg[2]
local n1, n2 = tonumber(arg[3]), tonumber(arg[4])
if not (mode == "calls" or mode == "memory") or not base_url or not n1 or (mode == "memory" and not n2) then
  io.stderr:write("usage: sdk_calls.lua calls BASE_URL N | memory BASE_URL N1 N2\n")
  os.exit(2)
end

local client = assert(alephant.new{
  token = os.getenv("BENCH_TOKEN"),
  workspace_id = os.getenv("BENCH_WORKSPACE"),
  base_url = base_url,
  cafile = os.getenv("BENCH_CAFILE"),
})
local params = { from = "2026-10-29", to = "2026-11-27" }

-- n calls; any failure stops the benchmark (a failed call must never count as a fast one)
local function run(n)
  local data
  for i = 1, n do
    local err
    data, err = client.analytics:usage(params)
    if not data then error(("call %d: %s"):format(i, tostring(err)), 0) end
  end
  -- the last answer was decoded and unwrapped: the 30-day series is there
  assert(#data.series == 30 and data.series[30].date == "2026-11-27", "unexpected answer")
end

-- resident size of this process, from the kernel
local function rss_kb()
  local f = assert(io.open("/proc/self/status", "r"))
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

local function settle()
  collectgarbage("collect")
  collectgarbage("collect")
end

if mode == "calls" then
  local t0 = core.monotonic()
  run(n1)
  print(("calls=%d seconds=%.6f"):format(n1, core.monotonic() - t0))
else
  run(n1)
  settle()
  local rss1, kb1 = rss_kb(), collectgarbage("count")
  run(n2 - n1)
  settle()
  local rss2, kb2 = rss_kb(), collectgarbage("count")
  print(("rss_kb_1=%d lua_kb_1=%.1f rss_kb_2=%d lua_kb_2=%.1f"):format(rss1, kb1, rss2, kb2))
end
client:close()
