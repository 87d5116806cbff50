-- Error paths of the request pipeline reached through the public API against the
-- emulator: an exchange that gives up before sending, a 401 dropping a virtual key's
-- cached workspace, bodies that cannot be encoded (client:call and client:batch), batch
-- lists with holes, client:request's argument checks and a failed scope lookup, and
-- the names the call option `extra` refuses. Each refusal: its kind, its exact message
-- (or a precise pattern) and nothing sent (the emulator's request log).
local emulator = require "spec.support.emulator"
local refused = require("spec.support.assert").refused

describe("error paths #integration", function()
  local emu = emulator.session()
  local today = os.date("!%Y-%m-%d")

  local function nothing_sent(filter)
    assert.same({}, emu:requests(filter), "nothing may be sent")
  end

  -- A clock that only a sleep moves: a rate-limited call waits on it, in no real time.
  local function fake_time()
    local t = { now = 1000 }
    return { clock = function() return t.now end, sleep = function(s) t.now = t.now + s end }
  end

  describe("an exchange that gives up", function()
    it("before its first attempt (the rate limiter's wait outlasts the deadline): a timeout, nothing sent", function()
      local time = fake_time()
      local c = emu:client("pat_read", { rate_limit_rpm = 1, deadline = 5, clock = time.clock, sleep = time.sleep })
      assert(c.agents:list{ page_size = 1 }) -- takes the bucket's only token
      emu:reset()
      local err = refused("timeout", nil, nil, c.agents:list{ page_size = 1 })
      assert.equal("agents.list: the deadline passed before the request could be sent", err.message)
      assert.equal("agents.list", err.endpoint)
      assert.is_true(err.retryable)
      assert.equal(0, err.attempts, "no attempt reached the server")
      nothing_sent()
    end)

    it("in a batch: the slot that could not be sent in time gets the timeout, the other its answer", function()
      local time = fake_time()
      local c = emu:client("pat_read", { rate_limit_rpm = 1, deadline = 5, clock = time.clock, sleep = time.sleep })
      local results = c:batch({ { "agents.list", { page_size = 1 } }, { "members.list" } })
      assert.is_table(results[1].data, tostring(results[1].err))
      local err = refused("timeout", nil, nil, results[2].data, results[2].err)
      assert.equal("members.list: the deadline passed before the request could be sent", err.message)
      assert.equal(0, err.attempts)
      assert.equal(1, #emu:requests("/api/v1/agents"))
      nothing_sent("/api/v1/members")
    end)

    it("a gateway call never sent carries no request id (in a call and in a batch)", function()
      local time = fake_time()
      local c = emu:client("vk_agent", { rate_limit_rpm = 1, deadline = 5, clock = time.clock, sleep = time.sleep })
      local chat = { model = "openai/gpt-4o-mini", messages = { { role = "user", content = "hi" } } }
      local _, _, meta = assert(c.gateway:chat(chat))
      assert.is_string(meta.request_id)
      local err = refused("timeout", nil, nil, c.gateway:chat(chat))
      assert.equal("gateway.chat: the deadline passed before the request could be sent", err.message)
      assert.is_nil(err.request_id, "nothing was sent: no request id to look up")
      local results = c:batch({ { "gateway.chat", chat } })
      err = refused("timeout", nil, nil, results[1].data, results[1].err)
      assert.is_nil(err.request_id, "nothing was sent: no request id to look up")
      assert.equal(1, #emu:requests("/v1/chat/completions"))
    end)
  end)

  describe("a 401 on a route the virtual key's workspace was resolved for", function()
    it("drops the cached workspace: the next call looks it up again", function()
      local c = emu:client("vk_agent")
      assert(c.collector:usage{ from = today, to = today })
      assert(c.collector:usage{ from = today, to = today })
      assert.equal(1, #emu:requests("/api/v1/cockpit/scope"), "the workspace is cached")
      assert.is_table(c:context())
      emu:arm({ fault = "status=401", count = 1, path = "/v1/analytics/saas/usage" })
      local _, err = c.collector:usage{ from = today, to = today }
      assert.equal("auth", err.kind, tostring(err))
      assert.equal(401, err.status)
      assert.matches("^GET collector%.usage answered HTTP 401: Emulated fault: HTTP 401", err.message)
      assert.is_nil(c:context(), "the 401 dropped the cached workspace")
      assert(c.collector:usage{ from = today, to = today })
      assert.equal(2, #emu:requests("/api/v1/cockpit/scope"), "looked up again after the 401")
      assert.is_table(c:context())
    end)
  end)

  describe("a body that cannot be encoded", function()
    it("client:call: NaN or a function in extra or inside an open body, refused before sending", function()
      local c = emu:client("pat_write")
      local err = refused("validation", "body.x", nil, c.agents:create({ name = "nan" }, { extra = { x = 0 / 0 } }))
      assert.equal("cannot encode NaN at body.x: JSON has no NaN or infinity", err.message)
      assert.equal("agents.create", err.endpoint)
      err = refused("validation", "body.x", nil, c.agents:create({ name = "fn" }, { extra = { x = print } }))
      assert.equal("cannot encode a function at body.x", err.message)
      local vk = emu:client("vk_agent")
      err = refused("validation", "body.messages[1].content", nil, vk.gateway:chat{ model = "openai/gpt-4o-mini",
        messages = { { role = "user", content = 0 / 0 } } })
      assert.equal("cannot encode NaN at body.messages[1].content: JSON has no NaN or infinity", err.message)
      assert.equal("gateway.chat", err.endpoint)
      err = refused("validation", "body.messages[1].content", nil, vk.gateway:chat{ model = "openai/gpt-4o-mini",
        messages = { { role = "user", content = print } } })
      assert.equal("cannot encode a function at body.messages[1].content", err.message)
      nothing_sent()
    end)

    it("client:batch: the slot gets the error, the other calls go out", function()
      local c = emu:client("pat_write")
      local results = c:batch({
        { "agents.list", { page_size = 1 } },
        { "agents.create", { name = "nan" }, { extra = { x = 0 / 0 } } },
        { "members.list" },
      })
      assert.is_table(results[1].data, tostring(results[1].err))
      local err = refused("validation", "body.x", nil, results[2].data, results[2].err)
      assert.equal("cannot encode NaN at body.x: JSON has no NaN or infinity", err.message)
      assert.equal("agents.create", err.endpoint)
      assert.is_table(results[3].data, tostring(results[3].err))
      nothing_sent({ path = "/api/v1/agents", method = "POST" })
      assert.equal(2, #emu:requests())
    end)
  end)

  describe("a batch list that is not a list", function()
    it("raises for a nil in the middle, names its position, sends nothing", function()
      local c = emu:client("pat_read")
      assert.has_error(function() c:batch({ { "agents.list" }, nil, { "members.list" } }) end,
        "alephant: batch: call 2 must be a table { name, params, opts }, got nil")
      nothing_sent()
    end)

    it("raises for a call past a hole (# cannot see it) instead of dropping it", function()
      local c = emu:client("pat_read")
      local calls = { { "agents.list" } }
      calls[4] = { "members.list" }
      -- # may stop at the hole (1) or see past it (4, LuaJIT): either way the batch raises
      -- instead of leaving the call at 4 unsent and unanswered
      assert.has_error(function() c:batch(calls) end, #calls == 1
        and "alephant: batch: calls must be a list (keys 1 to #calls = 1, no holes), got the key 4"
        or "alephant: batch: call 2 must be a table { name, params, opts }, got nil")
      calls = { { "agents.list" } }
      calls[1000] = { "members.list" }
      assert.equal(1, #calls)
      assert.has_error(function() c:batch(calls) end,
        "alephant: batch: calls must be a list (keys 1 to #calls = 1, no holes), got the key 1000")
      assert.has_error(function() c:batch({ { "agents.list" }, name = "x" }) end,
        "alephant: batch: calls must be a list (keys 1 to #calls = 1, no holes), got the key name")
      nothing_sent()
    end)
  end)

  describe("client:request's arguments", function()
    local c
    before_each(function() c = emu:client("pat_read") end)

    it("raises for a path that is not a string", function()
      assert.has_error(function() c:request("GET", 5) end, "alephant: request: path must be a string, got number")
      assert.has_error(function() c:request("GET") end, "alephant: request: path must be a string, got nil")
      nothing_sent()
    end)

    it("raises for each option of the wrong type, naming it", function()
      for name, case in pairs({ query = { "x", "table" }, headers = { "x", "table" }, api = { 1, "string" },
        deadline = { "1", "number" }, timeout = { "1", "number" }, retry = { 1, "boolean" } }) do
        assert.has_error(function() c:request("GET", "/api/v1/agents", { [name] = case[1] }) end,
          ("alephant: request option '%s' must be a %s"):format(name, case[2]))
      end
      nothing_sent()
    end)

    it("refuses an empty or non-string query name and a NaN or infinite value", function()
      for _, q in ipairs({ { [""] = 1 }, { [1] = "a" } }) do
        local err = refused("validation", "query", nil, c:request("GET", "/api/v1/agents", { query = q }))
        assert.equal("query: parameter names must be non-empty strings", err.message)
        assert.equal("GET /api/v1/agents", err.endpoint)
      end
      for _, v in ipairs({ 0 / 0, math.huge, -math.huge }) do
        local err = refused("validation", "x", nil, c:request("GET", "/api/v1/agents", { query = { x = v } }))
        assert.equal("query x must be a finite number", err.message)
      end
      nothing_sent()
    end)

    it("with a virtual key whose workspace lookup fails: the lookup's error, the route never sent", function()
      emu:arm({ fault = "status=401", count = 1, path = "/api/v1/cockpit/scope" })
      local vk = emu:client("vk_agent")
      local err = refused("auth", nil, nil, vk:request("GET", "/v1/analytics/saas/usage",
        { query = { dateFrom = today, dateTo = today } }))
      assert.equal(401, err.status)
      assert.matches("GET cockpit%.scope answered HTTP 401: Emulated fault: HTTP 401 %(check the token%)", err.message)
      assert.is_nil(tostring(err):find(emu.tokens.vk_agent, 1, true))
      assert.equal(1, #emu:requests("/api/v1/cockpit/scope"))
      nothing_sent("/v1/analytics")
    end)
  end)

  describe("the call option extra", function()
    local c
    before_each(function() c = emu:client("pat_write") end)

    local function extra_refused(field, message, fields, method, params)
      local err = refused("validation", field, nil, c.agents[method or "list"](c.agents, params or {},
        { extra = fields }))
      assert.equal(message, err.message)
      assert.equal(method == "create" and "agents.create" or "agents.list", err.endpoint)
    end

    it("refuses names that are not non-empty strings", function()
      extra_refused("extra", "agents.list: extra: field names must be non-empty strings", { [1] = "a" })
      extra_refused("extra", "agents.list: extra: field names must be non-empty strings", { [""] = "a" })
      extra_refused("extra", "agents.list: extra: field names must be non-empty strings", { [true] = "a" })
      nothing_sent()
    end)

    it("refuses a name with a control byte, naming its position, never echoing it", function()
      extra_refused("extra", "agents.list: extra: extra must not contain NUL (byte 0x00 at position 2): "
        .. "it would end up in an HTTP header", { ["a\0b"] = 1 })
      extra_refused("extra", "agents.create: extra: extra must not contain LF (byte 0x0A at position 2): "
        .. "it would end up in an HTTP header", { ["a\nb"] = 1 }, "create", { name = "x" })
      nothing_sent()
    end)

    it("refuses a name the endpoint already has, by its Lua or its wire name", function()
      extra_refused("page_size", "agents.list: extra: 'page_size' is a parameter of agents.list: pass it as a "
        .. "parameter, where it is checked", { page_size = 5 })
      extra_refused("pageSize", "agents.list: extra: 'pageSize' is a parameter of agents.list: pass it as a "
        .. "parameter, where it is checked", { pageSize = 5 })
      extra_refused("name", "agents.create: extra: 'name' is a parameter of agents.create: pass it as a "
        .. "parameter, where it is checked", { name = "y" }, "create", { name = "x" })
      nothing_sent()
    end)

    it("refuses query values the query string cannot carry", function()
      extra_refused("x", "agents.list: extra: query x: a table value must be a non-empty array", { x = { y = 1 } })
      extra_refused("x", "agents.list: extra: query x must be a finite number", { x = 0 / 0 })
      extra_refused("x", "agents.list: extra: query x must be a string, number, boolean or an array of them, "
        .. "got function", { x = print })
      nothing_sent()
    end)

    it("raises when extra is not a table", function()
      assert.has_error(function() c.agents:list({}, { extra = "x" }) end,
        "alephant: call option 'extra' must be a table")
      nothing_sent()
    end)
  end)
end)
