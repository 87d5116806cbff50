-- Header and path injection through the public client API, against the emulator: CR/LF
-- and other control characters wherever a value becomes a header (token, workspace id,
-- tracking options, call-option headers) are refused before anything is sent; values
-- that become part of the URL (path parameters, query parameters) are percent-encoded,
-- asserted on the request target the emulator received (`uri`, nothing decoded).
local alephant = require "alephant"
local emulator = require "spec.support.emulator"
local refused = require("spec.support.assert").refused

describe("injection #integration", function()
  local emu = emulator.session()
  local function opts_for(token_name, extra)
    local opts = { max_retries = 0 }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return emu:client_opts(token_name, opts)
  end
  local function client(token_name, extra) return emu:client(token_name, opts_for(token_name, extra)) end

  -- A transport that records what the client hands it, then sends it for real.
  local function recording(c)
    local seen = {}
    local real = c._transport
    c._transport = { request = function(_, r)
      seen[#seen + 1] = r
      return real:request(r)
    end, close = function() real:close() end }
    return seen
  end

  local bad_values = {
    ["CR LF and a second header"] = "x\r\nX-Evil: 1",
    ["a bare LF"] = "x\nX-Evil: 1",
    ["a bare CR"] = "x\rX-Evil: 1",
    ["NUL"] = "x\0y",
    ["another control character"] = "x\1y",
    ["DEL"] = "x\127y",
  }

  describe("into headers", function()
    it("refuses a token or workspace id with control characters when the client is made", function()
      for what, v in pairs(bad_values) do
        local _, err = alephant.new(opts_for("vk_agent", { token = emu.tokens.vk_agent .. v }))
        refused("config", "token", nil, nil, err)
        _, err = alephant.new(opts_for("pat_read", { workspace_id = emu.ids.workspace_1 .. v }))
        refused("config", "workspace_id", nil, nil, err)
        _, err = alephant.new(opts_for("vk_agent", { base_url = emu.saas_url .. v }))
        assert.equal("config", err.kind, what)
      end
      assert.equal(0, #emu:requests())
    end)

    it("refuses control characters in call-option header values, whatever the transport", function()
      local c = client("vk_agent")
      local seen = recording(c)
      for what, v in pairs(bad_values) do
        local err = refused("validation", "headers", nil, c.cockpit:scope(nil, { headers = { ["X-Note"] = v } }))
        assert.equal("cockpit.scope", err.endpoint, what)
        assert.matches("position", err.message)
      end
      assert.equal(0, #seen, "the transport was never called")
      assert.equal(0, #emu:requests())
    end)

    it("refuses header names that are not HTTP tokens", function()
      local c = client("vk_agent")
      for _, name in ipairs({ "X-Note\r\nX-Evil", "X Note", "X-Note:", "", "X-Nöte", "X-Note\0" }) do
        refused("validation", "headers", nil, c.cockpit:scope(nil, { headers = { [name] = "1" } }))
      end
      assert.equal(0, #emu:requests())
    end)

    it("refuses call headers the client owns: the credential and the framing", function()
      local c = client("vk_agent")
      for _, name in ipairs({ "Authorization", "authorization", "AUTHORIZATION", "Content-Length",
        "Transfer-Encoding" }) do
        local err = refused("validation", "headers", nil, c.cockpit:scope(nil, { headers = { [name] = "x" } }))
        assert.matches("set by the client", err.message)
      end
      assert.equal(0, #emu:requests())
    end)

    it("raises on header names or values that are not strings", function()
      local c = client("vk_agent")
      assert.has_error(function() c.cockpit:scope(nil, { headers = { ["X-Count"] = 5 } }) end)
      assert.has_error(function() c.cockpit:scope(nil, { headers = { "positional" } }) end)
      assert.equal(0, #emu:requests())
    end)

    it("sends a call header in place of the request's own, compared without case", function()
      local c = client("vk_agent")
      local rid = "6c1d3f0e-1111-4222-8333-444455556666"
      assert(c.cockpit:scope(nil, { headers = { ["X-REQUEST-ID"] = rid, ACCEPT = "application/json" } }))
      local r = emu:requests("/api/v1/cockpit/scope")[1]
      assert.equal(rid, r.headers["x-request-id"]) -- one value, not a list of two
      assert.equal("application/json", r.headers["accept"])
      assert.equal(rid, r.request_id)
    end)

    it("refuses control characters in tracking options that become gateway headers", function()
      local c = client("vk_agent")
      local base = { model = "openai/gpt-4o-mini", messages = { { role = "user", content = "hi" } } }
      for what, v in pairs(bad_values) do
        for _, opt in ipairs({ "agent_id", "run_id" }) do
          local params = { model = base.model, messages = base.messages, [opt] = "a" .. v }
          local _, err = c.gateway:chat(params)
          refused("validation", nil, nil, nil, err)
          assert.equal("gateway.chat", err.endpoint, what)
        end
      end
      assert.equal(0, #emu:requests())
    end)

    it("refuses control characters in query values, and sends them JSON-escaped in bodies", function()
      local c = client("pat_admin")
      for what, v in pairs(bad_values) do
        local err = refused("validation", "search", nil, c.agents:list({ search = "a" .. v }))
        assert.matches("position", err.message, 1, true, what)
      end
      assert.equal(0, #emu:requests())
      local evil = "a\r\nX-Evil: 1"
      local created, err = c.virtual_keys:create({ label = evil, master_key_id = emu.ids.openai })
      assert.is_table(created, tostring(err))
      assert.equal(evil, created.label)
      local r = emu:requests({ path = "/api/v1/virtual%-keys", method = "POST" })[1]
      assert.matches('"label":"a\\r\\nX-Evil: 1"', r.body, 1, true)
      assert.is_nil(r.headers["x-evil"])
    end)

    it("keeps & and = inside one query value", function()
      local c = client("pat_admin")
      assert(c.agents:list({ search = "x&pageSize=1&status=inactive" }))
      local r = emu:requests("/api/v1/agents")[1]
      assert.equal("x&pageSize=1&status=inactive", r.args.search)
      assert.is_nil(r.args.pageSize)
      assert.is_nil(r.args.status)
    end)
  end)

  describe("into paths", function()
    local prefix = "/v1/analytics/request-logs/"
    -- request_id is the one free-form path parameter (ids are UUIDs): each value must
    -- arrive as one encoded path segment of the request-log route
    local encoded = {
      { "a/b", "a%2Fb" },
      { "../../api/v1/pats", "..%2F..%2Fapi%2Fv1%2Fpats" },
      { "a?b=c", "a%3Fb%3Dc" },
      { "a#b", "a%23b" },
      { "a%2Fb", "a%252Fb" },
      { "%2e%2e", "%252e%252e" },
      { "a b", "a%20b" },
      { "é", "%C3%A9" },
      { "...", "..." },
    }

    for _, case in ipairs(encoded) do
      it(("encodes %q as one path segment"):format(case[1]), function()
        local c = client("vk_agent")
        local data, err = c.collector:request_log({ request_id = case[1] })
        assert.is_nil(data)
        assert.equal(404, err.status, tostring(err)) -- the request-log route: no such id
        local seen = {}
        for _, r in ipairs(emu:requests()) do
          if r.uri:sub(1, #prefix) == prefix then seen[#seen + 1] = r end
        end
        assert.equal(1, #seen)
        assert.equal(prefix .. case[2], seen[1].uri)
        assert.is_nil(seen[1].headers["x-evil"])
      end)
    end

    it("refuses . and .. as a path segment and control characters, sending nothing", function()
      local c = client("vk_agent")
      for _, v in ipairs({ ".", "..", "a\r\nX-Evil: 1", "a\0b", "a\nb" }) do
        refused("validation", "request_id", nil, c.collector:request_log({ request_id = v }))
      end
      assert.equal(0, #emu:requests("^/v1/analytics/"))
    end)

    it("refuses anything but a UUID where the path takes an id", function()
      local jwt = client("jwt")
      local pat = client("pat_admin")
      for _, v in ipairs({ "../pats", "a/b", "x?y", "x#y", "%2F", "nope",
        emu.ids.workspace_1 .. "/../x" }) do
        refused("validation", "id", nil, jwt.workspaces:stats({ id = v }))
        refused("validation", "id", nil, pat.virtual_keys:update({ id = v, label = "x" }))
        refused("validation", "agent_id", nil, pat.agents:analytics({ agent_id = v }))
      end
      assert.equal(0, #emu:requests())
    end)
  end)
end)
