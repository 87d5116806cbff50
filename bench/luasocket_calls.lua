-- What a user would write by hand instead of the SDK: LuaSocket's socket.http with
-- the same headers, then Debian's lua-cjson to decode and unwrap. socket.http sends
-- "Connection: close" and opens a new TCP connection for every request; that is the
-- point of the comparison.
--
--   lua5.4|luajit bench/luasocket_calls.lua URL N   -> calls=N seconds=S
--
-- Token and workspace id come from BENCH_TOKEN / BENCH_WORKSPACE (never printed).
local http = require "socket.http"
local socket = require "socket"
local ltn12 = require "ltn12"
local cjson = require "cjson"

local url, n = arg[1], tonumber(arg[2])
if not url or not n then
  io.stderr:write("usage: luasocket_calls.lua URL N\n")
  os.exit(2)
end

local headers = {
  ["accept"] = "application/json",
  ["authorization"] = "Bearer " .. assert(os.getenv("BENCH_TOKEN")),
  ["x-workspace-id"] = assert(os.getenv("BENCH_WORKSPACE")),
}

local data
local t0 = socket.gettime()
for i = 1, n do
  local chunks = {}
  local ok, status = http.request{ url = url, headers = headers, sink = ltn12.sink.table(chunks) }
  if not ok or status ~= 200 then error(("call %d: %s"):format(i, tostring(status)), 0) end
  local body = cjson.decode(table.concat(chunks))
  if body.code ~= 0 then error(("call %d: code %s"):format(i, tostring(body.code)), 0) end
  data = body.data
end
local elapsed = socket.gettime() - t0
assert(#data.series == 30 and data.series[30].date == "2026-11-27", "unexpected answer")
print(("calls=%d seconds=%.6f"):format(n, elapsed))
