-- One rule for names whose values are secrets (alephant.scrub.secret_name and its
-- credential words), applied by everything that hides values by name: the headers the
-- client scrubs from answers, the query values hooks redact, the gateway property keys
-- tracking refuses.
local core = require "alephant.core"
local hooks = require "alephant.hooks"
local scrub = require "alephant.scrub"
local tracking = require "alephant.gateway.tracking"

describe("credential names", function()
  it("are names with a credential word, or ending in key other than Idempotency-Key", function()
    for _, name in ipairs({ "Authorization", "X-Api-Key", "api_key", "Alephant-Embeddings-Key", "X-Session-Cookie",
      "refresh_token", "Client-Secret", "x-access-key-id", "PASSWD", "key" }) do
      assert.is_true(scrub.secret_name(name), name)
    end
    for _, name in ipairs({ "Idempotency-Key", "idempotency_key", "from", "page", "key_id", "Content-Type" }) do
      assert.is_false(scrub.secret_name(name), name)
    end
    assert.equal("token", scrub.secret_word("My-Token"))
    assert.is_nil(scrub.secret_word("cache_key"))
  end)

  it("are what hooks redact in a query, plus the query-only signature, sig, code and auth", function()
    assert.equal("https://h/x?X-Api-Key=REDACTED&session_cookie=REDACTED&idempotency_key=1&sig=REDACTED"
      .. "&Code=REDACTED&page=2",
      hooks.safe_url("https://h/x?X-Api-Key=k1&session_cookie=c1&idempotency_key=1&sig=s1&Code=c2&page=2"))
  end)

  it("are what the client scrubs from answers when a call sent them as headers", function()
    local secrets = core.secrets()
    scrub.remember(secrets, { ["X-Session-Cookie"] = "cookie-value-0123456789", ["Idempotency-Key"] = "idem-0123456789",
      ["X-Api-Key"] = "apikey-value-0123456789" })
    local out = scrub.deep(secrets, "cookie-value-0123456789 idem-0123456789 apikey-value-0123456789")
    assert.is_nil(out:find("cookie-value-0123456789", 1, true))
    assert.is_nil(out:find("apikey-value-0123456789", 1, true))
    assert.truthy(out:find("idem-0123456789", 1, true))
    secrets:close()
  end)

  it("are the property keys tracking refuses (a bare key allowed)", function()
    local _, err = tracking.headers{ properties = { session_cookie = "x" } }
    assert.equal("properties.session_cookie looks like a secret (it contains 'cookie'): property headers are stored "
      .. "in request logs and forwarded upstream, never put credentials in them", err.message)
    assert(tracking.headers{ properties = { cache_key = "x", key_id = "y" } })
  end)
end)
