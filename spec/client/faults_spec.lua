-- Retries, deadlines and failure mapping against the emulator's fault injection.
local alephant = require "alephant"
local core = require "alephant.core"
local emulator = require "spec.support.emulator"

describe("client faults #integration", function()
  local emu = emulator.session()
  local function client(extra) return emu:client("vk_agent", extra) end
  local function fault(spec) return { headers = { ["X-Emulator-Fault"] = spec } } end

  it("retries a 503 and then succeeds", function()
    local data, err, meta = client().cockpit:scope(nil, fault("status=503;count=2"))
    assert.is_table(data, tostring(err))
    assert.equal(3, meta.attempts)
    assert.equal(3, #emu:requests("/api/v1/cockpit/scope"))
  end)

  it("retries a connection reset and then succeeds", function()
    local data, err, meta = client().cockpit:scope(nil, fault("reset;count=1"))
    assert.is_table(data, tostring(err))
    assert.equal(2, meta.attempts)
  end)

  it("gives up after max_retries with the last error", function()
    local data, err = client({ max_retries = 1 }).cockpit:scope(nil, fault("status=503;count=5"))
    assert.is_nil(data)
    assert.equal("http", err.kind)
    assert.equal(503, err.status)
    assert.equal(2, err.attempts)
    assert.is_true(err.retryable)
  end)

  it("waits for Retry-After on 429", function()
    local t0 = core.monotonic()
    local data, err, meta = client().cockpit:scope(nil, fault("429;retry-after=1;count=1"))
    local elapsed = core.monotonic() - t0
    assert.is_table(data, tostring(err))
    assert.equal(2, meta.attempts)
    assert.is_true(elapsed >= 0.95, "waited " .. elapsed)
  end)

  it("does not wait past the deadline for Retry-After", function()
    local t0 = core.monotonic()
    local data, err = client().cockpit:scope(nil, { deadline = 1, headers = { ["X-Emulator-Fault"] =
      "429;retry-after=30;count=1" } })
    assert.is_nil(data)
    assert.equal(429, err.status)
    assert.equal(30, err.retry_after)
    assert.is_true(core.monotonic() - t0 < 1)
  end)

  it("ends a stall with a timeout within the deadline", function()
    local t0 = core.monotonic()
    local data, err = client({ timeout = 0.5, max_retries = 5 }).cockpit:scope(nil,
      { deadline = 1.2, headers = { ["X-Emulator-Fault"] = "stall=5000" } })
    local elapsed = core.monotonic() - t0
    assert.is_nil(data)
    assert.equal("timeout", err.kind)
    assert.is_true(elapsed < 1.6, "took " .. elapsed)
  end)

  it("never retries a POST unless asked", function()
    local c = alephant.new({ token = emu.tokens.pat_write, workspace_id = emu.ids.workspace_1,
      base_url = emu.saas_url, analytics_url = emu.analytics_url, gateway_url = emu.gateway_url,
      getenv = function() return nil end })
    local body = { label = "retry-me", master_key_id = emu.ids.openai }
    local data, err = c.virtual_keys:create(body, fault("status=503;count=1"))
    assert.is_nil(data)
    assert.equal(503, err.status)
    assert.equal(1, err.attempts)
    assert.matches("not retried", err.message)
    assert.equal(1, #emu:requests({ path = "/api/v1/virtual%-keys", method = "POST" }))
    emu:reset()
    data, err = c.virtual_keys:create(body, { retry = true, headers =
      { ["X-Emulator-Fault"] = "status=503;count=1" } })
    assert.is_table(data, tostring(err))
    assert.equal(2, #emu:requests({ path = "/api/v1/virtual%-keys", method = "POST" }))
  end)

  it("reports malformed JSON as decode with the status and request id", function()
    local data, err = client({ max_retries = 0 }).cockpit:scope(nil, fault("malformed"))
    assert.is_nil(data)
    assert.equal("decode", err.kind)
    assert.equal(200, err.status)
    assert.is_string(err.request_id)
  end)

  it("reports a truncated body as a network error", function()
    local data, err = client({ max_retries = 0 }).cockpit:scope(nil, fault("truncated"))
    assert.is_nil(data)
    assert.equal("network", err.kind)
  end)

  it("refuses an oversized body with too_large", function()
    local c = client({ max_retries = 0 })
    c._transport:close()
    c._transport = core.http_new({ timeout = 5, max_body = 64 * 1024 })
    local data, err = c.cockpit:scope(nil, fault("oversized=200000"))
    assert.is_nil(data)
    assert.equal("too_large", err.kind)
  end)

  it("verifies TLS: an unknown CA fails, the emulator's CA succeeds", function()
    local data, err = client({ base_url = emu.https_url, max_retries = 0 }).cockpit:scope()
    assert.is_nil(data)
    assert.equal("tls", err.kind)
    data, err = client({ base_url = emu.https_url, cafile = emu.ca_file }).cockpit:scope()
    assert.is_table(data, tostring(err))
  end)

  it("keeps working after a failure", function()
    local c = client({ max_retries = 0 })
    assert.is_nil((c.cockpit:scope(nil, fault("reset"))))
    assert.is_table((c.cockpit:scope()))
  end)
end)
