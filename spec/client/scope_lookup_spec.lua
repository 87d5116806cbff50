-- The virtual key's scope lookup (cockpit.scope before an Analytics call) is a request
-- of its own: never the call's headers or request id, only what remains of the call's
-- deadline; in a batch a failed lookup is made once and every call that needed it gets
-- its error. Asserted on what the emulator received.
local emulator = require "spec.support.emulator"

describe("the scope lookup #integration", function()
  local emu = emulator.session()
  local today = os.date("!%Y-%m-%d")
  local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
  after_each(function() emu:disarm() end)

  local function lookup_and_call(path)
    local scope = emu:requests("/api/v1/cockpit/scope")
    local sent = emu:requests(path)
    assert.equal(1, #scope)
    assert.equal(1, #sent)
    return scope[1], sent[1]
  end

  -- the call carried its own headers and request id; the lookup carried neither
  local function assert_lookup_kept_apart()
    local scope, call = lookup_and_call("/v1/analytics/saas/usage")
    assert.equal("rid-of-the-call", call.headers["x-request-id"])
    assert.equal("mine", call.headers["x-custom"])
    assert.is_nil(scope.headers["x-custom"])
    assert.matches(UUID, scope.headers["x-request-id"])
  end

  it("does not send client:request's headers or request id", function()
    local c = emu:client("vk_agent")
    local data, err = c:request("GET", "/v1/analytics/saas/usage", { query = { dateFrom = today, dateTo = today },
      headers = { ["X-Request-Id"] = "rid-of-the-call", ["X-Custom"] = "mine" }, deadline = 30 })
    assert.is_table(data, tostring(err))
    assert_lookup_kept_apart()
  end)

  it("does not send client:call's headers or request id", function()
    local c = emu:client("vk_agent")
    local data, err = c.collector:usage({ from = today, to = today },
      { headers = { ["x-request-id"] = "rid-of-the-call", ["X-Custom"] = "mine" } })
    assert.is_table(data, tostring(err))
    assert_lookup_kept_apart()
  end)

  -- timing is the behaviour here: the lookup takes 0.6 s of a 1 s deadline, the call
  -- itself another 0.6 s, which only a fresh deadline would allow
  it("leaves the call what remains of its deadline", function()
    emu:arm({ fault = "stall=600", count = 1, path = "/api/v1/cockpit/scope" })
    emu:arm({ fault = "stall=600", count = 1, path = "/v1/analytics/saas/usage" })
    local c = emu:client("vk_agent", { max_retries = 0 })
    local data, err = c:request("GET", "/v1/analytics/saas/usage", { query = { dateFrom = today, dateTo = today },
      deadline = 1 })
    assert.is_nil(data)
    assert.equal("timeout", err.kind, tostring(err))
    assert.is_table(c:context(), "the lookup itself succeeded")
  end)

  it("in a batch, is made once when it fails: every call that needs it gets its error", function()
    emu:arm({ fault = "status=500", count = 10, path = "/api/v1/cockpit/scope" })
    local c = emu:client("vk_agent", { max_retries = 0 })
    local calls = {}
    for i = 1, 4 do calls[i] = { "collector.usage", { from = today, to = today } } end
    local results = c:batch(calls)
    assert.equal(1, #emu:requests("/api/v1/cockpit/scope"))
    assert.equal(0, #emu:requests("/v1/analytics/saas/usage"))
    for i, r in ipairs(results) do
      assert.is_nil(r.data)
      assert.equal("http", r.err.kind, tostring(r.err))
      assert.equal(500, r.err.status)
      assert.equal("cockpit.scope", r.err.endpoint)
      if i > 1 then assert.are_not.equal(results[1].err, r.err, "each call gets its own error table") end
    end
  end)

  it("in a batch, is not shared when it timed out on one call's own timeout", function()
    emu:arm({ fault = "stall=1500", count = 1, path = "/api/v1/cockpit/scope" })
    local c = emu:client("vk_agent", { max_retries = 0 })
    local results = c:batch({
      { "collector.usage", { from = today, to = today }, { timeout = 0.3 } },
      { "collector.usage", { from = today, to = today } },
    })
    assert.equal("timeout", results[1].err and results[1].err.kind, tostring(results[1].err))
    assert.equal("cockpit.scope", results[1].err.endpoint)
    assert.is_table(results[2].data, tostring(results[2].err))
    assert.equal(2, #emu:requests("/api/v1/cockpit/scope"))
  end)

  it("counts the wait for a context store against the deadline and tells the store how long it may wait", function()
    local t, waits = { now = 1000 }, {}
    local store = {
      get = function(_, wait)
        waits[#waits + 1] = wait or "none"
        t.now = t.now + 3 -- another holder of the store's lock took 3 s
        return nil, "handle"
      end,
      set = function() end,
    }
    local c = emu:client("vk_agent", { max_retries = 0, context_store = store,
      clock = function() return t.now end, sleep = function(s) t.now = t.now + s end })
    local data, err = c.collector:usage({ from = today, to = today }, { deadline = 2 })
    assert.is_nil(data)
    assert.equal("timeout", err.kind, tostring(err))
    assert.matches("deadline passed before the request could be sent", err.message)
    assert.same({ 2 }, waits)
    assert.equal(0, #emu:requests("/api/v1/cockpit/scope"))
    -- without a deadline the store is told nothing
    t.now, waits = 1000, {}
    data, err = c.collector:usage({ from = today, to = today })
    assert.is_table(data, tostring(err))
    assert.same({ "none" }, waits)
    assert.equal(1, #emu:requests("/api/v1/cockpit/scope"))
  end)
end)
