-- The URL policy and the header-name rule, as Lua sees them: core.check_base_url (the
-- transport's own check, used by alephant.new) and core.validate_header_name (the
-- transport's rule, used for call headers). One owner each: docs/architecture.md.
local core = require "alephant.core"
local alephant = require "alephant"

local VK = "vk-" .. string.rep("c", 40)
local function env(t) return function(k) return t[k] end end

local function refused(pattern, url, allow)
  local ok, err = core.check_base_url(url, "base_url", allow)
  assert.is_nil(ok, url)
  assert.equal("config", err.kind)
  assert.equal("base_url", err.field)
  if pattern then assert.matches(pattern, err.message, 1, true) end
  return err
end

describe("core.check_base_url", function()
  it("accepts https anywhere and plain http to loopback, trimming trailing slashes", function()
    assert.equal("https://alephant.io", core.check_base_url("https://alephant.io/", "base_url"))
    assert.equal("https://alephant.io/v1", core.check_base_url("https://alephant.io/v1///", "base_url"))
    assert.equal("http://localhost:8080", core.check_base_url("http://localhost:8080/", "base_url"))
    assert.equal("http://127.0.0.1:9", core.check_base_url("http://127.0.0.1:9", "base_url"))
    assert.equal("http://[::1]:9", core.check_base_url("http://[::1]:9/", "base_url"))
    -- libcurl reads 127.1 as 127.0.0.1: the check sees what the transport would connect to
    assert.equal("http://127.1", core.check_base_url("http://127.1/", "base_url"))
  end)

  it("refuses plain http beyond loopback unless allow_insecure_http", function()
    refused("base_url uses plain http:// to gateway.example: the token would travel in clear", "http://gateway.example")
    refused("allow_insecure_http = true", "http://127.0.0.1.nip.io/")
    refused("plain http:// to 127.evil.invalid", "http://127.evil.invalid/")
    assert.equal("http://gateway.example", core.check_base_url("http://gateway.example/", "base_url", true))
  end)

  it("refuses other schemes, relative and malformed URLs, queries, fragments and control characters", function()
    refused("base_url must use http:// or https://, got ftp://127.0.0.1", "ftp://127.0.0.1/")
    refused("got file://", "file:///etc/passwd")
    for _, url in ipairs({ "not a url", "/relative/path", " https://x", "https://x y", "https://" }) do
      refused("must be an absolute http:// or https:// URL", url)
    end
    refused("without query or fragment", "https://example.com/?")
    refused("without query or fragment", "https://example.com/v1#top")
    refused("must not contain CR", "https://example.com/\r\nX-Evil: 1")
    refused("must not contain NUL", "https://example.com/\0")
  end)

  it("shows the scheme and host of a rejected URL, never path, query, fragment or user info", function()
    local token = "vk-canary-" .. string.rep("5", 32)
    local cases = {
      "ftp://" .. token, "http://" .. token, token .. "://example.com", "ftp://user:" .. token .. "@example.com/",
      "https://example.com/" .. token .. "?q=1", "https://example.com/?key=" .. token,
      "https://user:" .. token .. "@example.com/#" .. token, "http://user:" .. token .. "@example.com/p",
      "gopher://example.com/" .. token,
    }
    for _, url in ipairs(cases) do
      local err = refused(nil, url)
      assert.is_nil(err.message:find("55555", 1, true), err.message)
      assert.is_nil(err.message:find("user", 1, true), err.message)
    end
    assert.matches("got ftp://vk-ca…5555", refused(nil, "ftp://" .. token).message, 1, true)
    assert.matches("got https://example.com/... (the rest is not shown)",
      refused(nil, "https://example.com/secret/path?key=abc").message, 1, true)
  end)

  it("refuses user information before the host, showing neither name nor password", function()
    local token = "vk-canary-" .. string.rep("7", 32)
    for _, url in ipairs({ "https://alice:" .. token .. "@example.com/v1", "https://alice@example.com",
      "https://:" .. token .. "@example.com/", "http://alice:pw@localhost:9/" }) do
      local err = refused(nil, url)
      local host = url:match("@([^/:]+)") -- scheme and host only, never the port
      assert.equal(("base_url must not contain user information (user:password@), got %s://...@%s: the client's "
        .. "token is its credential"):format(url:match("^(%a+)"), host), err.message)
      assert.is_nil(err.message:find("alice", 1, true))
      assert.is_nil(err.message:find("7777", 1, true))
    end
    -- alephant.new applies it to each of its three URLs
    for _, k in ipairs({ "base_url", "analytics_url", "gateway_url" }) do
      local c, err = alephant.new({ token = VK, [k] = "https://alice:pw@example.com", getenv = env({}) })
      assert.is_nil(c)
      assert.equal("config", err.kind)
      assert.equal(k, err.field)
    end
  end)

  it("names the field, and refuses values that are not strings", function()
    local _, err = core.check_base_url("ftp://x", "gateway_url")
    assert.equal("gateway_url", err.field)
    _, err = core.check_base_url(42, "gateway_url")
    assert.equal("config", err.kind)
    assert.matches("gateway_url must be a string, got number", err.message, 1, true)
    _, err = core.check_base_url(nil)
    assert.equal("base_url", err.field)
    assert.matches("required", err.message)
  end)

  it("is what alephant.new applies to its three URLs", function()
    local c, err = alephant.new({ token = VK, analytics_url = "ftp://" .. VK, getenv = env({}) })
    assert.is_nil(c)
    assert.equal("analytics_url", err.field)
    assert.is_nil(err.message:find(VK, 1, true))
    c = assert(alephant.new({ token = VK, getenv = env({ ALEPHANT_GATEWAY_BASE_URL = "http://localhost:9/v1/" }) }))
    assert.equal("http://localhost:9/v1", c.gateway_url)
  end)

  it("is the transport's check too", function()
    local http = assert(core.http_new({ timeout = 1 }))
    local _, err = http:request({ url = "http://gateway.example/v1" })
    assert.equal("config", err.kind)
    assert.equal("url", err.field)
    assert.equal("url uses plain http:// to gateway.example: the token would travel in clear; use https:// or set "
      .. "allow_insecure_http = true", err.message)
    _, err = http:request({ url = "ftp://user:pw@example.com/x?y" })
    assert.equal("url must use http:// or https://, got ftp://example.com", err.message)
    http:close()
  end)
end)

describe("core.url_host", function()
  it("gives the host of an absolute URL as an error may show it, nil for anything else", function()
    assert.equal("evil.example", core.url_host("https://user:pw@evil.example:8443/steal?secret=1#frag"))
    assert.equal("[::1]", core.url_host("http://[::1]:8/x"))
    assert.equal("vk-ca…5555", core.url_host("ftp://vk-canary-" .. string.rep("5", 32) .. "/x"))
    for _, v in ipairs({ "/api/v1/members", "", "http://", "not a url", "https://x\0y/", 5, nil }) do
      assert.is_nil(core.url_host(v), tostring(v))
    end
  end)
end)

describe("core.check_proxy messages", function()
  it("follow the same display rule: scheme and host only, a token as host redacted", function()
    local token = "vk-canary-" .. string.rep("5", 32)
    for _, px in ipairs({ "ftp://" .. token .. ":3128", "gopher://user:" .. token .. "@proxy.example:1/" .. token }) do
      local ok, err = core.check_proxy(px)
      assert.is_nil(ok)
      assert.equal("config", err.kind)
      assert.is_nil(err.message:find("55555", 1, true), err.message)
    end
    assert.matches("got ftp://vk-ca…5555", select(2, core.check_proxy("ftp://" .. token)).message, 1, true)
  end)
end)

describe("core.validate_header_name", function()
  it("accepts HTTP tokens only, without echoing the name", function()
    assert.is_true(core.validate_header_name("X-Request-Id"))
    assert.is_true(core.validate_header_name("!#$%&'*+-.^_`|~09azAZ", "headers"))
    for _, name in ipairs({ "", "X Note", "X-Note:", "X-Nöte", "X-Note\0", "X\r\nY", "(x)" }) do
      local ok, err = core.validate_header_name(name, "headers")
      assert.is_nil(ok, name)
      assert.equal("validation", err.kind)
      assert.equal("headers", err.field)
      assert.equal("headers: a header name must be a non-empty HTTP token (letters, digits and !#$%&'*+-.^_`|~)",
        err.message)
    end
    local _, err = core.validate_header_name(5, "headers")
    assert.matches("must be a string", err.message)
  end)

  it("is the rule the transport applies", function()
    local http = assert(core.http_new({ timeout = 1 }))
    local _, err = http:request({ url = "http://127.0.0.1:1/", headers = { ["X Note"] = "1" } })
    assert.equal("validation", err.kind)
    assert.equal("headers: a header name must be a non-empty HTTP token (letters, digits and !#$%&'*+-.^_`|~)",
      err.message)
    http:close()
  end)
end)
