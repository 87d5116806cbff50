-- Fault injection: X-Emulator-Fault header and admin-armed faults.
local emulator = require("spec.support.emulator")
local socket = require("socket")

describe("emulator faults", function()
  local emu = emulator.session()
  local t, ids = emu.tokens, emu.ids

  local function get(path, fault, token, ws)
    local headers = fault and { ["X-Emulator-Fault"] = fault } or nil
    return emu:request("GET", path, { token = token, workspace = ws, headers = headers })
  end

  local chat_body = { model = "gpt-4o-mini", messages = { { role = "user", content = "one two three four" } } }

  it("reset closes the connection without a response", function()
    local r = emu:raw("GET", "/v1/analytics/health", { ["X-Emulator-Fault"] = "reset" })
    assert.equal("", r.data)
    assert.equal("closed", r.err)
    local status, err = get("/v1/analytics/health", "reset")
    assert.is_nil(status)
    assert.is_truthy(err)
    local recs = emu:requests("/v1/analytics/health")
    assert.equal(444, recs[1].status)
    assert.equal("reset", recs[1].fault)
  end)

  it("stall=MS delays, then answers normally", function()
    local t0 = socket.gettime()
    local status, _, _, j = get("/api/v1/cockpit/scope", "stall=300", t.vk_agent)
    local dt = socket.gettime() - t0
    assert.equal(200, status)
    assert.equal(ids.workspace_1, j.workspace.id)
    assert.is_true(dt >= 0.29, "answered after " .. dt)
  end)

  it("stall + reset looks like a dead server to a client with a short timeout", function()
    local r = emu:raw("GET", "/v1/models", { ["X-Emulator-Fault"] = "stall=2000;reset" }, nil, { timeout = 0.3 })
    assert.equal("timeout", r.err)
    assert.equal("", r.data)
  end)

  describe("status faults", function()
    it("status=503;count=2 fails twice, then succeeds, counted per fault key", function()
      local fault = "status=503;count=2"
      local s, _, h, j = get("/v1/analytics/saas/usage", fault, t.vk_agent, ids.workspace_1)
      assert.equal(503, s)
      assert.same({ code = 50300, message = "Emulated fault: HTTP 503", data = emulator.null }, j)
      assert.equal("1", h["x-emulator-fault-remaining"])
      s, _, h = get("/v1/analytics/saas/usage", fault, t.vk_agent, ids.workspace_1)
      assert.equal(503, s)
      assert.equal("0", h["x-emulator-fault-remaining"])
      s, _, h, j = get("/v1/analytics/saas/usage", fault, t.vk_agent, ids.workspace_1)
      assert.equal(200, s)
      assert.equal(0, j.code)
      assert.is_nil(h["x-emulator-fault-remaining"])
      -- a different header value is a different key with its own count
      assert.equal(503, (get("/v1/analytics/saas/usage", "503;count=1", t.vk_agent, ids.workspace_1)))
    end)

    it("429 with Retry-After", function()
      local s, _, h, j = get("/api/v1/agents", "429;retry-after=2;count=1", t.pat_read, ids.workspace_1)
      assert.equal(429, s)
      assert.equal("2", h["retry-after"])
      assert.equal("0", h["x-ratelimit-remaining"])
      assert.equal(42900, j.code)
      assert.equal(200, (get("/api/v1/agents", "429;retry-after=2;count=1", t.pat_read, ids.workspace_1)))
      -- retry-after alone implies 429
      s, _, h = get("/v1/analytics/health", "retry-after=7")
      assert.equal(429, s)
      assert.equal("7", h["retry-after"])
    end)

    it("uses the gateway's OpenAI error shape", function()
      for code, etype in pairs({ [429] = "rate_limit_error", [500] = "server_error", [502] = "server_error",
        [503] = "server_error", [504] = "upstream_timeout" }) do
        local s, _, _, j = emu:request("POST", "/v1/chat/completions", { token = t.vk_agent, body = chat_body,
          headers = { ["X-Emulator-Fault"] = tostring(code) } })
        assert.equal(code, s)
        assert.equal(etype, j.error.type)
        assert.is_string(j.error.message)
      end
    end)

    it("echo shows the request's Authorization, like a careless server", function()
      local s, _, h, j = get("/api/v1/cockpit/scope", "401;echo", t.vk_agent)
      assert.equal(401, s)
      assert.equal("Bearer " .. t.vk_agent, h["x-emulator-echo"])
      assert.equal("Emulated fault: HTTP 401: credentials Bearer " .. t.vk_agent .. " rejected", j.message)
      -- without a status: the header on a normal answer
      s, _, h = get("/api/v1/cockpit/scope", "echo", t.vk_agent)
      assert.equal(200, s)
      assert.equal("Bearer " .. t.vk_agent, h["x-emulator-echo"])
    end)

    it("message=TEXT replaces the message, percent-decoded (control characters included)", function()
      local s, _, _, j = get("/api/v1/agents", "500;message=%1B]0%3Bowned%07hi", t.pat_read, ids.workspace_1)
      assert.equal(500, s)
      assert.equal("\27]0;owned\7hi", j.message)
      s = get("/api/v1/agents", "message=x", t.pat_read, ids.workspace_1)
      assert.equal(400, s)
    end)

    it("without count fires every time; count=0 never", function()
      for _ = 1, 3 do assert.equal(502, (get("/v1/analytics/health", "502"))) end
      assert.equal(200, (get("/v1/analytics/health", "500;count=0")))
    end)

    it("key= shares one counter between different requests", function()
      assert.equal(500, (get("/v1/analytics/health", "500;count=2;key=flaky")))
      assert.equal(503, (get("/api/v1/cockpit/health", "503;count=2;key=flaky")))
      assert.equal(200, (get("/v1/analytics/health", "500;count=2;key=flaky")))
    end)

    it("fires before auth", function()
      assert.equal(503, (get("/api/v1/agents", "503")))
    end)
  end)

  it("malformed gives invalid JSON with status 200", function()
    local s, text, h, j = get("/api/v1/cockpit/scope", "malformed", t.vk_agent)
    assert.equal(200, s)
    assert.is_nil(j)
    assert.matches("^application/json", h["content-type"])
    assert.equal(#text, tonumber(h["content-length"]))
    assert.matches("^{", text)
  end)

  it("truncated announces more bytes than it sends, then closes", function()
    local r = emu:raw("GET", "/api/v1/cockpit/scope", { ["X-Emulator-Fault"] = "truncated",
      Authorization = "Bearer " .. t.vk_agent })
    assert.equal(200, r.status)
    assert.equal("closed", r.err)
    local announced = tonumber(r.headers["content-length"])
    assert.is_true(announced > #r.body, "announced " .. announced .. ", got " .. #r.body)
    assert.is_true(#r.body > 0)
    assert.is_nil(emulator.decode(r.body))
    local status = get("/api/v1/cockpit/scope", "truncated", t.vk_agent)
    assert.is_not.equal(200, status)
  end)

  it("oversized=BYTES sends a valid JSON body of at least that size", function()
    local s, text, h, j = get("/api/v1/cockpit/scope", "oversized=2000000", t.vk_agent)
    assert.equal(200, s)
    assert.equal(2000000, #text)
    assert.equal(2000000, tonumber(h["content-length"]))
    assert.is_table(j)
    assert.equal(ids.workspace_1, j.workspace.id)
    assert.is_string(j.emulator_padding)
    local _
    s, text, _, j = get("/v1/analytics/saas/usage", "oversized=100000", t.vk_agent, ids.workspace_1)
    assert.equal(200, s)
    assert.is_true(#text >= 100000)
    assert.equal(0, j.code)
  end)

  it("trickle=MS sends the body in small pieces", function()
    local r = emu:raw("GET", "/v1/analytics/health", { ["X-Emulator-Fault"] = "trickle=10;chunk=8" })
    assert.equal(200, r.status)
    local pieces = math.ceil(#r.body / 8)
    assert.equal(tonumber(r.headers["content-length"]), #r.body)
    assert.is_true(r.elapsed >= (pieces - 1) * 0.010 * 0.9, "took " .. r.elapsed)
    assert.is_true(r.first_byte < r.elapsed / 2)
    assert.is_table(emulator.decode(r.body))
  end)

  describe("on SSE streams", function()
    local function stream(fault, extra_headers)
      local headers = { ["X-Emulator-Fault"] = fault, ["Content-Type"] = "application/json",
        Authorization = "Bearer " .. t.vk_agent }
      for k, v in pairs(extra_headers or {}) do headers[k] = v end
      local b = emulator.encode({ model = "gpt-4o-mini", stream = true, max_tokens = 20,
        messages = { { role = "user", content = "stream please" } } })
      return emu:raw("POST", "/v1/chat/completions", headers, b)
    end

    it("truncated stops mid-stream without [DONE]", function()
      local r = stream("truncated")
      assert.equal(200, r.status)
      assert.equal("closed", r.err)
      assert.is_nil(r.body:find("[DONE]", 1, true))
      assert.is_truthy(r.body:find("data: ", 1, true))
    end)

    it("trickle spaces the chunks out", function()
      local r = stream("trickle=20")
      assert.is_truthy(r.body:find("[DONE]", 1, true))
      assert.is_true(r.elapsed >= 22 * 0.020 * 0.9, "took " .. r.elapsed)
    end)

    it("malformed corrupts one chunk", function()
      local s, text = emu:request("POST", "/v1/chat/completions", { token = t.vk_agent,
        headers = { ["X-Emulator-Fault"] = "malformed" }, body = { model = "gpt-4o-mini", stream = true,
        max_tokens = 5, messages = { { role = "user", content = "x" } } } })
      assert.equal(200, s)
      local bad = 0
      for payload in text:gmatch("data: ([^\n]*)") do
        if payload ~= "[DONE]" and not emulator.decode(payload) then bad = bad + 1 end
      end
      assert.equal(1, bad)
    end)

    it("status faults answer before the stream starts", function()
      local r = stream("503;count=1")
      assert.equal(503, r.status)
      assert.matches("service_unavailable", r.body)
    end)
  end)

  describe("armed through the admin API", function()
    after_each(function() emu:disarm() end)

    it("fails the next N requests on a path, for clients that cannot add headers", function()
      local armed = emu:arm({ fault = "status=503", count = 2, path = "/v1/chat/completions" })
      assert.equal(1, #armed.armed)
      local codes = {}
      for i = 1, 3 do
        codes[i] = (emu:request("POST", "/v1/chat/completions", { token = t.vk_agent, body = chat_body }))
      end
      assert.same({ 503, 503, 200 }, codes)
      assert.equal(0, emu:admin("GET", "/faults").armed[1].remaining)
    end)

    it("matches method and prefix, and leaves other paths alone", function()
      emu:arm({ fault = "429;retry-after=1", count = 5, path_prefix = "/api/v1/cockpit/", method = "GET" })
      assert.equal(200, (get("/v1/analytics/health")))
      local s, _, h = get("/api/v1/cockpit/scope", nil, t.vk_agent)
      assert.equal(429, s)
      assert.equal("1", h["retry-after"])
      assert.equal(4, emu:admin("GET", "/faults").armed[1].remaining)
    end)

    it("can arm a reset and a pattern", function()
      emu:arm({ fault = "reset", count = 1, path_pattern = "^/v1/analytics/request%-logs/" })
      local status = get("/v1/analytics/request-logs/x", nil, t.vk_agent, ids.workspace_1)
      assert.is_nil(status)
      status = get("/v1/analytics/request-logs/x", nil, t.vk_agent, ids.workspace_1)
      assert.equal(404, status)
    end)

    it("rejects bad rules", function()
      local s = emu:request("POST", emu.admin_url .. "/faults", { body = { fault = "explode" } })
      assert.equal(400, s)
    end)

    it("reset disarms", function()
      emu:arm({ fault = "500", count = 3, path = "/v1/models" })
      emu:reset()
      assert.equal(0, #emu:admin("GET", "/faults").armed)
    end)
  end)

  it("3xx with location=, and Retry-After as an HTTP-date", function()
    local r = emu:raw("GET", "/api/v1/agents",
      { ["X-Emulator-Fault"] = "301;location=https://elsewhere.example/x?y=1" })
    assert.matches("^HTTP/1%.1 301", r.data)
    assert.matches("\r\nLocation: https://elsewhere%.example/x%?y=1\r\n", r.data)
    r = emu:raw("GET", "/api/v1/agents", { ["X-Emulator-Fault"] = "location=/elsewhere" })
    assert.matches("^HTTP/1%.1 302", r.data)
    r = emu:raw("GET", "/api/v1/agents", { ["X-Emulator-Fault"] = "304" })
    assert.matches("^HTTP/1%.1 304", r.data)
    r = emu:raw("GET", "/api/v1/agents", { ["X-Emulator-Fault"] = "retry-after=Fri, 01 Jan 2100 00:00:00 GMT" })
    assert.matches("^HTTP/1%.1 429", r.data)
    assert.matches("\r\nRetry%-After: Fri, 01 Jan 2100 00:00:00 GMT\r\n", r.data)
    assert.equal(400, (get("/v1/analytics/health", "location=")))
  end)

  it("an invalid fault header is a 400 in the family's shape", function()
    local s, _, _, j = get("/v1/analytics/health", "explode")
    assert.equal(400, s)
    assert.equal(40000, j.code)
    assert.matches("X%-Emulator%-Fault", j.message)
    s, _, _, j = emu:request("GET", "/v1/models", { headers = { ["X-Emulator-Fault"] = "stall=abc" } })
    assert.equal(400, s)
    assert.matches("stall", j.error.message)
    assert.equal(400, (get("/v1/analytics/health", "status=200")))
  end)
end)
