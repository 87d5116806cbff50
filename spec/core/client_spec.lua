local alephant = require "alephant"
local jwt = require "spec.support.jwt"

local fixtures = require "spec.support.fixtures"
local VK = fixtures.VK
local PAT = fixtures.PAT
local WS = fixtures.WS

-- An environment that holds only `vars`, so the host's variables never leak in.
local function env(vars)
  return function(name) return vars[name] end
end

describe("alephant.new", function()
  it("creates a client for each token kind", function()
    assert.equal("virtual_key", alephant.new({ token = VK, getenv = env({}) }):token_kind())
    assert.equal("pat", alephant.new({ token = PAT, workspace_id = WS, getenv = env({}) }):token_kind())
    local c = alephant.new({ token = jwt.make('{"exp":4102444800}'), getenv = env({}) })
    assert.equal("jwt", c:token_kind())
    assert.equal(4102444800, c:token_expires_at())
  end)

  it("applies the documented defaults", function()
    local c = alephant.new({ token = VK, getenv = env({}) })
    assert.equal("https://alephant.io", c.base_url)
    assert.equal("https://analytics.alephant.io", c.analytics_url)
    assert.equal("https://ai.alephant.io/v1", c.gateway_url)
    assert.equal(30, c.timeout)
    assert.equal(10, c.connect_timeout)
    assert.equal(2, c.max_retries)
  end)

  it("reads the environment in the documented order", function()
    local c = alephant.new({ getenv = env({ ALEPHANT_PAT = PAT, ALEPHANT_VIRTUAL_KEY = VK,
      ALEPHANT_WORKSPACE_ID = WS, ALEPHANT_API_BASE_URL = "http://127.0.0.1:8080/",
      ALEPHANT_RATE_LIMIT_RPM = "60" }) })
    assert.equal("pat", c:token_kind())
    assert.equal(WS, c.workspace_id)
    assert.equal("http://127.0.0.1:8080", c.base_url)
    assert.equal(60, c.rate_limit_rpm)
    c = alephant.new({ getenv = env({ ALEPHANT_TOKEN = VK, ALEPHANT_PAT = PAT }) })
    assert.equal("virtual_key", c:token_kind())
    c = alephant.new({ token = VK, getenv = env({ ALEPHANT_TOKEN = PAT }) })
    assert.equal("virtual_key", c:token_kind(), "an explicit option wins over the environment")
  end)

  it("falls back to os.getenv", function()
    -- whatever the host has, the result is a client or a config error, never a raise
    local c, err = alephant.new()
    assert.is_true(c ~= nil or err.kind == "config" or err.kind == "auth")
  end)

  it("returns config errors for unusable settings", function()
    local c, err = alephant.new({ getenv = env({}) })
    assert.is_nil(c)
    assert.equal("config", err.kind)
    assert.matches("ALEPHANT_TOKEN", err.message)

    c, err = alephant.new({ token = "sk-123", getenv = env({}) })
    assert.is_nil(c)
    assert.matches("vk%-", err.message)

    c, err = alephant.new({ token = PAT, getenv = env({}) })
    assert.is_nil(c)
    assert.equal("workspace_id", err.field)
    assert.matches("ALEPHANT_WORKSPACE_ID", err.message)

    c, err = alephant.new({ token = VK, workspace_id = "not-a-uuid", getenv = env({}) })
    assert.is_nil(c)
    assert.equal("config", err.kind)
    assert.equal("workspace_id", err.field)

    c, err = alephant.new({ token = VK, base_url = "ftp://x", getenv = env({}) })
    assert.is_nil(c)
    assert.equal("base_url", err.field)

    c, err = alephant.new({ token = VK, getenv = env({ ALEPHANT_RATE_LIMIT_RPM = "lots" }) })
    assert.is_nil(c)
    assert.equal("rate_limit_rpm", err.field)
  end)

  it("refuses an expired JWT", function()
    local c, err = alephant.new({ token = jwt.make('{"exp":1000}'), getenv = env({}) })
    assert.is_nil(c)
    assert.equal("auth", err.kind)
    assert.matches("expired", err.message)
  end)

  it("refuses plain http to a non-loopback host unless allowed", function()
    local c, err = alephant.new({ token = VK, gateway_url = "http://gateway.example/v1", getenv = env({}) })
    assert.is_nil(c)
    assert.matches("in clear", err.message)
    c = alephant.new({ token = VK, gateway_url = "http://gateway.example/v1", allow_insecure_http = true,
      getenv = env({}) })
    assert.equal("http://gateway.example/v1", c.gateway_url)
    assert.is_truthy(alephant.new({ token = VK, base_url = "http://localhost:1", getenv = env({}) }))
    -- a URL accepted once with allow_insecure_http (config remembers accepted URLs) is
    -- still refused without it, and remembered under its own option name only
    c, err = alephant.new({ token = VK, gateway_url = "http://gateway.example/v1", getenv = env({}) })
    assert.is_nil(c)
    assert.matches("gateway_url.*in clear", err.message)
    c = alephant.new({ token = VK, gateway_url = "http://gateway.example/v1/", allow_insecure_http = true,
      getenv = env({}) })
    assert.equal("http://gateway.example/v1", c.gateway_url)
    c = alephant.new({ token = VK, base_url = "http://gateway.example/v1", allow_insecure_http = true,
      getenv = env({}) })
    assert.equal("http://gateway.example/v1", c.base_url)
  end)

  it("hands allow_insecure_http and the TLS options to the default transport", function()
    local core = require "alephant.core"
    local s = spy.on(core, "http_new")
    local c = alephant.new({ token = VK, gateway_url = "http://gateway.example/v1", allow_insecure_http = true,
      cafile = "/tmp/ca.pem", timeout = 7, getenv = env({}) })
    assert.is_table(c)
    assert.spy(s).was.called_with(match.is_same({ timeout = 7, connect_timeout = 10, cafile = "/tmp/ca.pem",
      allow_insecure_http = true }))
    s:revert()
  end)

  it("raises on unknown options and wrong types, with a hint", function()
    assert.has_error(function() alephant.new({ token = VK, workspace = WS }) end,
      nil)
    local ok, msg = pcall(alephant.new, { token = VK, time_out = 5 })
    assert.is_false(ok)
    assert.matches("unknown option 'time_out'", msg)
    assert.matches("did you mean 'timeout'", msg)
    ok, msg = pcall(alephant.new, { token = VK, timeout = "5" })
    assert.is_false(ok)
    assert.matches("'timeout' must be a number", msg)
    ok, msg = pcall(alephant.new, { token = VK, timeout = -1 })
    assert.is_false(ok)
    assert.matches("positive number of seconds", msg)
    ok, msg = pcall(alephant.new, { token = VK, max_retries = 1.5 })
    assert.is_false(ok)
    assert.matches("integer", msg)
    ok = pcall(alephant.new, "vk-abc")
    assert.is_false(ok)
  end)

  it("never shows the token", function()
    local c = alephant.new({ token = VK, getenv = env({}) })
    assert.equal("alephant.client<virtual_key vk-ag…3f8a>", tostring(c))
    for k, v in pairs(c) do
      assert.not_equal(VK, v, k)
    end
    local _, err = alephant.new({ token = VK .. "\n", getenv = env({}) })
    assert.not_matches("a3f8c2d1", tostring(err))
  end)
end)
