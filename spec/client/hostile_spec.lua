-- A hostile or broken server, through the real client and libcurl against the emulator's
-- fault injection: redirects and 304 are errors (never followed), Retry-After is bounded
-- by max_retry_wait and the deadline, and bad durations are refused before sending.
local alephant = require "alephant"
local emulator = require "spec.support.emulator"

describe("client against a hostile server #integration", function()
  local emu = emulator.session()

  -- waits are recorded instead of slept: the specs check what the client decided
  local waits
  local function client(extra)
    waits = {}
    local opts = { sleep = function(s) waits[#waits + 1] = s end }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return emu:client("pat_write", opts)
  end
  local function fault(spec, extra)
    local opts = { headers = { ["X-Emulator-Fault"] = spec } }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return opts
  end

  describe("3xx", function()
    it("a redirect of a GET is an http error with the Location host only, never followed", function()
      local c = client()
      local data, err, meta = c.agents:list(nil,
        fault("302;location=https://user:pw@evil.example:8443/steal/path?secret=s3cr3t#frag"))
      assert.is_nil(data)
      assert.is_nil(meta)
      assert.equal("http", err.kind)
      assert.equal(302, err.status)
      assert.equal("evil.example", err.location_host)
      assert.is_false(err.retryable)
      local text = tostring(err)
      assert.matches("302", text)
      assert.matches("evil%.example", text)
      for _, secret in ipairs({ "steal", "s3cr3t", "frag", "user", "pw@", "8443" }) do
        assert.not_matches(secret, text, 1, true)
      end
      assert.equal(1, #emu:requests("/api/v1/agents"))
      assert.equal(0, #emu:requests("/steal"))
    end)

    it("every 3xx, 304 included, is an error, also with a relative Location", function()
      local c = client()
      for _, code in ipairs({ 300, 301, 303, 304, 307, 308 }) do
        local data, err = c.agents:list(nil, fault(tostring(code) .. ";location=/api/v1/members"))
        assert.is_nil(data, code)
        assert.equal("http", err.kind)
        assert.equal(code, err.status)
        assert.is_nil(err.location_host)
      end
      assert.equal(0, #emu:requests("/api/v1/members"))
    end)

    it("a POST answered 302 does not look created", function()
      local c = client()
      local data, err = c.virtual_keys:create({ label = "moved", master_key_id = emu.ids.openai },
        fault("302;location=https://elsewhere.example/api/v1/virtual-keys/vk_1"))
      assert.is_nil(data)
      assert.equal("http", err.kind)
      assert.equal(302, err.status)
      assert.equal("elsewhere.example", err.location_host)
      assert.equal(1, #emu:requests({ path = "/api/v1/virtual%-keys", method = "POST" }))
      assert.equal(0, #emu:requests({ method = "GET" }))
    end)
  end)

  describe("Retry-After", function()
    it("waits a Retry-After within max_retry_wait", function()
      local data, err, meta = client().agents:list(nil, fault("429;retry-after=2;count=1"))
      assert.is_table(data, tostring(err))
      assert.equal(2, meta.attempts)
      assert.same({ 2 }, waits)
    end)

    it("returns a 429 at once when Retry-After is longer than max_retry_wait (default 60 s)", function()
      local data, err = client().agents:list(nil, fault("429;retry-after=86400"))
      assert.is_nil(data)
      assert.equal(429, err.status)
      assert.equal(86400, err.retry_after)
      assert.equal(1, err.attempts)
      assert.matches("max_retry_wait", err.message)
      assert.same({}, waits)
      assert.equal(1, #emu:requests("/api/v1/agents"))
    end)

    it("reads an HTTP-date Retry-After as seconds from now", function()
      local data, err = client().agents:list(nil, fault("429;retry-after=Fri, 01 Jan 2100 00:00:00 GMT"))
      assert.is_nil(data)
      assert.equal(429, err.status)
      local expected = 4102444800 - os.time()
      assert.is_true(math.abs(err.retry_after - expected) <= 5, tostring(err.retry_after))
      assert.same({}, waits)
    end)

    it("honours a smaller max_retry_wait, and 0 never waits for the server", function()
      local data, err = client({ max_retry_wait = 1 }).agents:list(nil, fault("429;retry-after=2"))
      assert.is_nil(data)
      assert.equal(2, err.retry_after)
      assert.matches("max_retry_wait = 1 s", err.message)
      assert.same({}, waits)
      data, err = client({ max_retry_wait = 0 }).agents:list(nil, fault("429;retry-after=1"))
      assert.is_nil(data)
      assert.equal(1, err.retry_after)
      assert.same({}, waits)
    end)

    it("does not wait a Retry-After longer than the remaining deadline", function()
      local data, err = client().agents:list(nil, fault("429;retry-after=30", { deadline = 20 }))
      assert.is_nil(data)
      assert.equal(30, err.retry_after)
      assert.matches("deadline", err.message)
      assert.same({}, waits)
    end)

    it("gives err.retry_after also when the request may not be retried", function()
      local c = client()
      local data, err = c.virtual_keys:create({ label = "later", master_key_id = emu.ids.openai },
        fault("429;retry-after=7"))
      assert.is_nil(data)
      assert.equal(7, err.retry_after)
      assert.matches("not retried", err.message)
    end)

    it("checks max_retry_wait", function()
      for _, bad in ipairs({ -1, 0 / 0, math.huge }) do
        local ok, msg = pcall(alephant.new, { token = emu.tokens.pat_write, max_retry_wait = bad })
        assert.is_false(ok)
        assert.matches("max_retry_wait", msg)
      end
    end)
  end)

  describe("durations", function()
    it("refuses NaN, negative and absurd call timeouts and deadlines before sending", function()
      local c = client()
      for _, key in ipairs({ "timeout", "deadline" }) do
        for _, bad in ipairs({ 0 / 0, -1, 0, math.huge, 1e12 }) do
          local data, err = c.agents:list(nil, { [key] = bad })
          assert.is_nil(data)
          assert.equal("validation", err.kind, key .. " " .. tostring(bad))
          assert.equal(key, err.field)
          assert.matches("call option '" .. key .. "'", err.message)
        end
      end
      assert.equal(0, #emu:requests())
    end)

    it("refuses NaN, negative and absurd client timeouts", function()
      for _, key in ipairs({ "timeout", "connect_timeout", "deadline" }) do
        for _, bad in ipairs({ 0 / 0, -1, math.huge, 1e12 }) do
          local ok, msg = pcall(alephant.new, { token = emu.tokens.pat_write, [key] = bad })
          assert.is_false(ok)
          assert.matches("'" .. key .. "' must be a positive number of seconds", msg)
        end
      end
    end)
  end)
end)
