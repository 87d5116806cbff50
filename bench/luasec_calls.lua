-- The hand-written client over TLS, as the real API needs it: LuaSec's ssl.https (the
-- socket.http interface over TLS, verifying the server against BENCH_CAFILE) plus
-- Debian's lua-cjson. Like socket.http it opens a new connection, and so makes a new
-- TLS handshake, for every request.
--
--   lua5.4|luajit bench/luasec_calls.lua URL N [nodelay]   -> calls=N seconds=S
--
-- LuaSocket leaves Nagle's algorithm on and LuaSec writes a request as several small
-- TLS records, so a request can wait for the server's delayed ACK (about 40 ms on
-- Linux). `nodelay` sets TCP_NODELAY on every socket, as a careful user would.
--
-- Token and workspace id come from BENCH_TOKEN / BENCH_WORKSPACE (never printed).
local https = require "ssl.https"
local socket = require "socket"
local ltn12 = require "ltn12"
local cjson = require "cjson"

local url, n, nodelay = arg[1], tonumber(arg[2]), arg[3] == "nodelay"
if not url or not n then
  io.stderr:write("usage: luasec_calls.lua URL N [nodelay]\n")
  os.exit(2)
end
if nodelay then -- ssl.https creates its sockets with socket.tcp(); tcp4 has its descriptor at once
  local tcp4 = socket.tcp4
  socket.tcp = function(...)
    local sock, err = tcp4(...)
    if sock then assert(sock:setoption("tcp-nodelay", true)) end
    return sock, err
  end
end
local cafile = assert(os.getenv("BENCH_CAFILE"), "BENCH_CAFILE must name the CA")

local headers = {
  ["accept"] = "application/json",
  ["authorization"] = "Bearer " .. assert(os.getenv("BENCH_TOKEN")),
  ["x-workspace-id"] = assert(os.getenv("BENCH_WORKSPACE")),
}

local data
local t0 = socket.gettime()
for i = 1, n do
  local chunks = {}
  local ok, status = https.request{ url = url, headers = headers, sink = ltn12.sink.table(chunks),
    verify = "peer", cafile = cafile }
  if not ok or status ~= 200 then error(("call %d: %s"):format(i, tostring(status)), 0) end
  local body = cjson.decode(table.concat(chunks))
  if body.code ~= 0 then error(("call %d: code %s"):format(i, tostring(body.code)), 0) end
  data = body.data
end
local elapsed = socket.gettime() - t0
assert(#data.series == 30 and data.series[30].date == "2026-11-27", "unexpected answer")
print(("calls=%d seconds=%.6f"):format(n, elapsed))
