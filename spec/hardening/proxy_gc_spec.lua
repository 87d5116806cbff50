-- Every public C function of alephant.core fed proxy tables whose __index hands out
-- fresh strings (strings nothing else references) and runs a full collection first,
-- plus numbers where strings are read (Lua converts them on the stack only). A binding
-- that keeps a `const char *` after the value left the stack reads freed memory here:
-- `make check-asan` (ASan) and `make check-valgrind` (memcheck) turn that into a failure;
-- without them the results are still checked.
--
-- Each function has a case below; a function added to the module without one fails the
-- first test, so new bindings are stressed too.
local core = require "alephant.core"

local function fresh(s) -- a new string object with the same contents
  return (s .. "\0"):sub(1, #s)
end

-- A table that holds nothing itself: every read goes through __index, which collects
-- garbage, then returns a fresh copy of a string (or a proxy of a sub-table).
local function proxy(t)
  return setmetatable({}, {
    __index = function(_, k)
      collectgarbage()
      collectgarbage()
      local v = t[k]
      if type(v) == "string" then return fresh(v) end
      if type(v) == "table" then return proxy(v) end
      return v
    end,
  })
end

local PAT = "pat_" .. string.rep("a", 40)
local WS = "8d3f7c5e-2a1b-4c6d-9e8f-0a1b2c3d4e5f"
local VK = "vk-" .. string.rep("b", 40)
local DEAD = "http://127.0.0.1:1/" -- refused at once: no server needed

local function state_opts(token, extra)
  local t = { token = token, base_url = "https://alephant.io", analytics_url = "https://analytics.alephant.io",
    gateway_url = "https://ai.alephant.io/v1" }
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

local cases = {
  array = function()
    local t = core.array({ fresh("a") })
    assert.equal(core.array_mt, getmetatable(t))
    assert.equal('["a"]', core.json_encode(t))
  end,
  auth_headers = function()
    local h = assert(core.auth_headers(fresh(PAT), "analytics", fresh("/api/v1/usage"), fresh(WS)))
    assert.equal("Bearer " .. PAT, h.Authorization)
  end,
  check_base_url = function()
    assert.equal("https://alephant.io", core.check_base_url(fresh("https://alephant.io/"), fresh("base_url")))
    assert.equal("base_url", select(2, core.check_base_url(fresh("ftp://x"), fresh("base_url"))).field)
  end,
  url_append_query = function()
    local url = core.url_append_query(fresh("https://x.io/a"), { { fresh("b"), fresh("c d") } })
    assert.equal("https://x.io/a?b=c%20d", url)
    assert.has_error(function() core.url_append_query(fresh("https://x.io/a"), { { fresh("b"), 1 } }) end)
  end,
  check_proxy = function()
    assert.is_true(core.check_proxy(fresh("http://127.0.0.1:3128")))
    assert.equal("config", select(2, core.check_proxy(fresh("ftp://user:secret@proxy"))).kind)
  end,
  check_client = function() assert.equal("pat", assert(core.check_client(fresh(PAT), fresh(WS))).kind) end,
  check_fresh = function() assert.is_true(core.check_fresh(fresh(PAT))) end,
  closest = function()
    assert.equal("usage", core.closest(fresh("usgae"), { fresh("costs"), fresh("usage") }))
    -- candidates are read raw: a proxy list has none; a number word is converted on the stack
    assert.is_nil(core.closest(fresh("usgae"), proxy({ "usage" })))
    assert.equal("12345", core.closest(12354, { fresh("12345") }))
  end,
  endpoints = function() assert.is_true(#core.endpoints() > 0) end,
  enums = function() assert.is_table(core.enums().period) end,
  http_info = function() assert.is_string(core.http_info().curl_version) end,
  http_new = function()
    local h = assert(core.http_new(proxy({ timeout = 2, user_agent = "proxy-agent/1", cafile = nil, proxy = "" })))
    -- the request table and its headers through __index; the connection is refused
    local res, err = h:request(proxy({ method = "GET", url = DEAD, headers = { ["X-A"] = fresh("b") } }))
    assert.is_nil(res)
    assert.equal("network", err.kind)
    local s, serr = h:stream(proxy({ method = "POST", url = DEAD, body = fresh("{}") }))
    assert.is_nil(s)
    assert.equal("network", serr.kind)
    -- a started request: read like request's; the refused connection shows at finish
    local pending = assert(h:start(proxy({ method = "POST", url = DEAD, body = fresh("{}"),
      headers = { ["X-A"] = fresh("b") } })))
    local pres, perr = pending:finish()
    assert.is_nil(pres)
    assert.equal("network", perr.kind)
    -- a batch: every request table read through __index, one refused before sending
    local out = h:request_many({ proxy({ url = DEAD, headers = { ["X-A"] = fresh("b") } }),
      proxy({ url = "ftp://example.com/" }) }, 2)
    assert.equal("network", out[1].kind)
    assert.equal("config", out[2].kind)
    h:close()
  end,
  json_decode = function() assert.same({ a = "b" }, core.json_decode(fresh('{"a":"b"}'))) end,
  json_encode = function()
    assert.equal("{}", core.json_encode(proxy({ a = "b" }), fresh("body")))
    assert.equal('{"k":"v"}', core.json_encode({ k = fresh("v") }))
  end,
  monotonic = function() assert.is_number(core.monotonic()) end,
  parse_date = function() assert.equal(1793491200, core.parse_date(fresh("2026-11-01"), fresh("from"))) end,
  parse_datetime = function()
    assert.equal(1793491200.5, core.parse_datetime(fresh("2026-11-01T00:00:00.5Z"), fresh("start")))
  end,
  policy = function() assert.is_string(core.policy("analytics", fresh("/api/v1/usage")).family) end,
  printable = function()
    assert.equal("a\\x1Bb", core.printable(fresh("a\27b"), fresh("line")))
    assert.equal("12", core.printable(12))
  end,
  random = function() assert.is_number(core.random()) end,
  redact = function() assert.is_string(core.redact(fresh(PAT))) end,
  secrets = function()
    local set = core.secrets():add(fresh(VK)):add(12345678901)
    collectgarbage()
    collectgarbage()
    assert.equal("vk-bb…bbbb and …", set:scrub(fresh(VK .. " and 12345678901"))) -- short: nothing shown
    assert.equal(42, set:scrub(42))
    set:close()
  end,
  sleep = function() core.sleep(0) end,
  state_new = function()
    local st = assert(core.state_new(proxy(state_opts(PAT, { workspace_id = WS, scope_ttl = 60 }))))
    assert.matches("alephant.state<pat pat_", tostring(st), 1, true)
    assert.equal("pat", st:token_kind())
    -- prepare walks its params with lua_next (raw): a proxy looks empty to it
    assert.equal("https://alephant.io/api/v1/analytics/usage",
      assert(st:prepare(fresh("analytics.usage"), proxy({ from = "2026-11-01" }))).url)
    local req = assert(st:prepare(fresh("analytics.usage"), { from = fresh("2026-11-01"), to = fresh("2026-11-02") }))
    assert.equal("https://alephant.io/api/v1/analytics/usage?dateFrom=2026-11-01&dateTo=2026-11-02", req.url)
    -- prepare_raw: method, path and query pairs as fresh strings
    req = assert(st:prepare_raw(fresh("GET"), fresh("/api/v1/agents"), nil, { { fresh("page"), fresh("2") } },
      false))
    assert.equal("https://alephant.io/api/v1/agents?page=2", req.url)
    assert.has_error(function()
      st:prepare_raw(fresh("GET"), fresh("/api/v1/agents"), nil, { { fresh("page"), 2 } })
    end)
    st:close()
    -- a virtual key takes its context from a proxy body (both envelopes)
    local vk = assert(core.state_new(proxy(state_opts(VK))))
    assert.is_true(vk:needs_scope())
    local ctx = assert(vk:accept_scope(proxy({ data = { workspace = { id = WS },
      virtual_key = { id = "vk-id-1" }, entity = { id = 42, type = "agent", department_id = "d-1" } } })))
    assert.equal(WS, ctx.workspace_id)
    assert.equal("42", ctx.entity_id)
    assert.equal(WS, vk:context().workspace_id)
    vk:invalidate_scope()
    vk:close()
    -- and refuses a bad token read through the proxy, naming no freed bytes
    local none, err = core.state_new(proxy(state_opts("not-a-token")))
    assert.is_nil(none)
    assert.equal("config", err.kind)
  end,
  token_info = function() assert.equal("pat", core.token_info(fresh(PAT)).kind) end,
  url_host = function() assert.equal("evil.example", core.url_host(fresh("https://u:p@evil.example:1/x?y"))) end,
  uuid4 = function() assert.matches("^%x+%-", core.uuid4()) end,
  validate_date = function() assert.is_true(core.validate_date(fresh("2026-11-01"), fresh("from"))) end,
  validate_date_range = function()
    assert.is_true(core.validate_date_range(fresh("2026-11-01"), fresh("2026-11-02"), fresh("from"), fresh("to")))
  end,
  validate_datetime = function() assert.is_true(core.validate_datetime(fresh("2026-11-01T00:00:00Z"))) end,
  validate_datetime_range = function()
    assert.is_true(core.validate_datetime_range(fresh("2026-11-01T00:00:00Z"), fresh("2026-11-01T01:00:00Z")))
  end,
  validate_enum = function() assert.is_true(core.validate_enum(fresh("period"), fresh("7d"), fresh("period"))) end,
  validate_exclusive = function()
    -- numbers as names: each becomes a string on the stack only; __index collects
    local everything = setmetatable({}, { __index = function() collectgarbage(); collectgarbage(); return true end })
    local ok, err = core.validate_exclusive(everything, { 12345678901, 22345678901, 32345678901 })
    assert.is_nil(ok)
    assert.equal("12345678901 and 22345678901 cannot be combined: pass at most one of "
      .. "12345678901, 22345678901, 32345678901", err.message)
    assert.is_true(core.validate_exclusive(proxy({ agent_id = WS }), { "agent_id", "member_id" }))
  end,
  validate_granularity = function() assert.is_true(core.validate_granularity(fresh("cost"), fresh("hour"))) end,
  validate_header_name = function() assert.is_true(core.validate_header_name(fresh("X-A"), fresh("headers"))) end,
  validate_header_value = function() assert.is_true(core.validate_header_value(fresh("v"), fresh("X-A"))) end,
  validate_integer = function() assert.is_true(core.validate_integer(3, fresh("n"), 1, 5)) end,
  validate_integer_in = function() assert.is_true(core.validate_integer_in(7, fresh("days"), { 1, 7, 30 })) end,
  validate_length = function() assert.is_true(core.validate_length(fresh("abc"), fresh("name"), 1, 5)) end,
  validate_uuid = function() assert.is_true(core.validate_uuid(fresh(WS), fresh("id"))) end,
}

describe("the C binding with proxy tables and a collector between reads", function()
  it("has a case for every public function of alephant.core", function()
    local missing = {}
    for name, v in pairs(core) do
      if type(v) == "function" and not cases[name] then missing[#missing + 1] = name end
    end
    table.sort(missing)
    assert.same({}, missing)
  end)

  it("knows every method of the C objects (a new one needs a case above)", function()
    local function methods(mt)
      local list = {}
      for k in pairs(mt.__index) do list[#list + 1] = k end
      table.sort(list)
      return list
    end
    local st = assert(core.state_new(state_opts(VK)))
    local h = assert(core.http_new())
    -- state: all in the state_new case (prepare_raw in its own); http: request, request_many, start, stream,
    -- close in the http_new case
    assert.same({ "accept_scope", "close", "context", "invalidate_scope", "needs_scope", "prepare", "prepare_raw",
      "token_kind" }, methods(getmetatable(st)))
    assert.same({ "close", "request", "request_many", "start", "stream" }, methods(getmetatable(h)))
    -- a stream's and a started request's methods read no Lua value but the object itself
    assert.same({ "close", "headers", "new_connections", "next", "status" },
      methods(debug.getregistry()["alephant.HttpStream"]))
    assert.same({ "close", "finish" }, methods(debug.getregistry()["alephant.HttpPending"]))
    st:close()
    h:close()
  end)

  for name, run in pairs(cases) do
    it("core." .. name, function()
      assert.is_function(core[name], "core." .. name .. " is gone: remove its case")
      for _ = 1, 3 do run() end
    end)
  end

  it("error tables: __tostring reads numbers and fresh strings through __index", function()
    local long = string.rep("m", 3000) -- the buffer grows (allocates) between fields
    local e = setmetatable({}, {
      __index = function(_, k)
        collectgarbage()
        local v = ({ kind = "http", message = long, status = 404, code = 40401, request_id = "req-1",
          endpoint = "analytics.usage" })[k]
        return type(v) == "string" and fresh(v) or v
      end,
      __tostring = core.error_mt.__tostring,
    })
    for _ = 1, 3 do
      assert.equal("alephant http error: " .. long .. " (status 404, code 40401, request_id req-1, "
        .. "endpoint analytics.usage)", tostring(e))
    end
  end)
end)
