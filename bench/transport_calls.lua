-- Where the SDK's time goes, part one: its libcurl transport alone
-- (`core.http_new():request{}`), the same GET with the same headers as the raw loop
-- (bench/curl_calls.c) sends, the answer returned as a Lua string and not decoded. Compared with bench/curl_calls.c
-- it shows what the binding and the general-purpose transport (a new URL and header
-- list per request, the multi interface, the response table) cost per call.
--
--   lua5.4|luajit bench/transport_calls.lua URL [tables|contract] N   -> calls=N seconds=S
-- (N last: bench/run.sh's valgrind counts append it)
--
-- With `tables`, each answer is also turned into the decoded answer's Lua tables by
-- bench/tables_floor.c (only the C-API calls that build them, from a tape recorded once
-- before the timing; no parsing): the ceiling for any SDK that returns the answer as
-- Lua tables over this transport.
-- With `contract`, each call also does the least the SDK's contract asks before
-- sending: its parameters checked and its request built by `state:prepare` (the
-- client's own core state), with a new x-request-id as the SDK sends (the transport
-- writes the changed value into its header list); then the transport and the tables
-- as with `tables`. No retries, hooks, status handling, unwrapping or meta: what is
-- left of a raw call's time once this is paid is all an SDK with this contract has for
-- the rest.
--
-- Token and workspace id come from BENCH_TOKEN / BENCH_WORKSPACE (never printed).
local core = require "alephant.core"

local url, mode, n = arg[1], arg[2], tonumber(arg[3])
if arg[3] == nil then mode, n = nil, tonumber(arg[2]) end
local tables, contract = mode == "tables" or mode == "contract", mode == "contract"
if not url or not n or (mode and not tables) then
  io.stderr:write("usage: transport_calls.lua URL [tables|contract] N\n")
  os.exit(2)
end

local http = core.http_new{ timeout = 30, connect_timeout = 10 }
local headers = {
  Accept = "application/json",
  Authorization = "Bearer " .. assert(os.getenv("BENCH_TOKEN")),
  ["X-Workspace-Id"] = assert(os.getenv("BENCH_WORKSPACE")),
}

local tape
if tables then -- recorded from a first answer, outside the timing
  local res = assert(http:request{ method = "GET", url = url, headers = headers, timeout = 30 })
  tape = require("tables_floor").record(assert(core.json_decode(res.body)))
end

local prepare, state, params
if contract then -- the SDK's own state, for the same URL and headers (internal, read-only use)
  local client = assert(require("alephant").new{ token = os.getenv("BENCH_TOKEN"),
    workspace_id = os.getenv("BENCH_WORKSPACE"), base_url = assert(url:match("^https?://[^/]+")) })
  state, prepare = client._state, client._state.prepare
  params = { from = assert(url:match("[Ff]rom=([%d-]+)")), to = assert(url:match("[Tt]o=([%d-]+)")) }
  assert(prepare(state, "analytics.usage", params, os.time()).url == url, "prepare builds another URL")
end

local t0 = core.monotonic()
for i = 1, n do
  -- a new request table per call, as the SDK builds one
  local method, u, h = "GET", url, headers
  if contract then
    local req = prepare(state, "analytics.usage", params, os.time())
    method, u, h = req.method, req.url, req.headers
    h["x-request-id"] = core.uuid4()
  end
  local res, err = http:request{ method = method, url = u, headers = h, timeout = 30 }
  if not res or res.status ~= 200 or #res.body == 0 then
    error(("call %d: %s"):format(i, res and ("HTTP " .. res.status) or tostring(err)), 0)
  end
  if tape then tape:build() end
end
print(("calls=%d seconds=%.6f"):format(n, core.monotonic() - t0))
http:close()
