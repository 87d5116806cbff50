-- Pagination with and without prefetch: each() over a list of 20 pages from a location
-- that takes 20 ms per page (bench/run.sh starts it), with 20 ms of the caller's own work
-- per page (a sleep after each page's last item: the time a loop body spends on a page,
-- such as a call per item elsewhere). Without prefetch a page costs its 20 ms of server
-- time plus the 20 ms of work; with it the next page's 20 ms run during the work.
--
--   lua5.4|luajit bench/prefetch.lua BASE [WORK_MS]
--     -> pages=20 items=.. plain_ms=.. prefetch_ms=.. work_ms=20
--
-- Token and workspace id come from BENCH_TOKEN / BENCH_WORKSPACE (never printed).
-- package.path/cpath are set by bench/run.sh (LUA_PATH / LUA_CPATH).
local alephant = require "alephant"
local core = require "alephant.core"

local base, work_ms = arg[1], tonumber(arg[2] or "20")
if not base then
  io.stderr:write("usage: prefetch.lua BASE [WORK_MS]\n")
  os.exit(2)
end

local PAGE_SIZE = 10
local client = assert(alephant.new{ token = os.getenv("BENCH_TOKEN"), workspace_id = os.getenv("BENCH_WORKSPACE"),
  base_url = base, max_retries = 0 })

local function walk(prefetch)
  local n = 0
  local t0 = core.monotonic()
  for agent, err in client.agents:each({ page_size = PAGE_SIZE }, { prefetch = prefetch }) do
    if not agent then error(tostring(err), 0) end
    n = n + 1
    if n % PAGE_SIZE == 0 then core.sleep(work_ms / 1000) end -- the page's work
  end
  return n, core.monotonic() - t0
end

walk(true) -- warm up: the connections open, the code paths hot
local n, plain = walk(false)
local m, ahead = walk(true)
assert(n == 20 * PAGE_SIZE and m == n, "unexpected number of items")
print(("pages=20 items=%d plain_ms=%.2f prefetch_ms=%.2f work_ms=%d"):format(n, plain * 1000, ahead * 1000, work_ms))
client:close()
