-- Proxies and the token, against a real recording proxy (spec/support/proxy.lua) and the
-- loopback test server: loopback URLs never go through a proxy, plain http through a
-- proxy is refused unless allow_http_through_proxy, https goes through a CONNECT tunnel
-- only, and the `proxy` option is checked without echoing credentials. The environment
-- cases run a child process with http_proxy / ALL_PROXY / https_proxy set (libcurl reads
-- its own process's environment).
local core = require("alephant.core")
local cjson = require("cjson.safe")
local alephant = require("alephant")
local proxy = require("spec.support.proxy")
local server = require("spec.transport.server")
local socket = require("socket")
local sys = require("spec.support.sys")

local SECRET = "pat_proxyspec_" .. core.uuid4():gsub("-", "")
local NAME = "api.alephant.test" -- resolves nowhere: only a proxy can reach it (it tunnels to the test server)

-- Runs `code` in a child interpreter with this process's module paths and `env`;
-- returns what it printed.
local function child(code, env)
  local vars = {}
  for k, v in pairs(env) do vars[#vars + 1] = k .. "=" .. sys.shq(v) end
  local prelude = ("package.path = %q; package.cpath = %q; "):format(package.path, package.cpath)
  return sys.slurp("env " .. table.concat(vars, " ") .. " " .. sys.lua_command() .. " -e " .. sys.shq(prelude .. code)
    .. " 2>&1")
end

describe("proxies", function()
  local srv, px

  lazy_setup(function()
    srv = server.start()
    px = proxy.start({ upstream = srv.tls_port })
  end)
  lazy_teardown(function()
    if px then px:stop() end
    if srv then srv:stop() end
  end)
  before_each(function() px:clear() end)

  local function bearer() return { Authorization = "Bearer " .. SECRET } end

  describe("the proxy option", function()
    it("sends https through a CONNECT tunnel only: the proxy never sees the request or the token", function()
      local http = assert(core.http_new({ timeout = 10, proxy = px.url, cafile = srv.ca_file }))
      local res, err = http:request({ url = "https://" .. NAME .. ":" .. srv.tls_port .. "/echo?q=1",
        headers = bearer() })
      assert.is_table(res, tostring(err))
      assert.equal(200, res.status)
      local got = cjson.decode(res.body)
      assert.equal("Bearer " .. SECRET, got.headers.Authorization)
      assert.equal("alephant-lua/" .. core.version, got.headers["User-Agent"]) -- one line: a string
      local log = px:log()
      assert.matches("CONNECT " .. NAME:gsub("%.", "%%.") .. ":" .. srv.tls_port .. " HTTP/1.1", log)
      -- the CONNECT names the agent too (a proxy header, the transport's line), byte for
      -- byte as libcurl writes it from CURLOPT_USERAGENT: once, before Proxy-Connection
      local authority = NAME .. ":" .. srv.tls_port
      assert.truthy(log:find("CONNECT " .. authority .. " HTTP/1.1\r\nHost: " .. authority
        .. "\r\nUser-Agent: alephant-lua/" .. core.version .. "\r\nProxy-Connection: Keep-Alive\r\n\r\n", 1, true), log)
      assert.is_nil(log:find(SECRET, 1, true))
      assert.is_nil(log:find("/echo", 1, true))
      assert.is_nil(log:find("Authorization", 1, true))
      http:close()
      -- a blank user agent: its line in the CONNECT as libcurl writes it from
      -- CURLOPT_USERAGENT (a list line with a blank value libcurl would drop), none in the
      -- request for "" (the request's side: tests/c/test_http_headers.c)
      for _, ua in ipairs({ "", "  " }) do
        px:clear()
        http = assert(core.http_new({ timeout = 10, proxy = px.url, cafile = srv.ca_file, user_agent = ua }))
        res, err = http:request({ url = "https://" .. NAME .. ":" .. srv.tls_port .. "/echo?q=2" })
        assert.is_table(res, tostring(err))
        if ua == "" then assert.is_nil(cjson.decode(res.body).headers["User-Agent"]) end
        assert.truthy(px:log():find("CONNECT " .. authority .. " HTTP/1.1\r\nHost: " .. authority
          .. "\r\nUser-Agent: " .. ua .. "\r\nProxy-Connection: Keep-Alive\r\n\r\n", 1, true), px:log())
        http:close()
      end
    end)

    -- http:start returns once the request is written. Through a tunnel libcurl counts the
    -- CONNECT among the bytes it sent: start returned after the CONNECT, and the request
    -- itself only went out at finish (no overlap for a prefetch on a new connection).
    it("sends a started request through a new CONNECT tunnel before it is finished", function()
      local http = assert(core.http_new({ timeout = 10, proxy = px.url, cafile = srv.ca_file }))
      local pad = 8000 -- a request header this large: its bytes show in the proxy's log
      local p = assert(http:start({ url = "https://" .. NAME .. ":" .. srv.tls_port .. "/echo?started",
        headers = { ["X-Pad"] = string.rep("p", pad) } }))
      local sent = 0
      for _ = 1, 50 do -- the proxy runs in its own process: its log catches up (at most 5 s)
        sent = #px:log()
        if sent > pad then break end
        socket.sleep(0.1)
      end
      assert.is_true(sent > pad, "only " .. sent .. " bytes reached the proxy before the finish")
      local res = assert(p:finish())
      assert.equal("/echo?started", cjson.decode(res.body).uri)
      http:close()
    end)

    it("never sends a loopback URL through the proxy", function()
      local http = assert(core.http_new({ timeout = 10, proxy = px.url, cafile = srv.ca_file }))
      for _, url in ipairs({ srv.url .. "/echo", srv.https_url .. "/echo",
        "http://localhost:" .. srv.port .. "/echo" }) do
        local res, err = http:request({ url = url, headers = bearer() })
        assert.is_table(res, tostring(err))
        assert.equal(200, res.status, url)
      end
      assert.equal(0, px:connections())
      http:close()
    end)

    it("refuses plain http through the proxy unless allow_http_through_proxy, naming no credentials", function()
      local with_creds = "http://someuser:s3cretpw@127.0.0.1:" .. px.port
      local http = assert(core.http_new({ timeout = 10, proxy = with_creds, allow_insecure_http = true }))
      local res, err = http:request({ url = "http://" .. NAME .. "/api/v1/agents?x=1", headers = bearer() })
      assert.is_nil(res)
      assert.equal("config", err.kind)
      assert.equal("proxy", err.field)
      assert.is_falsy(err.retryable)
      assert.matches("refusing plain http:// to " .. NAME:gsub("%.", "%%.")
        .. " through the proxy http://127%.0%.0%.1", err.message)
      assert.matches("allow_http_through_proxy", err.message)
      for _, hidden in ipairs({ "someuser", "s3cretpw", "/api/v1", "x=1" }) do
        assert.is_nil(err.message:find(hidden, 1, true), hidden)
      end
      assert.equal(0, px:connections())
      http:close()
      -- the explicit opt-in: the proxy gets the request (and answers it itself), with the
      -- whole URL on its request line, query included (a direct or tunnelled request is
      -- sent its path and query as a request target: never to such a proxy)
      http = assert(core.http_new({ timeout = 10, proxy = px.url, allow_insecure_http = true,
        allow_http_through_proxy = true }))
      res = assert(http:request({ url = "http://" .. NAME .. "/api/v1/agents", headers = bearer() }))
      assert.equal(200, res.status)
      assert.matches('"proxied":true', res.body)
      assert.matches("GET http://" .. NAME:gsub("%.", "%%.") .. "/api/v1/agents HTTP/1.1", px:log())
      px:clear()
      res = assert(http:request({ url = "http://" .. NAME .. "/api/v1/agents?limit=2&q=%2F", headers = bearer() }))
      assert.equal(200, res.status)
      assert.matches("GET http://" .. NAME:gsub("%.", "%%.") .. "/api/v1/agents%?limit=2&q=%%2F HTTP/1.1", px:log())
      local _, agents = px:log():gsub("\r\n[Uu]ser%-[Aa]gent: [^\r]*\r\n", "")
      assert.equal(1, agents, px:log())
      http:close()
    end)

    it("checks the option without echoing credentials, in core.http_new and alephant.new", function()
      for _, bad in ipairs({ "ftp://user:pw1@proxy.example/x", "not a url at all pw1", "http://user:pw1@/",
        "socks6://h" }) do
        local http, err = core.http_new({ proxy = bad })
        assert.is_nil(http)
        assert.equal("config", err.kind)
        assert.equal("proxy", err.field)
        assert.matches("proxy must be", err.message)
        assert.is_nil(err.message:find("pw1", 1, true), err.message)
        local client, cerr = alephant.new({ token = SECRET, workspace_id = "123e4567-e89b-12d3-a456-426614174000",
          proxy = bad, getenv = function() return nil end })
        assert.is_nil(client)
        assert.equal("config", cerr.kind)
        assert.is_nil(cerr.message:find("pw1", 1, true))
      end
      local _, ftp = core.http_new({ proxy = "ftp://u:p@proxy.example:21/x" })
      assert.matches("ftp://proxy%.example", ftp.message)
      for _, good in ipairs({ "", "http://127.0.0.1:3128", "https://proxy.example", "socks5h://u:p@127.0.0.1:1080" }) do
        assert.is_true(core.check_proxy(good), good)
      end
      assert.has_error(function() core.http_new({ proxy = 3128 }) end)
      assert.has_error(function() core.http_new({ allow_http_through_proxy = "yes" }) end)
    end)
  end)

  describe("proxies from the environment", function()
    local function env()
      return { http_proxy = px.url, ALL_PROXY = px.url, all_proxy = px.url, https_proxy = px.url,
        HTTPS_PROXY = px.url, no_proxy = "", NO_PROXY = "" }
    end

    -- one request in a child process: prints "status" or "kind: message"
    local function request(opts, req)
      return child(([[
        local core = require("alephant.core")
        local http = assert(core.http_new(%s))
        local res, err = http:request(%s)
        io.write(res and tostring(res.status) or (err.kind .. ": " .. err.message))
      ]]):format(opts, req), env())
    end

    it("sends loopback http directly, token included, with http_proxy and ALL_PROXY set", function()
      local out = request("{ timeout = 10 }", ("{ url = %q, headers = { Authorization = %q } }")
        :format(srv.url .. "/echo", "Bearer " .. SECRET))
      assert.equal("200", out)
      assert.equal(0, px:connections())
    end)

    it("refuses non-loopback plain http that the environment would send through the proxy", function()
      local out = request("{ timeout = 10, allow_insecure_http = true }",
        ("{ url = %q, headers = { Authorization = %q } }"):format("http://" .. NAME .. "/echo", "Bearer " .. SECRET))
      assert.matches("^config: refusing plain http:// to " .. NAME:gsub("%.", "%%."), out)
      assert.equal(0, px:connections())
    end)

    it("uses https_proxy for https, through CONNECT only", function()
      local out = request(("{ timeout = 10, cafile = %q }"):format(srv.ca_file),
        ("{ url = %q, headers = { Authorization = %q } }"):format("https://" .. NAME .. ":" .. srv.tls_port .. "/echo",
        "Bearer " .. SECRET))
      assert.equal("200", out)
      local log = px:log()
      assert.matches("CONNECT " .. NAME:gsub("%.", "%%.") .. ":" .. srv.tls_port, log)
      assert.is_nil(log:find(SECRET, 1, true))
    end)

    it("honours no_proxy and proxy = \"\": such requests go direct (here: to a name that resolves nowhere)", function()
      local req = ("{ url = %q, headers = { Authorization = %q } }"):format("http://" .. NAME .. "/echo",
        "Bearer " .. SECRET)
      local saved = env
      env = function()
        local e = saved()
        e.no_proxy = "example.org, .alephant.test"
        return e
      end
      local out = request("{ timeout = 5, connect_timeout = 2, allow_insecure_http = true }", req)
      env = saved
      assert.not_matches("^config", out)
      assert.matches("^%a+: ", out) -- a network (or timeout) error: nothing listens there
      out = request("{ timeout = 5, connect_timeout = 2, proxy = \"\" }",
        ("{ url = %q }"):format("https://" .. NAME .. ":" .. srv.tls_port .. "/echo"))
      assert.not_matches("^config", out)
      assert.not_matches("^200", out)
      assert.equal(0, px:connections())
    end)

    it("reaches the transport of alephant.new: a loopback client ignores the proxy", function()
      local out = child(([[
        local alephant = require("alephant")
        local c = assert(alephant.new{ token = %q, workspace_id = "123e4567-e89b-12d3-a456-426614174000",
          base_url = %q, max_retries = 0, getenv = function() return nil end })
        local data, err, meta = c.agents:list()
        io.write(data and "ok" or (err.kind .. " " .. tostring(err.status)))
      ]]):format(SECRET, srv.url), env())
      assert.equal("http 404", out) -- the test server has no such route: it was reached directly
      assert.equal(0, px:connections())
    end)
  end)
end)
