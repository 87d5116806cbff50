-- The client's hook points against the emulator over the real libcurl transport:
-- on_request/on_response once per HTTP attempt (retries and the scope lookup included),
-- client:around layers, and calls on a closed client.
local alephant = require "alephant"
local config = require "alephant.config"
local core = require "alephant.core"
local hooks = require "alephant.hooks"
local emulator = require "spec.support.emulator"

-- Every string inside a table, recursively (to look for the token).
local function strings(t, out)
  out = out or {}
  for k, v in pairs(t) do
    if type(k) == "string" then out[#out + 1] = k end
    if type(v) == "string" then out[#out + 1] = v elseif type(v) == "table" then strings(v, out) end
  end
  return out
end

describe("hooks.safe_url", function()
  it("keeps a URL without credentials as it is", function()
    local url = "https://analytics.alephant.io/api/v1/analytics/usage?dateFrom=2026-11-01&dateTo=2026-11-27"
    assert.equal(url, hooks.safe_url(url))
    assert.equal("https://alephant.io/api/v1/cockpit/scope", hooks.safe_url("https://alephant.io/api/v1/cockpit/scope"))
  end)

  it("replaces the values of credential-like query parameters and user information", function()
    assert.equal("https://REDACTED@h.example/x?token=REDACTED&from=1&api_key=REDACTED&client-secret=REDACTED"
      .. "&page=2&Access_Token=REDACTED&sig=REDACTED",
      hooks.safe_url("https://user:pw@h.example/x?token=abc&from=1&api_key=zz&client-secret=s3&page=2"
        .. "&Access_Token=t0k&sig=00"))
    assert.equal("http://h/x?key=REDACTED", hooks.safe_url("http://h/x?key=vk-agent-0123#frag"))
  end)
end)

describe("client hooks #integration", function()
  local emu = emulator.session()
  -- retries do not wait here
  local function client(token_name, extra)
    local opts = { sleep = function() end }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return emu:client(token_name, opts)
  end
  local function fault(spec) return { headers = { ["X-Emulator-Fault"] = spec } } end

  -- A client whose hooks record every info they get, in order.
  local function recorded(token_name, extra)
    local seen = {}
    local opts = {
      on_request = function(info) seen[#seen + 1] = { "request", info, info.attempt } end,
      on_response = function(info) seen[#seen + 1] = { "response", info, info.status } end,
    }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return client(token_name, opts), seen
  end

  describe("on_request and on_response", function()
    it("describe one attempt: endpoint, method, URL, attempt, request id, status, duration", function()
      local c, seen = recorded("pat_read")
      local data, err, meta = c.analytics:usage{ from = "2026-11-01", to = "2026-11-02" }
      assert.is_table(data, tostring(err))
      assert.equal(2, #seen)
      assert.equal("request", seen[1][1])
      assert.equal("response", seen[2][1])
      local info = seen[2][2]
      assert.equal("analytics.usage", info.endpoint)
      assert.equal("GET", info.method)
      assert.equal(emu.analytics_url .. "/api/v1/analytics/usage?dateFrom=2026-11-01&dateTo=2026-11-02", info.url)
      assert.equal(1, info.attempt)
      assert.equal(200, info.status)
      assert.is_true(info.ok)
      assert.is_nil(info.error)
      assert.is_number(info.duration)
      assert.is_true(info.duration >= 0)
      assert.equal(meta.request_id, info.request_id)
      assert.equal(info.request_id, emu:requests("/api/v1/analytics/usage")[1].headers["x-request-id"])
    end)

    it("never hold the token or a header", function()
      local c, seen = recorded("vk_agent")
      assert(c.cockpit:budget_status())
      assert.is_true(#seen >= 2)
      for _, s in ipairs(seen) do
        assert.is_nil(s[2].headers)
        for _, text in ipairs(strings(s[2])) do
          assert.is_nil(text:find(emu.tokens.vk_agent, 1, true))
          assert.is_nil(text:find("Bearer", 1, true))
        end
      end
    end)

    it("report the virtual key's scope lookup as an attempt of its own", function()
      local c, seen = recorded("vk_agent")
      local today = os.date("!%Y-%m-%d")
      assert(c.collector:usage{ from = today, to = today })
      local endpoints = {}
      for _, s in ipairs(seen) do endpoints[#endpoints + 1] = s[1] .. " " .. s[2].endpoint end
      assert.same({ "request cockpit.scope", "response cockpit.scope", "request collector.usage",
        "response collector.usage" }, endpoints)
    end)

    it("run once per retry, with the failed attempts' status and error", function()
      local c, seen = recorded("vk_agent")
      local data, err, meta = c.cockpit:scope(nil, fault("status=503;count=2"))
      assert.is_table(data, tostring(err))
      assert.equal(3, meta.attempts)
      local trail = {}
      for _, s in ipairs(seen) do trail[#trail + 1] = s[1] .. " " .. s[3] end
      assert.same({ "request 1", "response 503", "request 2", "response 503", "request 3", "response 200" }, trail)
      local first = seen[2][2]
      assert.is_false(first.ok)
      assert.equal("http", first.error.kind)
      assert.equal(1, first.error.attempts)
      assert.is_true(seen[6][2].ok)
      -- the same request id on every attempt
      assert.equal(seen[1][2].request_id, seen[5][2].request_id)
    end)

    it("report a network failure with no status and the error", function()
      local seen = {}
      local c = client("pat_read", { base_url = "http://127.0.0.1:1", analytics_url = "http://127.0.0.1:1",
        max_retries = 0,
        on_response = function(info) seen[#seen + 1] = info end })
      local data, err = c.analytics:usage{ from = "2026-11-01", to = "2026-11-02" }
      assert.is_nil(data)
      assert.equal("network", err.kind)
      assert.equal(1, #seen)
      assert.is_nil(seen[1].status)
      assert.is_false(seen[1].ok)
      assert.equal(err, seen[1].error)
    end)

    it("see the requests of client:batch too", function()
      local c, seen = recorded("pat_read")
      local results = c:batch({
        { "analytics.usage", { from = "2026-11-01", to = "2026-11-02" } },
        { "analytics.overview" },
      })
      assert.is_table(results[1].data, tostring(results[1].err))
      assert.is_table(results[2].data, tostring(results[2].err))
      local by_endpoint = {}
      for _, s in ipairs(seen) do
        if s[1] == "response" then by_endpoint[s[2].endpoint] = s[2] end
      end
      assert.equal(200, by_endpoint["analytics.usage"].status)
      assert.equal(results[1].meta.request_id, by_endpoint["analytics.usage"].request_id)
      assert.equal(200, by_endpoint["analytics.overview"].status)
      assert.equal(4, #seen)
    end)

    it("are not called for a call refused before any request", function()
      local c, seen = recorded("pat_read")
      local data, err = c.analytics:usage{ from = "2026-11-02", to = "2026-11-01" }
      assert.is_nil(data)
      assert.equal("validation", err.kind)
      assert.equal(0, #seen)
    end)

    it("raise what the hook raises to the caller", function()
      local c = client("pat_read", { on_request = function() error("metrics backend down", 0) end })
      assert.has_error(function() c.analytics:usage{ from = "2026-11-01", to = "2026-11-02" } end,
        "metrics backend down")
    end)

    it("must be functions", function()
      assert.has_error(function() alephant.new{ token = emu.tokens.vk_agent, on_request = "print" } end,
        "alephant.new: option 'on_request' must be a function, got string")
      assert.has_error(function() alephant.new{ token = emu.tokens.vk_agent, on_response = {} } end,
        "alephant.new: option 'on_response' must be a function, got table")
    end)
  end)

  describe("client:around", function()
    it("sees every call after its arguments are checked, and returns what the call returns", function()
      local c = client("vk_agent")
      local names = {}
      assert.equal(c, c:around(function(call, name, params, opts)
        names[#names + 1] = name
        assert.is_table(opts)
        return call(name, params, opts)
      end))
      local data, err, meta = c.cockpit:scope()
      assert.is_table(data, tostring(err))
      assert.equal(200, meta.status)
      assert(c:call("cockpit.budget_status"))
      assert.same({ "cockpit.scope", "cockpit.budget_status" }, names)
    end)

    it("gives each call made without options a table of its own, which a layer may write to", function()
      local c = client("vk_agent")
      local seen = {}
      c:around(function(call, name, params, opts)
        seen[#seen + 1] = opts.timeout or "none"
        opts.timeout = 7 -- this call's only
        return call(name, params, opts)
      end)
      assert(c.cockpit:scope())
      assert(c.cockpit:budget_status())
      assert(c:call("cockpit.budget_status"))
      assert.same({ "none", "none", "none" }, seen)
    end)

    it("shares one empty options table between calls without options, and refuses a write to it", function()
      local c = client("vk_agent")
      local a = c:_check("cockpit.scope", nil, nil, 1)
      local b = c:_check("cockpit.budget_status", nil, nil, 1)
      assert.equal(a, b) -- no table made per call
      assert.is_nil(next(a))
      local ok, err = pcall(function() a.timeout = 7 end)
      assert.is_false(ok)
      assert.matches("alephant: internal: the shared empty call options were written %(timeout%)", err)
      assert.is_nil(rawget(a, "timeout"))
    end)

    it("answers without a request when a layer does not call on", function()
      local c = client("vk_agent")
      c:around(function(call, name, params, opts)
        if name == "cockpit.budget_status" then return { cached = "yes" }, nil, { cached = true } end
        return call(name, params, opts)
      end)
      local data, _, meta = c.cockpit:budget_status()
      assert.same({ cached = "yes" }, data)
      assert.is_true(meta.cached)
      assert.equal(0, #emu:requests("/api/v1/cockpit/"))
    end)

    it("runs the last layer added first", function()
      local c = client("vk_agent")
      local order = {}
      c:around(function(call, ...) order[#order + 1] = "first"; return call(...) end)
      c:around(function(call, ...) order[#order + 1] = "second"; return call(...) end)
      assert(c.cockpit:scope())
      assert.same({ "second", "first" }, order)
    end)

    it("carries a layer's error back as nil, err", function()
      local c = client("vk_agent")
      c:around(function() return nil, alephant.errors.new("config", "not from this phase") end)
      local data, err = c.cockpit:scope()
      assert.is_nil(data)
      assert.equal("not from this phase", err.message)
      local items = {}
      for item, ierr in c.virtual_keys:each() do items[#items + 1] = { item, ierr } end
      assert.equal(1, #items)
      assert.is_false(items[1][1])
      assert.equal("not from this phase", items[1][2].message)
    end)

    it("raises programmer errors before any layer runs, and needs a function", function()
      local c = client("vk_agent")
      local ran = false
      c:around(function(call, ...) ran = true; return call(...) end)
      assert.has_error(function() c:call(42) end, "alephant: endpoint name must be a string")
      assert.has_error(function() c.cockpit:scope("x") end,
        "alephant: cockpit.scope: params must be a table, got string")
      assert.is_false(ran)
      assert.has_error(function() c:around("log") end,
        "alephant: client:around needs a function(call, name, params, opts), got string")
    end)
  end)

  describe("a closed client", function()
    it("returns nil, err from every call, as a closed transport does", function()
      local c = client("vk_agent")
      assert(c.cockpit:scope())
      c:close()
      local data, err = c.cockpit:budget_status()
      assert.is_nil(data)
      assert.equal("config", err.kind)
      assert.equal("cockpit.budget_status", err.endpoint)
      assert.equal("cockpit.budget_status: the client is closed; make a new one with alephant.new", err.message)
      assert.is_false(err.retryable)
      data, err = c:call("cockpit.scope")
      assert.is_nil(data)
      assert.equal("config", err.kind)
      local req
      req, err = c:prepare("cockpit.scope")
      assert.is_nil(req)
      assert.equal("config", err.kind)
      for item, ierr in c.virtual_keys:each() do
        assert.is_false(item)
        assert.equal("config", ierr.kind)
      end
      -- and the transport it closed says the same in its own words
      local http = core.http_new()
      http:close()
      local res, terr = http:request{ method = "GET", url = emu.saas_url .. "/" }
      assert.is_nil(res)
      assert.equal("transport is closed", terr.message)
    end)

    it("still answers what it knows without its token, and closes twice", function()
      local c = client("vk_agent")
      assert(c.cockpit:scope())
      c:close()
      c:close()
      assert.equal("virtual_key", c:token_kind())
      assert.is_nil(c:context())
      assert.is_nil(c:redacted_token())
      assert.equal("alephant.client<closed>", tostring(c))
      assert.equal(1, #emu:requests("/api/v1/cockpit/"))
    end)
  end)
end)

describe("config.transport_options", function()
  it("hands every core.http_new option the settings have, and nothing else", function()
    assert.is_true(#core.http_options >= 5)
    local settings = { token = "secret", timeout = 5, connect_timeout = 2, cafile = "/ca.pem",
      allow_insecure_http = true, max_retries = 3 }
    local opts = config.transport_options(settings)
    assert.same({ timeout = 5, connect_timeout = 2, cafile = "/ca.pem", allow_insecure_http = true }, opts)
    for _, name in ipairs(core.http_options) do
      settings[name] = settings[name] == nil and "x" or settings[name]
    end
    for name in pairs(config.transport_options(settings)) do
      local known = false
      for _, k in ipairs(core.http_options) do known = known or k == name end
      assert.is_true(known, name)
    end
  end)

  it("are the options core.http_new takes", function()
    local opts = {}
    for _, name in ipairs(core.http_options) do opts[name] = nil end
    opts.bogus = 1
    local ok, msg = pcall(core.http_new, opts)
    assert.is_false(ok)
    for _, name in ipairs(core.http_options) do assert.matches(name, msg, 1, true) end
  end)
end)
