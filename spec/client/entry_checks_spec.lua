-- The checks every way into a request shares (client:call, client:request, client:batch):
-- a closed client and a deadline or timeout that is no duration are `nil, err` before
-- anything is sent; a method called with a dot raises at the caller's line.
local emulator = require "spec.support.emulator"

describe("entry checks #integration", function()
  local emu = emulator.session()
  local THIS = debug.getinfo(1, "S").short_src

  local function refused(kind, message, data, err)
    assert.is_nil(data)
    assert.equal(kind, err.kind, tostring(err))
    assert.equal(message, err.message)
    assert.equal(0, #emu:requests(), "nothing may be sent")
  end

  describe("a closed client", function()
    it("client:request returns a config error", function()
      local c = emu:client("pat_read")
      c:close()
      refused("config", "GET /api/v1/agents: the client is closed; make a new one with alephant.new",
        c:request("GET", "/api/v1/agents"))
    end)

    it("client:batch gives every slot a config error", function()
      local c = emu:client("pat_read")
      c:close()
      local results = c:batch({ { "agents.list" }, { "cockpit.health" } })
      assert.equal(2, #results)
      refused("config", "agents.list: the client is closed; make a new one with alephant.new", results[1].data,
        results[1].err)
      refused("config", "cockpit.health: the client is closed; make a new one with alephant.new", results[2].data,
        results[2].err)
    end)
  end)

  describe("a call option that is no duration", function()
    local problem = "must be a positive number of seconds, at most 2147483, got "
    for _, case in ipairs({ { "timeout", -1, "-1" }, { "deadline", 0, "0" }, { "timeout", 0 / 0, "NaN" },
      { "deadline", 1e9, "1000000000" } }) do
      local k, v, shown = case[1], case[2], case[3]
      it(("client:request returns a validation error for %s = %s"):format(k, shown), function()
        local data, err = emu:client("pat_read"):request("GET", "/api/v1/agents", { [k] = v })
        refused("validation", ("GET /api/v1/agents: call option '%s' %s%s"):format(k, problem, shown), data, err)
        assert.equal(k, err.field)
      end)

      it(("client:call and client:batch return the same error for %s = %s"):format(k, shown), function()
        local c = emu:client("pat_read")
        local want = ("agents.list: call option '%s' %s%s"):format(k, problem, shown)
        refused("validation", want, c:call("agents.list", nil, { [k] = v }))
        local r = c:batch({ { "agents.list", nil, { [k] = v } } })[1]
        refused("validation", want, r.data, r.err)
      end)
    end
  end)

  describe("a method called with a dot", function()
    for _, case in ipairs({ { "request", { "GET", "/api/v1/agents" } }, { "batch", { { { "agents.list" } } } },
      { "call", { "agents.list" } } }) do
      local method, args = case[1], case[2]
      it(("raises for client.%s at the caller's line"):format(method), function()
        local c = emu:client("pat_read")
        local line = debug.getinfo(1, "l").currentline + 1
        local ok, msg = pcall(function() c[method](args[1], args[2]) end)
        assert.is_false(ok)
        assert.equal(("%s:%d: alephant: call methods with a colon: client:%s(...), not client.%s(...)")
          :format(THIS, line, method, method), msg)
        assert.equal(0, #emu:requests(), "nothing may be sent")
      end)
    end
  end)

  describe("programmer errors of client:batch", function()
    it("raise at the caller's line", function()
      local c = emu:client("pat_read")
      local line = debug.getinfo(1, "l").currentline + 1
      local ok, msg = pcall(function() c:batch({ 5 }) end)
      assert.is_false(ok)
      assert.equal(("%s:%d: alephant: batch: call 1 must be a table { name, params, opts }, got number")
        :format(THIS, line), msg)
      line = debug.getinfo(1, "l").currentline + 1
      ok, msg = pcall(function() c:batch({ { "agents.list" } }, { max = 1 }) end)
      assert.is_false(ok)
      assert.equal(("%s:%d: alephant: unknown batch option 'max' (known: max_concurrency)"):format(THIS, line), msg)
    end)
  end)

  describe("programmer errors of client:run", function()
    it("raise at the caller's line", function()
      local c = emu:client("pat_read")
      local line = debug.getinfo(1, "l").currentline + 1
      local ok, msg = pcall(function() c:run(5) end)
      assert.is_false(ok)
      assert.equal(("%s:%d: alephant: client:run: options must be a table, got number"):format(THIS, line), msg)
    end)
  end)
end)
