-- Every capability of the SDK once, for scripts/check-valgrind.sh: run under memcheck
-- (the whole busted suite takes 10 to 20 minutes there, and its timing assertions do not
-- always hold at that speed). Core validators, tokens, prepare for every catalog entry, JSON, the
-- libcurl transport (requests, streams, faults, TLS, close), client calls with retries,
-- deadlines and pagination, every error kind, the gateway (calls, a stream, events, a
-- run, request-log tracing), reports, and every close. Each step checks its result;
-- any failure exits 1. Run from the repository root:
--   LUA_PATH='./lua/?.lua;./lua/?/init.lua;./?.lua;;' LUA_CPATH='build/lua5.4/?.so;;' \
--     lua5.4 scripts/valgrind/driver.lua
local alephant = require "alephant"
local core = require "alephant.core"
local reports = require "alephant.reports"
local emulator = require "spec.support.emulator"

local steps = 0
local function check(cond, what, err)
  steps = steps + 1
  if not cond then error(("driver: %s failed%s"):format(what, err and (": " .. tostring(err)) or ""), 2) end
end
local function fails(kind, what, data, err)
  check(data == nil and type(err) == "table" and err.kind == kind, what .. " (" .. kind .. ")", err)
  check(not tostring(err):find("\n"), what .. ": one-line error")
  return err
end

-- 1. the C core on its own ---------------------------------------------------------
check(core.validate_date("2026-02-28", "from"), "valid date")
fails("validation", "bad date", core.validate_date("2026-02-29", "from"))
check(core.validate_date_range("2026-01-01", "2026-01-31"), "date range")
fails("validation", "reversed range", core.validate_date_range("2026-02-01", "2026-01-31"))
check(core.validate_datetime("2026-01-01T00:00:00Z", "start"), "datetime")
fails("validation", "datetime without zone", core.validate_datetime("2026-01-01T00:00:00", "start"))
fails("validation", "end not after start", core.validate_datetime_range("2026-01-01T00:00:00Z",
  "2026-01-01T01:00:00+01:00", "start", "end"))
check(core.validate_uuid("123e4567-e89b-12d3-a456-426614174000", "agent_id"), "uuid")
fails("validation", "token as uuid", core.validate_uuid("vk-" .. ("a"):rep(40), "workspace_id"))
fails("validation", "header CR LF", core.validate_header_value("a\r\nb", "x"))
check(core.validate_length("ünïcode", "label", 1, 7), "length in characters")
check(core.validate_integer(12, "months", 1, 24), "integer")
fails("validation", "fraction", core.validate_integer(2.5, "months", 1, 24))
check(core.validate_integer_in(7, "days", { 1, 7, 30 }), "integer in set")
check(core.validate_enum("period", "30d"), "enum")
fails("validation", "bad enum", core.validate_enum("period", "90d"))
fails("validation", "hour latency", core.validate_granularity("latency", "hour"))
fails("validation", "two scopes", core.validate_exclusive({ agent_id = "a", member_id = "b" },
  { "agent_id", "member_id", "department_id" }))
check(type(core.enums()) == "table", "enums")
for _, t in ipairs({ "vk-" .. ("b"):rep(40), "pat_ws0117be_" .. ("c"):rep(64) }) do
  local info = core.token_info(t)
  check(info and info.kind, "token_info", t:sub(1, 3))
  check(core.redact(t):find("…", 1, true), "redact")
end
fails("config", "bad token", core.token_info("nope"))
check(#core.uuid4() == 36 and core.random() < 1 and core.monotonic() > 0, "uuid4, random, monotonic")
core.sleep(0.001)

local doc = '{"a":[1,2.5,null,{"b":"\\u00e9\\ud83d\\ude00"}],"c":true,"d":{},"e":[]}'
local v = assert(core.json_decode(doc))
check(v.a[3] == core.null and v.a[4].b == "é😀" and getmetatable(v.e) == core.array_mt, "json decode")
check(core.json_decode(core.json_encode(v)).a[2] == 2.5, "json round trip")
fails("decode", "json truncated", core.json_decode('{"a":[1,'))
check(core.json_decode(("["):rep(600) .. ("]"):rep(600)) == nil, "json depth limit")
check(core.json_encode(alephant.array({})) == "[]", "empty array")
check(core.json_encode({ [{}] = 1 }) == nil, "json refuses a table key")

-- prepare: every catalog entry, without and with a token that may call it
local kinds = { jwt = nil, pat = "pat_ws0117be_" .. ("d"):rep(64), virtual_key = "vk-" .. ("e"):rep(40) }
for kind, token in pairs(kinds) do
  local st = assert(core.state_new({ token = token, workspace_id = kind == "pat" and
    "c324cd7a-d313-4940-89c6-e97f63f36704" or nil, base_url = "https://alephant.io",
    analytics_url = "https://analytics.alephant.io", gateway_url = "https://ai.alephant.io/v1" }))
  for _, e in ipairs(core.endpoints()) do
    local req, err = st:prepare(e.name, {}, os.time())
    check(req or req == false or err, "prepare " .. e.name)
    st:prepare(e.name, { bogus = 1, from = "2026-13-01" }, os.time())
  end
  st:close()
  st:close()
  check(not pcall(st.prepare, st, "cockpit.scope"), "prepare after close raises")
end

-- 2. against the emulator -----------------------------------------------------------
local emu = emulator.start({ ingest_delay_ms = 50 })
local T, ids = emu.tokens, emu.ids
local function new(token_name, extra)
  local opts = { token = T[token_name], base_url = emu.saas_url, analytics_url = emu.analytics_url,
    gateway_url = emu.gateway_url, getenv = function() return nil end, timeout = 20, max_retries = 1 }
  if token_name:match("^pat") or token_name:match("^jwt") then opts.workspace_id = ids.workspace_1 end
  for k, x in pairs(extra or {}) do opts[k] = x end
  return assert(alephant.new(opts))
end
local function fault(spec, extra)
  local o = { headers = { ["X-Emulator-Fault"] = spec } }
  for k, x in pairs(extra or {}) do o[k] = x end
  return o
end

-- the transport directly
local http = core.http_new({ timeout = 20, max_body = 64 * 1024 })
local auth = { Authorization = "Bearer " .. T.vk_agent }
local res = assert(http:request({ method = "GET", url = emu.saas_url .. "/api/v1/cockpit/scope", headers = auth }))
check(res.status == 200 and core.json_decode(res.body).workspace.id == ids.workspace_1, "transport GET")
res = assert(http:request({ method = "POST", url = emu.gateway_url .. "/chat/completions",
  headers = { Authorization = auth.Authorization, ["Content-Type"] = "application/json" },
  body = core.json_encode({ model = "openai/gpt-4o-mini", messages = { { role = "user", content = "hi" } } }) }))
check(res.status == 200, "transport POST")
local url = emu.saas_url .. "/api/v1/cockpit/scope"
for spec, kind in pairs({ reset = "network", truncated = "network", ["stall=1500"] = "timeout",
  ["oversized=200000"] = "too_large" }) do
  local hdr = { Authorization = auth.Authorization, ["X-Emulator-Fault"] = spec }
  fails(kind, "transport " .. spec, http:request({ method = "GET", url = url, headers = hdr, timeout = 0.5 }))
end
fails("validation", "transport header CR LF", http:request({ method = "GET", url = url,
  headers = { ["X-A"] = "a\r\nb" } }))
local tls = core.http_new({ timeout = 20, cafile = emu.ca_file })
check(tls:request({ method = "GET", url = emu.https_url .. "/api/v1/cockpit/health" }), "TLS with the CA")
tls:close()
tls = core.http_new({ timeout = 20 })
fails("tls", "TLS without the CA", tls:request({ method = "GET", url = emu.https_url .. "/api/v1/cockpit/health" }))
tls = nil -- luacheck: ignore 311 (collected below, not closed)
-- a stream read to the end, one closed early, one left to the collector
local body = core.json_encode({ model = "openai/gpt-4o-mini", stream = true,
  messages = { { role = "user", content = "one two three" } } })
local shdr = { Authorization = auth.Authorization, ["Content-Type"] = "application/json",
  ["X-Emulator-Stream-Chunks"] = "200" }
local s = assert(http:stream({ method = "POST", url = emu.gateway_url .. "/chat/completions", headers = shdr,
  body = body }))
check(s:status() == 200 and s:headers()["content-type"], "stream head")
local got = {}
for chunk in s.next, s do got[#got + 1] = chunk end
check(table.concat(got):find("[DONE]", 1, true), "stream to the end")
s:close()
s = assert(http:stream({ method = "POST", url = emu.gateway_url .. "/chat/completions", headers = shdr, body = body }))
check(s:next(), "stream first chunk")
s:close()
s:close()
s = assert(http:stream({ method = "POST", url = emu.gateway_url .. "/chat/completions", headers = shdr, body = body }))
local truncated = { Authorization = auth.Authorization, ["Content-Type"] = "application/json",
  ["X-Emulator-Fault"] = "truncated" }
local broken = assert(http:stream({ method = "POST", url = emu.gateway_url .. "/chat/completions",
  headers = truncated, body = body }))
local last_err
repeat
  local chunk, err = broken:next()
  last_err = err
until chunk == nil
check(last_err and last_err.kind == "network", "truncated stream", last_err)
http:close() -- with stream `s` still open: it is detached
local _, serr = s:next()
check(serr, "stream of a closed transport")
s, broken = nil, nil -- luacheck: ignore 311
fails("network", "request after close", http:request({ method = "GET", url = url }))
collectgarbage()

-- client calls
local vk = new("vk_agent")
check(tostring(vk):find("vk%-ag…"), "tostring redacts")
local data, err, meta = vk.cockpit:scope()
check(data and meta.status == 200, "cockpit.scope", err)
data, err = vk.collector:usage({ from = os.date("!%Y-%m-%d"), to = os.date("!%Y-%m-%d") })
check(data and vk:context().workspace_id == ids.workspace_1, "scope resolution", err)
data, err, meta = vk.cockpit:budget_status(nil, fault("status=503;count=1;key=d1"))
check(data and meta.attempts == 2, "retried 503", err)
data, err, meta = vk.cockpit:usage_summary({ period = "7d" }, fault("429;retry-after=0;count=1;key=d2"))
check(data and meta.attempts == 2, "retried 429", err)
fails("http", "500", vk.cockpit:scope(nil, fault("status=500")))
fails("network", "reset", vk.cockpit:scope(nil, fault("reset")))
fails("timeout", "deadline", vk.cockpit:scope(nil, fault("stall=2000", { deadline = 0.4 })))
fails("decode", "malformed", vk.cockpit:scope(nil, fault("malformed")))
fails("validation", "bad period", vk.cockpit:usage_summary({ period = "90d" }))
fails("validation", "call header CR LF", vk.cockpit:scope(nil, { headers = { ["X-A"] = "a\nb" } }))
fails("auth", "wrong token kind", vk.pats:list())
fails("auth", "401", new("vk_revoked").cockpit:scope())
fails("tls", "client TLS", new("vk_agent", { base_url = emu.https_url }).cockpit:health())
check(new("vk_agent", { base_url = emu.https_url, cafile = emu.ca_file }).cockpit:health(), "client TLS with CA")
local small = new("vk_agent", { transport = core.http_new({ timeout = 20, max_body = 4096 }) })
fails("too_large", "too large", small.cockpit:scope(nil, fault("oversized=100000")))
small:close()
local n = 0
for row, e in vk.cockpit:each_recent_requests({ limit = 5 }, { max_items = 12 }) do
  check(row, "recent requests page", e)
  n = n + 1
end
check(n == 12, "cockpit pagination")

local pat = new("pat_admin")
local keys = assert(pat.virtual_keys:all({ page_size = 2 }))
check(#keys >= 3, "virtual_keys:all over pages")
n = 0
for key in pat.virtual_keys:each({ page_size = 1 }, { max_items = 3 }) do n = n + (key and 1 or 0) end
check(n == 3, "virtual_keys:each")
local created
created, err = pat.virtual_keys:create({ label = "driver", master_key_id = ids.openai, budget = 5 })
check(created and created.id, "create", err)
check(pat.virtual_keys:update({ id = created.id, label = "driver 2" }), "update")
check(pat.virtual_keys:revoke({ id = created.id }), "revoke")
fails("http", "POST not retried", pat.virtual_keys:create({ label = "x", master_key_id = ids.openai },
  fault("status=503")))
check(pat.policies:set_budget_control({ config = { amount = 100 } }), "PUT")
check(pat.analytics:usage({ from = "2026-01-01", to = "2026-01-31", agent_id = ids.support_bot }), "analytics")
check(reports.costs(pat, { days = 7 }), "costs report")
check(reports.costs(vk, { period = "7d" }), "costs report with a virtual key")
local jwt = new("jwt")
check(jwt.workspaces:list(), "JWT route")
check(jwt.pats:revoke({ id = ids.pat_read }) == true, "DELETE 204")

-- gateway
local chat = { model = "openai/gpt-4o-mini", messages = { { role = "user", content = "hello there" } } }
local reply
reply, err, meta = vk.gateway:chat(chat)
check(reply and reply.choices, "chat", err)
check(vk.gateway:embeddings({ model = "openai/text-embedding-3-small", input = "hello" }), "embeddings")
local log
log, err = vk.collector:request_log(meta.request_id, { wait = 10 })
check(log and log.row, "request log traced", err)
local events = 0
for ev, e in vk.gateway:chat_stream({ model = chat.model, messages = chat.messages, max_tokens = 30 }) do
  check(ev, "stream event", e)
  events = events + 1
end
check(events > 3, "chat_stream")
local st = vk.gateway:chat_stream(chat)
st:close() -- closed before reading
for ev, e in vk.gateway:chat_stream(chat, fault("truncated")) do
  if ev == false then check(e.kind == "network", "broken chat_stream", e) end
end
local run = assert(vk:run({ agent_id = "agt_driver", session = { id = "sess_1" } }))
check(run:event({ type = "run.started" }), "agent event")
check(run:chat(chat), "run chat")
fails("validation", "tracking header CR LF", vk.gateway:chat({ model = chat.model, messages = chat.messages,
  agent_id = "a\r\nb" }))

-- closes: explicit, twice, use after close, <close>, and clients left to the collector
vk:close()
vk:close()
do -- a call on a closed client returns nil, err (config), like a closed transport
  local ok, got, cerr = pcall(vk.call, vk, "cockpit.scope")
  check(ok and got == nil and cerr.kind == "config", "call after close returns a config error", cerr)
end
check(load([[
  local new = ...
  do local c <close> = new("vk_agent"); assert(c.cockpit:health()) end
  return true
]])(new), "<close>")
for _ = 1, 20 do new("vk_agent").cockpit:health() end
pat, jwt, run, st = nil, nil, nil, nil -- luacheck: ignore 311
collectgarbage()
collectgarbage()

emu:stop()
print(("driver: %d checks passed"):format(steps))
os.exit(0, true) -- close the state, so memcheck sees every userdata collected
