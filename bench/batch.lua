-- Concurrent calls (`client:batch`) against one call after another: N calls of
-- `analytics.usage` to a location that answers after 20 ms (bench/run.sh starts it),
-- sequentially with `client:call`, with `client:batch` over plain HTTP/1.1 (at most 8
-- connections) and over TLS with HTTP/2 offered (one connection, up to 64 streams).
-- Connections are counted from nginx's access log ($connection of the lines each
-- variant added).
--
--   lua5.4|luajit bench/batch.lua HTTP_BASE H2_BASE CAFILE ACCESS_LOG N
--     -> calls=N seq_ms=.. batch_ms=.. batch_conns=.. h2_ms=.. h2_conns=..
--
-- Token and workspace id come from BENCH_TOKEN / BENCH_WORKSPACE (never printed).
-- package.path/cpath are set by bench/run.sh (LUA_PATH / LUA_CPATH).
local alephant = require "alephant"
local core = require "alephant.core"

local http_base, h2_base, cafile, access_log, n = arg[1], arg[2], arg[3], arg[4], tonumber(arg[5])
if not (http_base and h2_base and cafile and access_log and n) then
  io.stderr:write("usage: batch.lua HTTP_BASE H2_BASE CAFILE ACCESS_LOG N\n")
  os.exit(2)
end

local function client(base)
  return assert(alephant.new{ token = os.getenv("BENCH_TOKEN"), workspace_id = os.getenv("BENCH_WORKSPACE"),
    base_url = base, cafile = cafile, max_retries = 0 })
end

local params = { from = "2026-10-29", to = "2026-11-27" }
local calls = {}
for i = 1, n do calls[i] = { "analytics.usage", params } end

local function log_size()
  local f = assert(io.open(access_log, "rb"))
  local size = f:seek("end")
  f:close()
  return size
end

-- distinct connections in the access log lines written since offset
local function conns_since(offset)
  local f = assert(io.open(access_log, "rb"))
  f:seek("set", offset)
  local seen, count = {}, 0
  for line in f:lines() do
    local c = line:match("^(%d+) ")
    if c and not seen[c] then seen[c], count = true, count + 1 end
  end
  f:close()
  return count
end

local function check(results)
  for i, r in ipairs(results) do
    if not r.data then error(("call %d: %s"):format(i, tostring(r.err)), 0) end
    assert(#r.data.series == 30, "unexpected answer")
  end
end

-- warm up: connections open, TLS session known, code paths hot
local plain, tls = client(http_base), client(h2_base)
check(plain:batch({ calls[1] }))
check(tls:batch({ calls[1] }))

local t0 = core.monotonic()
for i = 1, n do
  local data, err = plain:call("analytics.usage", params)
  if not data then error(("call %d: %s"):format(i, tostring(err)), 0) end
end
local seq = core.monotonic() - t0

local offset = log_size()
t0 = core.monotonic()
check(plain:batch(calls, { max_concurrency = 8 }))
local batch_s = core.monotonic() - t0
local batch_conns = conns_since(offset)

offset = log_size()
t0 = core.monotonic()
check(tls:batch(calls, { max_concurrency = 64 }))
local h2_s = core.monotonic() - t0
local h2_conns = conns_since(offset)

print(("calls=%d seq_ms=%.2f batch_ms=%.2f batch_conns=%d h2_ms=%.2f h2_conns=%d"):format(n, seq * 1000,
  batch_s * 1000, batch_conns, h2_s * 1000, h2_conns))
plain:close()
tls:close()
