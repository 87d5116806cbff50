-- What the client shows people: its secrets scrubbed from everything it hands back
-- (a server that echoes the token), and terminal control sequences from a server
-- (ESC, OSC title and clipboard writes, BEL, C1) escaped in tostring(err) and messages.
local alephant = require "alephant"
local core = require "alephant.core"
local emulator = require "spec.support.emulator"

describe("text the client shows #integration", function()
  local emu = emulator.session({ client = { max_retries = 0 } })
  local function fault(spec) return { headers = { ["X-Emulator-Fault"] = spec } } end

  -- No control character (C0, DEL, C1 as UTF-8) anywhere in s.
  local function printable(s)
    return not s:find("[%z\1-\31\127]") and not s:find("\194[\128-\159]")
  end

  describe("a server that echoes the token", function()
    it("shows it redacted in err.message, err.body and tostring(err)", function()
      local c = emu:client("vk_agent")
      local token, red = emu.tokens.vk_agent, c:redacted_token()
      local _, err = c.cockpit:scope(nil, fault("401;echo"))
      assert.equal("auth", err.kind)
      assert.equal("GET cockpit.scope answered HTTP 401: Emulated fault: HTTP 401: credentials Bearer " .. red
        .. " rejected (check the token)", err.message)
      assert.equal("Emulated fault: HTTP 401: credentials Bearer " .. red .. " rejected", err.body.message)
      assert.is_nil(tostring(err):find(token, 1, true))
      -- the emulator did send it back: the request log shows what it answered
      assert.equal(1, #emu:requests("/api/v1/cockpit/scope"))
    end)

    it("shows it redacted in the results of a batch too", function()
      local c = emu:client("pat_read")
      local results = c:batch({
        { "agents.list", nil, fault("401;echo") },
        { "agents.list", nil, fault("echo") },
      })
      assert.equal("auth", results[1].err.kind)
      assert.matches("credentials Bearer " .. c:redacted_token() .. " rejected", results[1].err.message, 1, true)
      assert.equal("Bearer " .. c:redacted_token(), results[2].meta.headers["x-emulator-echo"])
    end)

    it("shows it redacted in what client:request (a route outside the catalog) returns", function()
      local c = emu:client("pat_read")
      local _, err = c:request("GET", "/api/v1/agents", fault("401;echo"))
      assert.equal("auth", err.kind)
      assert.matches("credentials Bearer " .. c:redacted_token() .. " rejected", err.message, 1, true)
      local data, _, meta = c:request("GET", "/api/v1/agents", fault("echo"))
      assert.is_table(data)
      assert.equal("Bearer " .. c:redacted_token(), meta.headers["x-emulator-echo"])
    end)

    it("shows it redacted in the response headers of meta", function()
      local c = emu:client("pat_read")
      local data, err, meta = c.agents:list(nil, fault("echo"))
      assert.is_table(data, tostring(err))
      assert.equal("Bearer " .. c:redacted_token(), meta.headers["x-emulator-echo"])
    end)

    it("scrubs the other secrets a call sends (an embeddings key, an API key header) the same way", function()
      local c = emu:client("vk_agent")
      local key = "sk-embed-" .. string.rep("9", 24)
      local _, err = c.gateway:chat({ model = "openai/gpt-4o-mini", messages = { { role = "user", content = "x" } } },
        { headers = { ["Alephant-Embeddings-Key"] = key, ["X-Emulator-Fault"] = "500;message=bad key " .. key } })
      assert.equal("http", err.kind)
      assert.is_nil(tostring(err):find(key, 1, true))
      assert.is_nil(err.body.error.message:find(key, 1, true))
      assert.matches("bad key sk…9999", err.message, 1, true)
      -- the request did carry it (the emulator's log keeps it redacted): only what comes back is scrubbed
      assert.matches("^sk%-em.*9999$", emu:requests("/v1/chat/completions")[1].headers["alephant-embeddings-key"])
      -- an idempotency key is no secret
      local idem = "idem-" .. string.rep("7", 20)
      _, err = c.cockpit:scope(nil, { headers = { ["Idempotency-Key"] = idem,
        ["X-Emulator-Fault"] = "500;message=" .. idem } })
      assert.matches(idem, err.message, 1, true)
    end)

    it("keeps the token among the secrets however many others come and go", function()
      local s = core.secrets():add("vk-first-secret-0000000000")
      for i = 1, 20 do s:add(("other-secret-%04d"):format(i)) end
      assert.equal("alephant.secrets<8>", tostring(s))
      assert.equal("vk-fi…0000 ot…0020 other-secret-0001",
        s:scrub("vk-first-secret-0000000000 other-secret-0020 other-secret-0001"))
      s:add("short") -- under 8 bytes: not a secret
      assert.equal("short", s:scrub("short"))
      s:close()
      assert.equal("alephant.secrets<0>", tostring(s))
      assert.equal("vk-first-secret-0000000000", s:scrub("vk-first-secret-0000000000"))
    end)

    it("clean tells a flat table with no secret (nothing to scrub) from one that has one", function()
      local s = core.secrets():add("vk-first-secret-0000000000")
      assert.is_true(s:clean({ ["content-type"] = "application/json", ["content-length"] = "12", n = 1, [1] = "x" }))
      assert.is_true(s:clean({}))
      assert.is_false(s:clean({ echo = "Bearer vk-first-secret-0000000000" })) -- in a value
      assert.is_false(s:clean({ ["x-vk-first-secret-0000000000"] = "1" })) -- in a key
      assert.is_false(s:clean({ nested = {} })) -- a table: scrub.deep walks it
      s:close()
    end)

    it("client:scrub redacts the token in the caller's own text and tables", function()
      local c = emu:client("vk_agent")
      local token = emu.tokens.vk_agent
      assert.equal("sent " .. c:redacted_token() .. " twice: " .. c:redacted_token(),
        c:scrub("sent " .. token .. " twice: " .. token))
      local t = c:scrub({ a = { token }, [token] = 1 })
      assert.same({ a = { c:redacted_token() }, [c:redacted_token()] = 1 }, t)
      assert.equal(42, c:scrub(42))
      assert.equal("alephant.secrets<1>", tostring(c._secrets))
    end)
  end)

  describe("control sequences from a server", function()
    local hostile = {
      { "an OSC title", "%1B]0%3Bpwned%07", "\\x1B]0;pwned\\x07" },
      { "an OSC 52 clipboard write", "%1B]52%3Bc%3BZWNobyBoaQ==%1B%5C", "\\x1B]52;c;ZWNobyBoaQ==\\x1B\\" },
      { "a C1 CSI and DEL", "%C2%9B31mred%7F", "\\u009B31mred\\x7F" },
      { "BEL", "%07ding", "\\x07ding" },
    }

    it("are escaped in err.message and tostring(err); err.body keeps the server's text", function()
      local c = emu:client("pat_read")
      for _, case in ipairs(hostile) do
        local _, err = c.agents:list(nil, fault("500;message=" .. case[2]))
        assert.equal("http", err.kind)
        assert.equal("GET agents.list answered HTTP 500: " .. case[3], err.message, case[1])
        assert.is_true(printable(tostring(err)), case[1])
        assert.matches(case[3], tostring(err), 1, true)
        assert.is_false(printable(err.body.message), case[1])
      end
    end)

    it("in the gateway's error shape too", function()
      local c = emu:client("vk_agent")
      local _, err = c.gateway:chat({ model = "openai/gpt-4o-mini", messages = { { role = "user", content = "x" } } },
        fault("503;message=%1B]0%3Bt%07"))
      assert.equal("http", err.kind)
      assert.is_true(printable(tostring(err)))
      assert.matches("\\x1B]0;t\\x07", err.message, 1, true)
    end)

    it("are escaped by core.printable in its three modes, and plain text is left alone", function()
      local s = "a\27]0;t\7\r\n\tb\194\155é"
      assert.equal("a\\x1B]0;t\\x07\\r\\n\\tb\\u009Bé", core.printable(s))
      assert.equal("a\\x1B]0;t\\x07   b\\u009Bé", core.printable(s, "line"))
      assert.equal("a\\x1B]0;t\\x07\\r\n\tb\\u009Bé", core.printable(s, "lines"))
      assert.equal("plain — text", core.printable("plain — text"))
      assert.has_error(function() core.printable("x", "bold") end)
    end)

    it("in any error field shown by tostring(err)", function()
      local err = alephant.errors.new("http", "m\27[2J", { status = 500, code = "x\7", request_id = "r\27]0;t\7",
        endpoint = "e\194\133" })
      assert.equal("alephant http error: m\\x1B[2J (status 500, code x\\x07, request_id r\\x1B]0;t\\x07, "
        .. "endpoint e\\u0085)", tostring(err))
    end)
  end)
end)
