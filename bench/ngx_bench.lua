-- Benchmark (not a test): how a plain nginx location answers while the same worker makes
-- SDK calls, with alephant.ngx in thread mode, in blocking mode, and with no SDK traffic.
--
-- One nginx worker (so every request shares one event loop) with a thread pool, against
-- the emulator. The SDK traffic is a wrk loop on /content, each request one
-- cockpit.budget_status call that the emulator holds for STALL_MS (an API round trip);
-- at the same time a second wrk measures /plain (`return 200`, no Lua). Each mode runs
-- RUNS times; the table shows the median run's p50, p99 and req/s of /plain, and the
-- SDK calls completed per second.
--
--   make build
--   LUA_PATH='./lua/?.lua;./?.lua;;' LUA_CPATH='build/luajit/?.so;;' luajit bench/ngx_bench.lua
--   (env: RUNS=3 DURATION=5 STALL_MS=20 SDK_CONNECTIONS=8 PLAIN_CONNECTIONS=8)
--
-- Needs wrk (Debian package `wrk`, in scripts/setup.sh), LuaSocket and lua-cjson.
local conf = require "spec.ngx.conf"
local emulator = require "spec.support.emulator"
local socket = require "socket"

local RUNS = tonumber(os.getenv("RUNS")) or 3
local DURATION = tonumber(os.getenv("DURATION")) or 5
local STALL_MS = tonumber(os.getenv("STALL_MS")) or 20
local SDK_CONNECTIONS = tonumber(os.getenv("SDK_CONNECTIONS")) or 8
local PLAIN_CONNECTIONS = tonumber(os.getenv("PLAIN_CONNECTIONS")) or 8

local function slurp(cmd)
  local p = assert(io.popen(cmd))
  local s = p:read("*a")
  p:close()
  return s
end

local units = { us = 1e-3, ms = 1, s = 1e3 }

-- milliseconds from wrk's "123.45us" / "1.20ms" / "2.00s"
local function ms(v)
  local n, unit = v:match("^([%d.]+)(%a+)$")
  return tonumber(n) * units[unit]
end

-- p50, p99 (ms) and req/s from `wrk --latency` output
local function parse(out)
  local p50 = out:match("\n%s+50%%%s+(%S+)")
  local p99 = out:match("\n%s+99%%%s+(%S+)")
  local rps = out:match("Requests/sec:%s+([%d.]+)")
  assert(p50 and p99 and rps, "unexpected wrk output:\n" .. out)
  return { p50 = ms(p50), p99 = ms(p99), rps = tonumber(rps) }
end

local function wrk_cmd(url, connections, latency)
  return ("wrk -t1 -c%d -d%ds %s '%s'"):format(connections, DURATION, latency and "--latency" or "", url)
end

local function run(srv, mode)
  local sdk_out
  local plain_url = srv.url .. "/plain"
  if mode == "none" then
    return parse(slurp(wrk_cmd(plain_url, PLAIN_CONNECTIONS, true))), 0
  end
  local sdk_url = ("%s/content?dict=none&env_token=1&mode=%s&fault=stall%%3D%d"):format(srv.url,
    mode == "blocking" and "blocking" or "thread", STALL_MS)
  -- the SDK load starts first and runs a little longer than the measurement
  local tmp = os.tmpname()
  os.execute(("(%s > %s 2>&1) &"):format(wrk_cmd(sdk_url, SDK_CONNECTIONS, false):gsub("-d%d+s",
    "-d" .. (DURATION + 2) .. "s"), tmp))
  socket.sleep(1)
  local plain = parse(slurp(wrk_cmd(plain_url, PLAIN_CONNECTIONS, true)))
  socket.sleep(1.5)
  local f = assert(io.open(tmp))
  sdk_out = f:read("*a")
  f:close()
  os.remove(tmp)
  return plain, tonumber(sdk_out:match("Requests/sec:%s+([%d.]+)")) or 0
end

local function median(list, key)
  local sorted = {}
  for i, r in ipairs(list) do sorted[i] = r end
  table.sort(sorted, function(a, b) return a[key] < b[key] end)
  return sorted[math.floor((#sorted + 1) / 2)]
end

assert(os.execute("command -v wrk >/dev/null"), "wrk is not installed (apt-get install wrk)")
local emu = emulator.start({ workers = 2 })
local srv = conf.start(emu, { workers = 1, thread_pool = "alephant threads=16" })
local ok, err = pcall(function()
  -- warm up: worker-thread VMs, connections, JIT
  slurp(("wrk -t1 -c4 -d1s '%s/content?dict=none&env_token=1'"):format(srv.url))
  print(("nginx 1 worker, thread pool 16 threads; %d runs of %d s; SDK calls: %d connections, emulator "
    .. "stall %d ms; /plain: %d connections"):format(RUNS, DURATION, SDK_CONNECTIONS, STALL_MS, PLAIN_CONNECTIONS))
  print(("%-10s %12s %12s %14s %14s"):format("mode", "p50 (ms)", "p99 (ms)", "/plain req/s", "SDK calls/s"))
  for _, mode in ipairs({ "none", "thread", "blocking" }) do
    local runs = {}
    for i = 1, RUNS do
      local plain, sdk = run(srv, mode)
      plain.sdk = sdk
      runs[i] = plain
    end
    local m = median(runs, "p99")
    print(("%-10s %12.3f %12.3f %14.0f %14.0f"):format(mode, median(runs, "p50").p50, m.p99,
      median(runs, "rps").rps, median(runs, "sdk").sdk))
  end
end)
srv:stop()
emu:stop()
assert(ok, err)
