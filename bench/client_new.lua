-- What one client costs to create: `alephant.new{token, workspace_id}` with the default
-- libcurl transport (no request is made; libcurl's handle is made on the first request).
-- The OpenResty example keeps up to 1,000 clients per worker, so this is the figure
-- that decides whether a client per key is cheap.
--
--   lua5.4|luajit bench/client_new.lua N
--     -> clients=N alloc_bytes=A lua_bytes=B rss_bytes=R us=T cpu_us=C
--
-- alloc_bytes: Lua memory allocated per `alephant.new` (collector stopped: garbage
-- included); lua_bytes: growth of the Lua heap per live client (after full
-- collections); rss_bytes: growth of the resident size per live client (the C side
-- included: the token copies and the transport's state); us and cpu_us: wall-clock and
-- CPU microseconds per `alephant.new` (option checks included), collections included,
-- over N clients kept alive (the CPU figure is the one a loaded machine does not
-- inflate). The token is made up (never printed).
-- package.path/cpath are set by bench/run.sh (LUA_PATH / LUA_CPATH).
local alephant = require "alephant"
local core = require "alephant.core"

local n = tonumber(arg[1])
if not n or n < 1 then
  io.stderr:write("usage: client_new.lua N\n")
  os.exit(2)
end

local opts = {
  token = os.getenv("BENCH_TOKEN") or "pat_bench0000_00000000000000000000",
  workspace_id = os.getenv("BENCH_WORKSPACE") or "123e4567-e89b-12d3-a456-426614174000",
  base_url = "http://127.0.0.1:9", allow_insecure_http = true,
  getenv = function() return nil end,
}

local function rss_bytes()
  local f = assert(io.open("/proc/self/status", "r"))
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)")) * 1024
end

local function settle()
  collectgarbage("collect")
  collectgarbage("collect")
end

-- warm up: modules loaded, classes built, allocator pools in use
for _ = 1, 100 do assert(alephant.new(opts)):close() end

local function batch()
  local clients = {}
  for i = 1, n do clients[i] = assert(alephant.new(opts)) end
  return clients
end

-- allocation: everything `alephant.new` allocates, garbage included
settle()
collectgarbage("stop")
local a0 = collectgarbage("count") * 1024
for _ = 1, math.min(n, 1000) do assert(alephant.new(opts)) end
local alloc = (collectgarbage("count") * 1024 - a0) / math.min(n, 1000)
collectgarbage("restart")

-- memory: N live clients
settle()
local heap0, rss0 = collectgarbage("count") * 1024, rss_bytes()
local clients = batch()
settle()
local heap1, rss1 = collectgarbage("count") * 1024, rss_bytes()
for i = 1, n do clients[i]:close() end
clients = nil -- luacheck: ignore 311
settle()

-- time: N clients made and kept
local t0, c0 = core.monotonic(), os.clock()
clients = batch()
local secs, cpu = core.monotonic() - t0, os.clock() - c0
for i = 1, n do clients[i]:close() end

print(("clients=%d alloc_bytes=%.0f lua_bytes=%.0f rss_bytes=%.0f us=%.2f cpu_us=%.2f"):format(n, alloc,
  (heap1 - heap0) / n, (rss1 - rss0) / n, secs / n * 1e6, cpu / n * 1e6))
