-- Ordinary slips get an error that says what to write instead, and nothing is sent:
-- the emulator's request log stays empty for every one of them.
local alephant = require "alephant"
local core = require "alephant.core"
local emulator = require "spec.support.emulator"

describe("errors that guide slips #integration", function()
  local emu = emulator.session()
  local WS = emu.ids.workspace_1
  after_each(function() assert.equal(0, #emu:requests(), "a slip sent a request") end)

  -- The options of a client for `token` (any string), without the workspace of a PAT.
  local function opts(token, extra)
    local o = emu:client_opts("vk_agent", extra)
    o.token = token
    return o
  end

  -- The message a function raises, without the position prefix.
  local function raised(f, ...)
    local ok, msg = pcall(f, ...)
    assert.is_false(ok, "did not raise")
    return (tostring(msg):gsub("^[^:]*:%d+: ", ""))
  end

  describe("a mistyped name", function()
    it("of a method names the closest one, not 'attempt to call a nil value'", function()
      local c = emu:client("pat_read")
      assert.equal("alephant: client.analytics has no method 'usgae' (did you mean 'usage'?)",
        raised(function() return c.analytics:usgae{} end))
      assert.equal("alephant: client.virtual_keys has no method 'lst' (did you mean 'list'?)",
        raised(function() return c.virtual_keys:lst() end))
      assert.equal("alephant: client.gateway has no method 'chat_streem' (did you mean 'chat_stream'?)",
        raised(function() return c.gateway:chat_streem{} end))
      assert.equal("alephant: client.analytics has no method 'zzz'", raised(function() return c.analytics:zzz() end))
    end)

    it("of a group or client method names the closest one", function()
      local c = emu:client("pat_read")
      assert.equal("alephant: client has no field 'virtual_key' (did you mean 'virtual_keys'?)",
        raised(function() return c.virtual_key end))
      assert.equal("alephant: client has no field 'analytic' (did you mean 'analytics'?)",
        raised(function() return c.analytic:usage{} end))
      assert.equal("alephant: client has no field 'cal' (did you mean 'call'?)", raised(function() return c:cal() end))
      -- options that were not set read as nil, private fields too
      assert.is_nil(c.deadline)
      assert.is_nil(c.rate_limit_rpm)
      assert.is_nil(c._limiter)
    end)

    it("raises at the caller's line", function()
      local c = emu:client("pat_read")
      local ok, msg = pcall(function() local m = c.analytics.usgae; return m end)
      assert.is_false(ok)
      assert.matches("slips_spec.lua:%d+: alephant: client.analytics has no method 'usgae'", msg)
    end)
  end)

  describe("a method called with a dot", function()
    it("says to call methods with a colon", function()
      local c = emu:client("pat_read")
      assert.equal("alephant: call methods with a colon: client.analytics:usage{...}, not client.analytics.usage{...}",
        raised(function() return c.analytics.usage{ from = "2026-11-01", to = "2026-11-02" } end))
      assert.equal("alephant: call methods with a colon: client.agents:each{...}, not client.agents.each{...}",
        raised(function() return c.agents.each() end))
      assert.equal("alephant: call methods with a colon: client:call(...), not client.call(...)",
        raised(function() return c.call("analytics.usage") end))
      local vk = emu:client("vk_agent")
      assert.equal("alephant: call methods with a colon: client.gateway:chat{...}, not client.gateway.chat{...}",
        raised(function() return vk.gateway.chat{ model = "m", messages = {} } end))
      -- passing the group explicitly is the colon form (here refused before sending)
      local data, err = c.analytics.usage(c.analytics, { from = "2026-13-01", to = "2026-11-02" })
      assert.is_nil(data)
      assert.equal("validation", err and err.kind or "none")
    end)
  end)

  describe("alephant.new", function()
    it("called as alephant:new says to use alephant.new", function()
      assert.equal("alephant.new is a function, not a method: write alephant.new{...}, not alephant:new{...}",
        raised(function() return alephant:new(opts(emu.tokens.vk_agent)) end))
    end)

    it("with the token instead of a table says where the token goes, without showing it", function()
      local msg = raised(alephant.new, emu.tokens.vk_agent)
      assert.equal("alephant.new: options must be a table, got string (a token goes in the table: "
        .. "alephant.new{ token = ... })", msg)
    end)

    it("with api_key (and other names for it) points to token", function()
      for _, name in ipairs({ "api_key", "apiKey", "access_token", "virtual_key" }) do
        local msg = raised(alephant.new, { [name] = emu.tokens.vk_agent })
        assert.matches("unknown option '" .. name .. "': the option is called 'token'", msg, 1, true)
        assert.is_nil(msg:find(emu.tokens.vk_agent, 1, true))
      end
      assert.matches("unknown option 'tokne' (did you mean 'token'?)", raised(alephant.new, { tokne = "x" }), 1, true)
      assert.matches("unknown option 'workspace': the option is called 'workspace_id'",
        raised(alephant.new, { workspace = WS }), 1, true)
    end)
  end)

  describe("the token", function()
    it("is trimmed of spaces and a line end (a token read from a file works)", function()
      for _, padded in ipairs({ emu.tokens.vk_agent .. "\n", "  " .. emu.tokens.vk_agent .. "\r\n",
        "\t" .. emu.tokens.vk_agent .. " " }) do
        local c = assert(alephant.new(opts(padded)))
        assert.equal("virtual_key", c:token_kind())
        local req = assert(c:prepare("cockpit.scope"))
        assert.equal("Bearer " .. emu.tokens.vk_agent, req.headers.Authorization)
      end
      -- whitespace inside is still refused
      local c, err = alephant.new(opts(emu.tokens.vk_agent:sub(1, 6) .. "\n" .. emu.tokens.vk_agent:sub(7)))
      assert.is_nil(c)
      assert.equal("config", err.kind)
      c, err = alephant.new(opts("  \n"))
      assert.is_nil(c)
      assert.matches("token is empty", err.message)
    end)

    it("starting with 'Bearer ' gets a hint", function()
      for _, t in ipairs({ "Bearer " .. emu.tokens.vk_agent, "bearer " .. emu.tokens.pat_read }) do
        local c, err = alephant.new(opts(t, { workspace_id = WS }))
        assert.is_nil(c)
        assert.equal("config", err.kind)
        assert.equal("token", err.field)
        assert.equal("token starts with 'Bearer ': pass the token alone, the client adds the Bearer scheme itself",
          err.message)
      end
    end)
  end)

  describe("a virtual key on an analytics.* route", function()
    it("is told which collector.* route gives it the same data", function()
      local c = emu:client("vk_agent")
      local _, err = c.analytics:usage{ from = "2026-11-01", to = "2026-11-02" }
      assert.equal("auth", err.kind)
      assert.equal("collector.usage", err.instead)
      assert.matches("a virtual key reads the same data with collector.usage (client.collector:usage{...})",
        err.message, 1, true)
      _, err = c.analytics:models{ from = "2026-11-01", to = "2026-11-02" }
      assert.equal("collector.models", err.instead)
      -- no counterpart: no hint
      _, err = c.analytics:overview()
      assert.equal("auth", err.kind)
      assert.is_nil(err.instead)
      assert.is_nil(err.message:find("collector", 1, true))
    end)

    it("takes the pairs from the catalog", function()
      local kinds = {}
      for _, e in ipairs(core.endpoints()) do kinds[e.name] = table.concat(e.kinds, ",") end
      local c = emu:client("vk_agent")
      for name in pairs(kinds) do
        local method = name:match("^analytics%.(.+)$")
        if method and not kinds[name]:find("virtual_key") then
          local _, err = c:call(name, {})
          local other = "collector." .. method
          if kinds[other] and kinds[other]:find("virtual_key") then
            assert.equal(other, err.instead, name)
          else
            assert.is_nil(err.instead, name)
          end
        end
      end
    end)
  end)

  describe("an error made before sending", function()
    it("carries no request id, whatever the call", function()
      local vk = emu:client("vk_agent")
      local cases = {
        { vk.gateway:chat({ model = "openai/gpt-4o-mini", messages = { { role = "user", content = "x" } },
          request_id = "req-1", agent_id = "bad\nid" }) },
        { vk.gateway:chat({ model = "openai/gpt-4o-mini", messages = "not a list", request_id = "req-2" }) },
        { vk.gateway:embeddings({ input = "x", request_id = "req-3" }) },
        { vk.cockpit:usage_summary({ period = "90d" }) },
        { vk.analytics:usage() },
      }
      for i, r in ipairs(cases) do
        assert.is_nil(r[1], "case " .. i)
        assert.is_table(r[2], "case " .. i)
        assert.is_nil(r[2].request_id, "case " .. i .. ": " .. tostring(r[2]))
        assert.is_nil(tostring(r[2]):find("request_id", 1, true), "case " .. i)
      end
      local s = vk.gateway:chat_stream({ model = "openai/gpt-4o-mini", messages = "x", request_id = "req-4" })
      local chunk, err = s()
      assert.is_false(chunk)
      assert.is_nil(err.request_id)
      assert.is_nil(s.request_id)
    end)
  end)
end)
