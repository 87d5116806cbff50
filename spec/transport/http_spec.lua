-- The libcurl transport (core.http_new) against a real nginx on 127.0.0.1: what the
-- server received, keep-alive, deadlines, every failure kind, TLS, compression,
-- streaming, and the userdata lifecycle. Runs under Lua 5.4 and LuaJIT.
local core = require("alephant.core")
local cjson = require("cjson.safe")
local socket = require("socket")
local server = require("spec.transport.server")
local fork = require("spec.support.fork")
local sys = require("spec.support.sys")

local function echo(res)
  assert.is_table(res)
  local data = assert(cjson.decode(res.body))
  return data
end

-- Reads a stream to its end, asserting no error: the bytes it gave.
local function read_rest(s)
  local n = 0
  while true do
    local chunk, err = s:next()
    assert.is_nil(err)
    if not chunk then return n end
    n = n + #chunk
  end
end

local function is_lower(t)
  for k in pairs(t) do
    if k ~= k:lower() then return false, k end
  end
  return true
end

describe("core.http transport", function()
  local srv

  setup(function()
    srv = server.start()
  end)

  teardown(function()
    if srv then srv:stop() end
  end)

  describe("requests", function()
    local http
    before_each(function() http = core.http_new({ timeout = 5 }) end)
    after_each(function() http:close() end)

    it("sends GET, POST, PUT, PATCH and DELETE with headers and bodies intact", function()
      local body = "{\"a\":1}\0binary\255\254 é ✓\r\n"
      for _, method in ipairs({ "GET", "POST", "PUT", "PATCH", "DELETE" }) do
        local send = method ~= "GET" and body or nil
        local res, err = http:request({
          method = method, url = srv.url .. "/echo?q=1&r=two",
          headers = { ["X-Alpha"] = "1", ["X-Utf8"] = "héllo wörld", ["Content-Type"] = "application/json",
            ["Authorization"] = "Bearer vk-secret-123456" },
          body = send,
        })
        assert.is_nil(err, method)
        assert.equal(200, res.status)
        local got = echo(res)
        assert.equal(method, got.method)
        assert.equal("/echo?q=1&r=two", got.uri)
        assert.equal(send or "", got.body)
        assert.equal("1", got.headers["X-Alpha"])
        assert.equal("héllo wörld", got.headers["X-Utf8"])
        assert.equal("application/json", got.headers["Content-Type"])
        assert.equal("Bearer vk-secret-123456", got.headers["Authorization"])
        assert.equal("alephant-lua/" .. core.version, got.headers["User-Agent"])
        assert.is_nil(got.headers["Expect"])
        if send then assert.equal(tostring(#send), got.headers["Content-Length"]) end
      end
    end)

    -- The transport keeps the easy handle's options from one request to the next and
    -- sets only what changed: every change of method, headers, URL or timeout must
    -- still reach the server, and nothing of the previous request may stay behind.
    it("sends each request as given when method, headers, URL and timeout change between requests", function()
      local steps = {
        { method = "GET", headers = { ["X-A"] = "1" } },
        { method = "GET", headers = { ["X-A"] = "1" } }, -- the same: the steady path
        { method = "GET", headers = { ["X-A"] = "2" } },
        { method = "POST", headers = { ["X-A"] = "2" }, body = "one" },
        { method = "POST", headers = { ["X-A"] = "2" }, body = "second body" },
        { method = "HEAD", headers = {} },
        { method = "DELETE", headers = { ["X-B"] = "3" } },
        { method = "PUT", headers = { ["X-B"] = "3" }, body = "" },
        { method = "GET", headers = { ["X-A"] = "1" }, timeout = 2 },
        { method = "GET", headers = { ["X-A"] = "1", ["X-C"] = "" } },
      }
      for i, step in ipairs(steps) do
        local url = srv.url .. "/echo?step=" .. i
        local res, err = http:request({ method = step.method, url = url, headers = step.headers, body = step.body,
          timeout = step.timeout })
        assert.is_nil(err, i)
        assert.equal(200, res.status)
        if step.method == "HEAD" then
          assert.equal("", res.body)
        else
          local got = echo(res)
          assert.equal(step.method, got.method, i)
          assert.equal("/echo?step=" .. i, got.uri)
          assert.equal(step.body or "", got.body, i)
          for _, name in ipairs({ "X-A", "X-B", "X-C" }) do
            assert.equal(step.headers[name], got.headers[name], ("%d %s"):format(i, name))
          end
        end
      end
      -- a header refused after a good request leaves the next request intact
      local _, err = http:request({ url = srv.url .. "/echo", headers = { ["X-A"] = "bad\r\nX-Evil: 1" } })
      assert.equal("validation", err.kind)
      local got = echo(assert(http:request({ url = srv.url .. "/echo", headers = { ["X-A"] = "1" } })))
      assert.equal("1", got.headers["X-A"])
      assert.is_nil(got.headers["X-Evil"])
      -- another host on the same transport is checked again (plain http beyond loopback)
      local _, herr = http:request({ url = "http://example.com/echo" })
      assert.equal("config", herr.kind)
      assert.matches("plain http:// to example.com", herr.message, 1, true)
      -- the checks are remembered per scheme://authority: a URL that only starts like the
      -- last accepted one (a longer host, user info) is another authority, checked again
      assert(http:request({ url = srv.url .. "/echo" }))
      for _, url in ipairs({ srv.url .. ".example.com/echo", srv.url .. "@example.com/echo",
        srv.url:gsub("^http", "ftp") .. "/echo" }) do
        local _, uerr = http:request({ url = url })
        assert.equal("config", uerr.kind, url)
      end
      assert.equal(200, assert(http:request({ url = srv.url .. "/echo?after=1" })).status)
    end)

    -- A value that changes with its length kept (an SDK call's x-request-id) is written
    -- into the handle's header list in place: each request must send its own value, a
    -- refused value must go nowhere, and a value written before another header of the
    -- same request was refused must not stay behind.
    it("sends each request's own values when only the values change, and none refused", function()
      for i = 1, 5 do
        local id = core.uuid4()
        local got = echo(assert(http:request({ url = srv.url .. "/echo", headers = { ["X-A"] = "1",
          ["x-request-id"] = id } })))
        assert.equal(id, got.headers["x-request-id"], i)
        assert.equal("1", got.headers["X-A"], i)
      end
      local headers = { ["X-A"] = "1", ["X-B"] = "2" }
      echo(assert(http:request({ url = srv.url .. "/echo", headers = headers })))
      for _, bad in ipairs({ { ["X-A"] = "7", ["X-B"] = "\n" }, { ["X-A"] = "\r", ["X-B"] = "8" } }) do
        local res, err = http:request({ url = srv.url .. "/echo", headers = bad })
        assert.is_nil(res)
        assert.equal("validation", err.kind)
        assert.equal("headers", err.field)
        local got = echo(assert(http:request({ url = srv.url .. "/echo", headers = headers })))
        assert.equal("1", got.headers["X-A"])
        assert.equal("2", got.headers["X-B"])
      end
      local got = echo(assert(http:request({ url = srv.url .. "/echo", headers = { ["X-A"] = "3", ["X-B"] = "4" } })))
      assert.equal("3", got.headers["X-A"])
      assert.equal("4", got.headers["X-B"])
    end)

    -- Another method resets the easy handle (its header list with it); a request refused
    -- after that reset (headers over 64 KB) must not leave the handle remembering the
    -- previous header list as set, or the next request with those headers goes out bare.
    it("sends the headers after a request refused once the handle was reset for another method", function()
      local headers = { Authorization = "Bearer vk-secret-123456", ["Content-Type"] = "application/json" }
      local got = echo(assert(http:request({ url = srv.url .. "/echo", headers = headers })))
      assert.equal("Bearer vk-secret-123456", got.headers["Authorization"])
      local big = { Authorization = headers.Authorization, ["X-Big"] = string.rep("b", 70 * 1024) }
      local res, err = http:request({ method = "POST", url = srv.url .. "/echo", headers = big, body = "{}" })
      assert.is_nil(res)
      assert.equal("validation", err.kind)
      assert.equal("the request headers exceed 65536 bytes (servers refuse larger ones): not sent", err.message)
      got = echo(assert(http:request({ method = "POST", url = srv.url .. "/echo", headers = headers, body = "{}" })))
      assert.equal("POST", got.method)
      assert.equal("Bearer vk-secret-123456", got.headers["Authorization"])
      assert.equal("application/json", got.headers["Content-Type"])
      assert.equal("{}", got.body)
    end)

    -- A forked child (nginx forks its workers) must not use its parent's connection:
    -- it opens its own, and the parent's stays usable. LuaJIT's FFI can fork here.
    local fork_it = fork.available() and it or pending
    fork_it("opens a new connection in a forked child and leaves the parent's alone", function()
      local first = assert(http:request({ url = srv.url .. "/echo" }))
      local line = fork.run(function()
        local ok, res = pcall(http.request, http, { url = srv.url .. "/echo" })
        return ok and res and ("%d %d %d"):format(res.status, res.new_connections, echo(res).connection) or "failed"
      end)
      local status, fresh, conn = line:match("^(%d+) (%d+) (%d+)$")
      assert.equal("200", status)
      assert.equal("1", fresh) -- the child opened its own connection
      assert.not_equal(tostring(echo(first).connection), conn)
      local again = assert(http:request({ url = srv.url .. "/echo" }))
      assert.equal(0, again.new_connections) -- the parent's connection is still there
      assert.equal(echo(first).connection, echo(again).connection)
    end)

    it("sends DELETE without a body and POST/PUT with an empty one, inventing no Content-Type", function()
      local got = echo(http:request({ method = "DELETE", url = srv.url .. "/echo" }))
      assert.equal("DELETE", got.method)
      assert.is_nil(got.headers["Content-Length"])
      for _, method in ipairs({ "POST", "PUT", "PATCH" }) do
        got = echo(http:request({ method = method, url = srv.url .. "/echo" }))
        assert.equal(method, got.method)
        assert.equal("0", got.headers["Content-Length"])
        assert.is_nil(got.headers["Content-Type"])
      end
    end)

    it("sends a large body without waiting for 100-continue", function()
      local big = string.rep("0123456789abcdef", 2 * 65536) -- 2 MiB
      local t0 = socket.gettime()
      local got = echo(http:request({ method = "POST", url = srv.url .. "/echo", body = big }))
      assert.equal(#big, #got.body)
      assert.equal(big, got.body)
      assert.is_true(socket.gettime() - t0 < 0.9, "libcurl waited for 100-continue")
    end)

    it("keeps only the final response after a 100 Continue", function()
      local res = assert(http:request({ method = "POST", url = srv.url .. "/echo", body = "x",
        headers = { Expect = "100-continue" } }))
      assert.equal(200, res.status)
      assert.equal("application/json", res.headers["content-type"])
      assert.equal("x", echo(res).body)
    end)

    it("answers HEAD with headers and no body", function()
      local res = assert(http:request({ method = "HEAD", url = srv.url .. "/bytes?n=5000" }))
      assert.equal(200, res.status)
      assert.equal("", res.body)
      assert.equal("5000", res.headers["content-length"])
    end)

    it("returns non-2xx statuses as data, not errors", function()
      local res, err = http:request({ url = srv.url .. "/status?code=503" })
      assert.is_nil(err)
      assert.equal(503, res.status)
      res = assert(http:request({ url = srv.url .. "/status?code=404" }))
      assert.equal(404, res.status)
    end)

    it("lower-cases response header names and joins repeated headers", function()
      local res = assert(http:request({ url = srv.url .. "/headers" }))
      assert.is_true(is_lower(res.headers))
      assert.equal("one, two", res.headers["x-multi"])
      assert.equal("Value Kept", res.headers["x-mixed-case"])
      assert.equal("text/plain", res.headers["content-type"])
      assert.equal("headers", res.body)
    end)

    it("joins repeated headers in arrival order and continues a folded line's own value", function()
      local res = assert(http:request({ url = srv.url .. "/raw-headers" }))
      assert.equal(200, res.status)
      assert.same({
        ["content-length"] = "2",
        connection = "close",
        ["x-a"] = "1, 3 folded",
        ["x-b"] = "2, 4",
        ["x-empty"] = "",
      }, res.headers)
      assert.equal("ok", res.body)
    end)

    -- the binding keeps the header strings of a transport's last response and hands the
    -- next response those that are equal (src/lua/http_response.c, push_headers)
    it("returns each response's own headers when names, values, order and count change", function()
      local function escape(s)
        return (s:gsub("[^%w]", function(c) return ("%%%02X"):format(c:byte()) end))
      end
      local function get(fields)
        local block, want = {}, { ["content-length"] = "2", connection = "close" }
        for _, f in ipairs(fields) do
          block[#block + 1] = f[1] .. ": " .. f[2] .. "\r\n"
          want[f[1]:lower()] = f[2]
        end
        local res = assert(http:request({ url = srv.url .. "/given-headers?h=" .. escape(table.concat(block)) }))
        assert.same(want, res.headers)
        assert.equal("ok", res.body)
      end
      local long, longer = ("v"):rep(300), ("v"):rep(299) .. "w" -- longer than what is kept
      local many, other = {}, {}
      for i = 1, 40 do -- more fields than are kept
        many[i] = { "h" .. i, "v" .. i }
        other[i] = { "h" .. i, "w" .. i }
      end
      for _, fields in ipairs({
        { { "X-A", "1" }, { "X-B", "22" } },
        { { "X-A", "1" }, { "X-B", "22" } }, -- the same again
        { { "X-A", "2" }, { "X-B", "22" } }, -- a value changed, its length kept
        { { "X-A", "2" }, { "X-B", "2" } }, -- a value cut to a prefix of itself
        { { "X-A", "2" }, { "X-B", "22" } }, -- and grown back
        { { "X-B", "22" }, { "X-A", "2" } }, -- the order
        { { "X-A", "22" }, { "X-B", "2" } }, -- values swapped between the names
        { { "X-A", long } }, { { "X-A", long } }, { { "X-A", longer } }, { { "X-A", "1" } },
        many, many, other, many,
        { { "X-A", "" }, { "X-B", "" } },
        {},
        { { "X-A", "1" }, { "X-B", "22" } },
      }) do
        get(fields)
      end
    end)

    it("asks for compression and decodes gzip", function()
      local res = assert(http:request({ url = srv.url .. "/gzip?n=20000" }))
      assert.equal("gzip", res.headers["content-encoding"])
      assert.equal(20000, #res.body)
      local line = "the quick brown fox jumps over the lazy dog\n"
      assert.equal(string.rep(line, 500):sub(1, 20000), res.body)
      -- one line (a repeated header would echo as a list), naming what libcurl decodes
      local got = echo(http:request({ url = srv.url .. "/echo" }))
      assert.is_string(got.headers["Accept-Encoding"])
      assert.matches("^deflate, gzip", got.headers["Accept-Encoding"])
      -- the caller's own Accept-Encoding is sent instead, once
      got = echo(http:request({ url = srv.url .. "/echo", headers = { ["accept-encoding"] = "identity" } }))
      assert.equal("identity", got.headers["accept-encoding"])
      assert.is_nil(got.headers["Accept-Encoding"])
    end)

    it("reuses one connection for 100 sequential requests", function()
      local fresh = core.http_new({ timeout = 5 })
      local opened, ids, ports = 0, {}, {}
      for i = 1, 100 do
        local res = assert(fresh:request({ method = i % 2 == 0 and "POST" or "GET", url = srv.url .. "/echo",
          body = i % 2 == 0 and ("n=" .. i) or nil }))
        opened = opened + res.new_connections
        local got = echo(res)
        ids[got.connection] = true
        ports[res.local_port] = true
        assert.equal(i, got.connection_requests)
      end
      fresh:close()
      assert.equal(1, opened)
      local n_ids, n_ports = 0, 0
      for _ in pairs(ids) do n_ids = n_ids + 1 end
      for _ in pairs(ports) do n_ports = n_ports + 1 end
      assert.equal(1, n_ids)
      assert.equal(1, n_ports)
    end)
  end)

  describe("failures", function()
    it("ends a stalled request at the total timeout with kind timeout", function()
      local http = core.http_new({ timeout = 0.5 })
      local t0 = socket.gettime()
      local res, err = http:request({ url = srv.url .. "/stall?ms=5000" })
      local elapsed = socket.gettime() - t0
      assert.is_nil(res)
      assert.equal("timeout", err.kind)
      assert.is_true(err.retryable)
      assert.matches("timed out after 500 ms", err.message)
      assert.is_true(elapsed >= 0.45 and elapsed < 1.5, "elapsed " .. elapsed)
      -- the transport recovers on a new connection
      res = assert(http:request({ url = srv.url .. "/echo" }))
      assert.equal(200, res.status)
      assert.equal(1, res.new_connections)
      http:close()
    end)

    it("lets a request override the timeout, in fractions of a second", function()
      local http = core.http_new({ timeout = 30 })
      local t0 = socket.gettime()
      local _, err = http:request({ url = srv.url .. "/stall?ms=5000", timeout = 0.25 })
      local elapsed = socket.gettime() - t0
      assert.equal("timeout", err.kind)
      assert.is_true(elapsed >= 0.2 and elapsed < 1.2, "elapsed " .. elapsed)
      http:close()
    end)

    it("reports a refused connection as network, retryable, naming the host", function()
      local http = core.http_new({ timeout = 5 })
      local res, err = http:request({ url = "http://127.0.0.1:" .. server.free_port() .. "/echo" })
      assert.is_nil(res)
      assert.equal("network", err.kind)
      assert.is_true(err.retryable)
      assert.matches("127.0.0.1", err.message)
      assert.matches("^alephant network error: ", tostring(err))
      http:close()
    end)

    it("reports a connection closed without an answer, and a reset, as network", function()
      local http = core.http_new({ timeout = 5 })
      local _, err = http:request({ url = srv.url .. "/reset" })
      assert.equal("network", err.kind)
      assert.is_true(err.retryable)
      -- unread request bytes make the kernel answer with RST
      _, err = http:request({ method = "POST", url = srv.url .. "/reset", body = string.rep("b", 4 * 1024 * 1024) })
      assert.equal("network", err.kind)
      assert.is_true(err.retryable)
      http:close()
    end)

    it("reports truncated bodies as network", function()
      local http = core.http_new({ timeout = 5 })
      local _, err = http:request({ url = srv.url .. "/truncated" })
      assert.equal("network", err.kind)
      assert.matches("900 bytes remaining", err.message)
      _, err = http:request({ url = srv.url .. "/truncated-chunked" })
      assert.equal("network", err.kind)
      assert.is_true(err.retryable)
      http:close()
    end)

    it("stops reading past max_body with kind too_large", function()
      local http = core.http_new({ timeout = 5, max_body = 1000 })
      local res = assert(http:request({ url = srv.url .. "/bytes?n=1000" }))
      assert.equal(1000, #res.body)
      local _, err = http:request({ url = srv.url .. "/bytes?n=1001" })
      assert.equal("too_large", err.kind)
      assert.is_false(err.retryable)
      assert.matches("max_body %(1000 bytes%)", err.message)
      -- decoded bytes count, whatever the wire size
      _, err = http:request({ url = srv.url .. "/gzip?n=5000" })
      assert.equal("too_large", err.kind)
      assert.equal(200, assert(http:request({ url = srv.url .. "/bytes?n=10" })).status)
      http:close()
    end)

    -- Each new header name was compared with every stored one (33,000 tiny headers took
    -- seconds of CPU inside libcurl's callback): past 512 distinct names the response
    -- is refused as too_large, like headers over 1 MiB.
    it("refuses a response with more than 512 distinct header names as too_large", function()
      local http = core.http_new({ timeout = 5 })
      local res = assert(http:request({ url = srv.url .. "/many-headers?n=509" }))
      assert.equal(200, res.status)
      assert.equal("v", res.headers.h509)
      assert.equal("ok", res.body)
      local _, err = http:request({ url = srv.url .. "/many-headers?n=20000" })
      assert.equal("too_large", err.kind)
      assert.is_false(err.retryable)
      assert.equal("the response from 127.0.0.1 has more than 512 distinct header names", err.message)
      assert.equal(200, assert(http:request({ url = srv.url .. "/bytes?n=10" })).status)
      http:close()
    end)

    it("defaults max_body to 32 MiB", function()
      local http = core.http_new({ timeout = 20 })
      local _, err = http:request({ url = srv.url .. "/bytes?n=" .. (32 * 1024 * 1024 + 1) })
      assert.equal("too_large", err.kind)
      assert.matches("33554432 bytes", err.message)
      http:close()
    end)

    it("never puts headers or bodies in error messages", function()
      local http = core.http_new({ timeout = 0.3 })
      local secret = "vk-agent-topsecret-0123456789"
      for _, path in ipairs({ "/stall?ms=2000", "/reset", "/truncated" }) do
        local url = srv.url .. path .. (path:find("?", 1, true) and "&" or "?") .. "token=" .. secret
        local _, err = http:request({ method = "POST", url = url,
          headers = { Authorization = "Bearer " .. secret }, body = "password=" .. secret })
        assert.is_table(err)
        assert.not_matches("topsecret", tostring(err))
        assert.not_matches("topsecret", err.message)
        assert.not_matches("\n", tostring(err))
      end
      http:close()
    end)
  end)

  describe("TLS", function()
    it("refuses a server whose CA is unknown, with kind tls", function()
      local http = core.http_new({ timeout = 5 })
      local res, err = http:request({ url = srv.https_url .. "/echo" })
      assert.is_nil(res)
      assert.equal("tls", err.kind)
      assert.is_false(err.retryable)
      assert.matches("cafile", err.message)
      http:close()
    end)

    it("trusts the CA given as cafile", function()
      local http = core.http_new({ timeout = 5, cafile = srv.ca_file })
      local res = assert(http:request({ method = "POST", url = srv.https_url .. "/echo", body = "over tls" }))
      assert.equal(200, res.status)
      assert.equal("over tls", echo(res).body)
      -- and keeps the TLS connection alive
      res = assert(http:request({ url = srv.https_url .. "/echo" }))
      assert.equal(0, res.new_connections)
      assert.equal(2, echo(res).connection_requests)
      http:close()
    end)

    it("trusts a CA directory given as capath", function()
      local dir = srv.dir .. "/capath"
      assert(os.execute("mkdir -p '" .. dir .. "' && cp '" .. srv.ca_file .. "' '" .. dir .. "/'"
        .. " && openssl rehash '" .. dir .. "' >/dev/null 2>&1"))
      local http = core.http_new({ timeout = 5, capath = dir, cafile = dir .. "/ca.pem" })
      assert.equal(200, assert(http:request({ url = srv.https_url .. "/echo" })).status)
      http:close()
    end)

    it("turns a broken pipe under TLS into a network error, not a SIGPIPE", function()
      local http = core.http_new({ timeout = 10, cafile = srv.ca_file })
      for _ = 1, 3 do -- lua5.4 leaves SIGPIPE at its default: a stray one would end the process
        local _, err = http:request({ method = "POST", url = srv.https_url .. "/reset",
          body = string.rep("z", 8 * 1024 * 1024) })
        assert.equal("network", err.kind)
      end
      assert.equal(200, assert(http:request({ url = srv.https_url .. "/echo" })).status)
      http:close()
    end)

    it("reports an unreadable cafile as tls", function()
      local http = core.http_new({ timeout = 5, cafile = srv.dir .. "/no-such-ca.pem" })
      local _, err = http:request({ url = srv.https_url .. "/echo" })
      assert.equal("tls", err.kind)
      http:close()
    end)
  end)

  describe("input checks", function()
    local http
    before_each(function() http = core.http_new({ timeout = 5 }) end)
    after_each(function() http:close() end)

    -- requests the server saw on this transport's connection so far
    local function seen()
      return echo(http:request({ url = srv.url .. "/echo" })).connection_requests
    end

    it("refuses control characters in headers before sending anything", function()
      local before = seen()
      for _, bad in ipairs({ "a\r\nX-Injected: 1", "a\nb", "nul\0byte", "tab\tinside", "del\127" }) do
        local res, err = http:request({ url = srv.url .. "/echo", headers = { ["X-Bad"] = bad } })
        assert.is_nil(res)
        assert.equal("validation", err.kind)
        assert.equal("headers", err.field)
        assert.matches("X%-Bad", err.message)
        assert.not_matches("Injected", err.message)
      end
      for _, name in ipairs({ "Bad Name", "Bad:Name", "", "X-\r\n" }) do
        local _, err = http:request({ url = srv.url .. "/echo", headers = { [name] = "v" } })
        assert.equal("validation", err.kind)
      end
      local _, err = http:request({ url = srv.url .. "/echo", method = "GE T" })
      assert.equal("validation", err.kind)
      assert.equal(before + 1, seen())
    end)

    -- up to 16 headers are read into a C array, more into a scratch userdata: both ways
    -- send every header and refuse a bad one before sending anything
    it("sends and checks requests with few and with many headers alike", function()
      local before = seen()
      for _, count in ipairs({ 3, 16, 17, 40 }) do
        local headers = {}
        for i = 1, count do headers["X-H" .. i] = "v" .. i end
        local got = echo(http:request({ url = srv.url .. "/echo", headers = headers }))
        for i = 1, count do assert.equal("v" .. i, got.headers["X-H" .. i], count .. " headers") end
        headers["X-H" .. count] = "bad\r\nX-Injected: 1"
        local res, err = http:request({ url = srv.url .. "/echo", headers = headers })
        assert.is_nil(res)
        assert.equal("validation", err.kind)
        assert.equal("headers", err.field)
        assert.equal("header X-H" .. count .. " must not contain CR (byte 0x0D at position 4): it would end up "
          .. "in an HTTP header", err.message)
      end
      assert.equal(before + 5, seen()) -- the four good requests and this one
    end)

    it("refuses a user_agent with control characters", function()
      local h, err = core.http_new({ user_agent = "agent\r\nX-Evil: 1" })
      assert.is_nil(h)
      assert.equal("validation", err.kind)
      local custom = core.http_new({ user_agent = "my-app/1.0" })
      assert.equal("my-app/1.0", echo(custom:request({ url = srv.url .. "/echo" })).headers["User-Agent"])
      custom:close()
    end)

    -- The User-Agent line travels in the header list (libcurl formats CURLOPT_USERAGENT
    -- twice per request): a request's own User-Agent must still replace it, not join it,
    -- and user_agent = "" must still send none. Over plain http, TLS and HTTP/2.
    it("sends one User-Agent: the transport's, the request's own instead, or none", function()
      -- the User-Agent lines the server got, whatever their case (HTTP/2 lowers it)
      local function agents(res)
        local found = {}
        for name, v in pairs(echo(res).headers) do
          if name:lower() == "user-agent" then
            if type(v) == "table" then
              for _, one in ipairs(v) do found[#found + 1] = one end
            else
              found[#found + 1] = v
            end
          end
        end
        return found
      end
      local none = assert(core.http_new({ user_agent = "", cafile = srv.ca_file }))
      local tls = assert(core.http_new({ timeout = 5, cafile = srv.ca_file }))
      local mine = "alephant-lua/" .. core.version
      for _, base in ipairs({ srv.url, srv.https_url, srv.h2_url }) do
        local url = base .. "/echo?q=1"
        assert.same({ mine }, agents(tls:request({ url = url })), base)
        for _, own in ipairs({ "caller/2.0", "" }) do
          assert.same({ own }, agents(tls:request({ url = url, headers = { ["user-agent"] = own } })), base)
        end
        assert.same({ mine }, agents(tls:request({ url = url, headers = { ["X-After"] = "1" } })), base)
        assert.same({}, agents(none:request({ url = url })), base)
        assert.same({ "1" }, agents(none:request({ url = url, headers = { ["User-Agent"] = "1" } })), base)
      end
      none:close()
      tls:close()
    end)

    it("refuses URLs that are not http(s), and plain http beyond loopback", function()
      for _, url in ipairs({ "ftp://127.0.0.1/x", "not a url", "/relative/path", "file:///etc/passwd" }) do
        local _, err = http:request({ url = url })
        assert.equal("config", err.kind, url)
        assert.equal("url", err.field)
      end
      local _, err = http:request({ url = "http://alephant.invalid/api" })
      assert.equal("config", err.kind)
      assert.matches("allow_insecure_http", err.message)
      _, err = http:request({ url = "http://127.evil.invalid/api" })
      assert.equal("config", err.kind)
      local lax = core.http_new({ timeout = 5, allow_insecure_http = true })
      _, err = lax:request({ url = "http://alephant.invalid/api" })
      assert.equal("network", err.kind) -- got past the check, then DNS failed
      lax:close()
      assert.equal(200, assert(http:request({ url = "http://localhost:" .. srv.port .. "/echo" })).status)
    end)

    it("raises on wrong argument types and unknown keys", function()
      assert.has_error(function() core.http_new({ timeout = "5" }) end)
      assert.has_error(function() core.http_new({ timeout = -1 }) end)
      assert.has_error(function() core.http_new({ timeout = 0 }) end)
      assert.has_error(function() core.http_new({ connect_timeout = 0 / 0 }) end)
      assert.has_error(function() core.http_new({ max_body = 1.5 }) end)
      assert.has_error(function() core.http_new({ max_body = 0 }) end)
      assert.has_error(function() core.http_new({ cafile = 1 }) end)
      assert.has_error(function() core.http_new({ allow_insecure_http = "yes" }) end)
      assert.has_error(function() core.http_new("x") end)
      local ok, msg = pcall(core.http_new, { timeot = 5 })
      assert.is_false(ok)
      assert.matches("unknown key 'timeot'", msg)
      assert.matches("timeout", msg)
      assert.has_error(function() http:request() end)
      assert.has_error(function() http:request({}) end)
      assert.has_error(function() http:request({ url = 1 }) end)
      assert.has_error(function() http:request({ url = srv.url, method = 1 }) end)
      assert.has_error(function() http:request({ url = srv.url, headers = "x" }) end)
      assert.has_error(function() http:request({ url = srv.url, headers = { A = 1 } }) end)
      assert.has_error(function() http:request({ url = srv.url, body = {} }) end)
      assert.has_error(function() http:request({ url = srv.url, timeout = "1" }) end)
      assert.has_error(function() http:request({ url = srv.url, bdy = "x" }) end)
      assert.has_error(function() http.request({}, { url = srv.url }) end)
    end)
  end)

  describe("lifecycle", function()
    it("closes idempotently and refuses use after close", function()
      local http = core.http_new()
      assert.matches("alephant.Http %(open%)", tostring(http))
      assert.is_true(http:close())
      assert.is_true(http:close())
      assert.matches("alephant.Http %(closed%)", tostring(http))
      local res, err = http:request({ url = srv.url .. "/echo" })
      assert.is_nil(res)
      assert.equal("network", err.kind)
      assert.equal("transport is closed", err.message)
      assert.is_false(err.retryable)
      local s, serr = http:stream({ url = srv.url .. "/echo" })
      assert.is_nil(s)
      assert.equal("transport is closed", serr.message)
    end)

    -- Runs `script` in a child interpreter (whose small heap lets the collector run
    -- finalizers inside the transport's calls) with URL set, `garbage(fn)` (an object
    -- whose finalizer runs fn) and a restless collector: big steps (Lua 5.4: the default
    -- pause, with which its finalizers run inside the pushes; LuaJIT: no pause).
    -- Returns what the script wrote.
    local function restless(url, script)
      local prelude = [=[
        local function garbage(fn)
          if _VERSION == "Lua 5.1" then -- LuaJIT: __gc on userdata only
            local p = newproxy(true)
            getmetatable(p).__gc = fn
          else
            setmetatable({}, { __gc = fn })
          end
        end
        if _VERSION == "Lua 5.4" then collectgarbage("incremental", 0, 1000, 0) else
          collectgarbage("setpause", 0)
          collectgarbage("setstepmul", 1000)
        end
      ]=]
      return sys.slurp(("LUA_PATH=%s LUA_CPATH=%s timeout 60 %s -e %s 2>&1"):format(sys.shq(package.path),
        sys.shq(package.cpath), sys.lua_command(), sys.shq(("URL = %q\n"):format(url) .. prelude .. script)))
    end

    -- A request's response is pushed into Lua from the transport object itself; a
    -- finalizer run meanwhile (the allocations of the push run them) may use the same
    -- transport again, or close it. Every answer must still be whole (under check-asan:
    -- no buffer freed or reused early). A child interpreter, whose small heap lets a
    -- restless collector run the finalizers inside the requests.
    it("answers requests made and closes made by finalizers while a response is pushed", function()
      local script = [=[
        local core = require("alephant.core")
        local url = assert(URL)
        local function whole(res)
          return res and res.status == 200 and res.body == "headers" and res.headers["x-multi"] == "one, two"
            and res.headers["x-mixed-case"] == "Value Kept"
        end
        local http = core.http_new({ timeout = 5 })
        local nested, nested_ok, bad = 0, 0, 0
        local function finalizer()
          nested = nested + 1
          if whole(http:request({ url = url })) then nested_ok = nested_ok + 1 end
        end
        for _ = 1, 300 do
          garbage(finalizer)
          garbage(finalizer)
          if not whole(http:request({ url = url })) then bad = bad + 1 end
        end
        -- a finalizer closes the transport: every answer before is whole, then it is closed
        local closer, closed = core.http_new({ timeout = 5 }), "never"
        for _ = 1, 300 do
          garbage(function() closer:close() end)
          local res, err = closer:request({ url = url })
          if not res then closed = err.message break end
          if not whole(res) then bad = bad + 1 end
        end
        io.write(("nested=%s whole=%s bad=%d closed=%s"):format(nested > 0, nested == nested_ok, bad, closed))
      ]=]
      local out = restless(srv.url .. "/headers", script)
      assert.equal("nested=true whole=true bad=0 closed=transport is closed", out)
    end)

    -- start, stream and request_many allocate (the pending/stream userdata, its
    -- registry reference, the batch's scratch arrays) after they checked that the
    -- transport is open: a finalizer those allocations run may close it, and then the
    -- call must say so rather than hand libcurl a freed transport (it crashed).
    it("says 'transport is closed' when a finalizer closes it while start, stream or request_many set up", function()
      local script = [=[
        local core = require("alephant.core")
        local url = assert(URL)
        local calls = {
          start = function(h) local p, err = h:start({ url = url }) if p then p:close() end return p, err end,
          stream = function(h) local s, err = h:stream({ url = url }) if s then s:close() end return s, err end,
          request_many = function(h)
            local t, err = h:request_many({ { url = url } })
            if t and t[1] == nil then return nil, t[2] end
            return t, err
          end,
        }
        local out = {}
        for _, name in ipairs({ "start", "stream", "request_many" }) do
          local closed = "never"
          for _ = 1, 200 do
            local closer = core.http_new({ timeout = 5 })
            for _ = 1, 5 do
              garbage(function() closer:close() end)
              local ok, err = calls[name](closer)
              if not ok then closed = err.message break end
            end
            closer:close()
            if closed ~= "never" then break end
          end
          out[#out + 1] = name .. "=" .. closed
        end
        io.write(table.concat(out, " "))
      ]=]
      local out = restless(srv.url .. "/echo", script)
      assert.equal("start=transport is closed stream=transport is closed request_many=transport is closed", out)
    end)

    it("collects open transports and streams", function()
      for _ = 1, 30 do
        local http = core.http_new({ timeout = 5 })
        assert(http:request({ url = srv.url .. "/echo" }))
        local s = assert(http:stream({ url = srv.url .. "/stream?chunks=50&size=100" }))
        assert(s:next())
      end
      collectgarbage()
      collectgarbage()
      local http = core.http_new({ timeout = 5 })
      http:close()
      collectgarbage()
      assert.equal(200, assert(core.http_new():request({ url = srv.url .. "/echo" })).status)
      collectgarbage()
    end)

    it("keeps a transport alive while a stream of it is referenced", function()
      local s = assert(core.http_new({ timeout = 5 }):stream({ url = srv.url .. "/stream?chunks=20&size=50&ms=5" }))
      collectgarbage()
      collectgarbage()
      assert.equal(20 * 50, read_rest(s))
    end)

    it("supports Lua 5.4 to-be-closed variables", function()
      if _VERSION ~= "Lua 5.4" then return end
      local chunk = assert(load([[
        local core, url = ...
        local seen
        do
          local http <close> = core.http_new({ timeout = 5 })
          local s <close> = assert(http:stream({ url = url .. "/stream?chunks=5&size=50" }))
          assert(s:next())
          seen = { http = http, s = s }
        end
        return seen
      ]]))
      local seen = chunk(core, srv.url)
      assert.matches("closed", tostring(seen.http))
      assert.matches("closed", tostring(seen.s))
      assert.is_true(seen.s:close())
      assert.is_true(seen.http:close())
    end)

    it("reports libcurl's facts", function()
      local info = core.http_info()
      assert.is_string(info.curl_version)
      assert.is_boolean(info.threadsafe)
      assert.is_boolean(info.async_dns)
      assert.equal("alephant-lua/" .. core.version, info.user_agent)
    end)
  end)

  describe("streams", function()
    it("exposes status and headers first, then the body in many next() steps", function()
      local http = core.http_new({ timeout = 10 })
      local t0 = socket.gettime()
      local s = assert(http:stream({ url = srv.url .. "/stream?chunks=20&size=100&ms=20" }))
      assert.is_true(socket.gettime() - t0 < 0.3, "stream() waited for the whole body")
      assert.equal(200, s:status())
      assert.equal("text/event-stream", s:headers()["content-type"])
      assert.is_true(is_lower(s:headers()))
      assert.equal(1, s:new_connections())
      assert.matches("alephant.HttpStream %(open%)", tostring(s))
      local parts, steps, first_at = {}, 0, nil
      while true do
        local chunk, err = s:next()
        assert.is_nil(err)
        if not chunk then break end
        first_at = first_at or socket.gettime()
        steps = steps + 1
        parts[#parts + 1] = chunk
      end
      local body = table.concat(parts)
      assert.equal(20 * 100, #body)
      assert.matches("^data: 1 s+\n\ndata: 2 ", body)
      assert.is_true(steps >= 10, "only " .. steps .. " steps")
      assert.is_true(socket.gettime() - first_at > 0.2, "the first chunk came only at the end")
      assert.is_nil(s:next()) -- stays at the end
      assert.equal(200, s:status())
      assert.is_true(s:close())
      assert.is_true(s:close())
      local _, err = s:next()
      assert.equal("stream is closed", err.message)
      _, err = s:status()
      assert.equal("stream is closed", err.message)
      -- the connection went back to the pool
      assert.equal(0, assert(http:request({ url = srv.url .. "/echo" })).new_connections)
      http:close()
    end)

    it("keeps the Lua heap bounded over a long stream", function()
      local http = core.http_new({ timeout = 60 })
      local function run(chunks)
        local s = assert(http:stream({ url = srv.url .. "/stream?chunks=" .. chunks .. "&size=1000" }))
        local total, steps, peak, base = 0, 0, 0, nil
        while true do
          local chunk, err = s:next()
          assert.is_nil(err)
          if not chunk then break end
          total = total + #chunk
          steps = steps + 1
          if steps % 50 == 0 then
            collectgarbage()
            local kb = collectgarbage("count")
            base = base or kb
            if kb > peak then peak = kb end
          end
        end
        s:close()
        assert.equal(chunks * 1000, total)
        return peak - (base or 0), steps
      end
      local grow_short = run(2000)  -- 2 MB
      local grow_long, steps = run(20000) -- 20 MB
      assert.is_true(steps > 100, "steps " .. steps)
      assert.is_true(grow_long < 256, "heap grew by " .. grow_long .. " KiB")
      assert.is_true(grow_long < grow_short + 128, "heap grows with the stream: " .. grow_short .. " vs " .. grow_long)
      http:close()
    end)

    it("delivers every byte when other requests run while the stream waits", function()
      local http = core.http_new({ timeout = 30 })
      local s = assert(http:stream({ url = srv.url .. "/bytes?n=3000000" }))
      for _ = 1, 5 do -- drives the shared multi handle: the stream must pause, not drop or hoard
        assert.equal(200, assert(http:request({ url = srv.url .. "/echo" })).status)
      end
      local total = 0
      while true do
        local chunk, err = s:next()
        assert.is_nil(err)
        if not chunk then break end
        assert.is_true(#chunk <= 200 * 1024, "chunk of " .. #chunk)
        assert.equal(string.rep("x", #chunk), chunk)
        total = total + #chunk
      end
      assert.equal(3000000, total)
      http:close()
    end)

    it("returns the bytes that arrived, then the error of a truncated stream", function()
      local http = core.http_new({ timeout = 5 })
      local s = assert(http:stream({ url = srv.url .. "/truncated-chunked" }))
      local got, err = {}
      while true do
        local chunk, e = s:next()
        if not chunk then
          err = e
          break
        end
        got[#got + 1] = chunk
      end
      assert.equal("first chunk\nsecond chunk\n", table.concat(got))
      assert.equal("network", err.kind)
      assert.is_true(err.retryable)
      local _, again = s:next()
      assert.equal("network", again.kind)
      s:close()
      http:close()
    end)

    it("fails at open on refused connections and stalls", function()
      local http = core.http_new({ timeout = 0.3 })
      local s, err = http:stream({ url = "http://127.0.0.1:" .. server.free_port() .. "/" })
      assert.is_nil(s)
      assert.equal("network", err.kind)
      local t0 = socket.gettime()
      s, err = http:stream({ url = srv.url .. "/stall?ms=3000" })
      assert.is_nil(s)
      assert.equal("timeout", err.kind)
      assert.is_true(err.retryable)
      assert.is_true(socket.gettime() - t0 < 1.3)
      http:close()
    end)

    it("times out a stream that stops sending", function()
      local http = core.http_new({ timeout = 30 })
      local s = assert(http:stream({ url = srv.url .. "/stream?chunks=3&size=50&ms=2000", timeout = 0.5 }))
      local t0 = socket.gettime()
      local chunk = assert(s:next())
      assert.matches("^data: 1", chunk)
      local _, err = s:next()
      assert.equal("timeout", err.kind)
      assert.is_true(socket.gettime() - t0 < 1.5)
      http:close()
    end)

    it("detaches open streams when the transport is closed", function()
      local http = core.http_new({ timeout = 5 })
      local s = assert(http:stream({ url = srv.url .. "/stream?chunks=100&size=100&ms=5" }))
      http:close()
      local chunk, err = s:next()
      assert.is_nil(chunk)
      assert.equal("transport is closed", err.message)
      assert.equal(200, s:status()) -- what was known stays readable
      assert.is_true(s:close())
    end)

    it("sends a request body on a stream", function()
      local http = core.http_new({ timeout = 5 })
      local body = string.rep("streamed body ", 10000)
      local s = assert(http:stream({ method = "POST", url = srv.url .. "/echo", body = body,
        headers = { ["Content-Type"] = "text/plain" } }))
      local parts = {}
      for chunk in s.next, s do parts[#parts + 1] = chunk end
      local got = assert(cjson.decode(table.concat(parts)))
      assert.equal(body, got.body)
      assert.equal("text/plain", got.headers["Content-Type"])
      http:close()
    end)
  end)

  -- http:start / pending:finish: http:request in two halves (tests/c/test_http_pending.c
  -- shows with a holding server that start sends and never waits for the answer)
  describe("started requests", function()
    local http
    before_each(function() http = core.http_new({ timeout = 5 }) end)
    after_each(function() http:close() end)

    it("finishes with the very table request returns", function()
      local req = { method = "POST", url = srv.url .. "/echo?q=1", headers = { ["X-Alpha"] = "1" }, body = "{\"a\":1}" }
      local p = assert(http:start(req))
      assert.matches("^alephant%.HttpPending %(pending%)$", tostring(p))
      local res, err = p:finish()
      assert.is_nil(err)
      local direct = assert(http:request(req))
      local keys, want = {}, {}
      for k in pairs(res) do keys[#keys + 1] = k end
      for k in pairs(direct) do want[#want + 1] = k end
      table.sort(keys)
      table.sort(want)
      assert.same(want, keys)
      assert.equal(200, res.status)
      assert.equal(direct.headers["content-type"], res.headers["content-type"])
      local got = echo(res)
      assert.equal("POST", got.method)
      assert.equal("/echo?q=1", got.uri)
      assert.equal("{\"a\":1}", got.body)
      assert.equal("1", got.headers["X-Alpha"])
      assert.is_number(res.local_port)
      assert.matches("^alephant%.HttpPending %(closed%)$", tostring(p))
      local again, aerr = p:finish()
      assert.is_nil(again)
      assert.equal("request is closed", aerr.message)
    end)

    it("takes other requests while one is pending, on another connection, and keeps their bytes apart", function()
      assert(http:request({ url = srv.url .. "/echo" })) -- a kept-alive connection
      local slow = assert(http:start({ url = srv.url .. "/stall?ms=300" }))
      local a = assert(http:start({ url = srv.url .. "/echo?who=a" }))
      local b = assert(http:request({ url = srv.url .. "/echo?who=b" }))
      assert.equal("/echo?who=b", echo(b).uri)
      local ra = assert(a:finish())
      assert.equal("/echo?who=a", echo(ra).uri)
      local rs = assert(slow:finish())
      assert.equal("ok", rs.body)
      assert.equal(0, rs.new_connections) -- the slow one took the kept connection ...
      assert.not_equal(0, ra.new_connections + b.new_connections) -- ... so the others needed one
      assert.same({ true, 0 }, { http:close() })
    end)

    it("cancels an unfinished request on close; nothing stays open and the transport goes on", function()
      local p = assert(http:start({ url = srv.url .. "/stall?ms=3000" }))
      assert.is_true(p:close())
      assert.is_true(p:close())
      local res, err = p:finish()
      assert.is_nil(res)
      assert.equal("request is closed", err.message)
      assert.equal(200, assert(http:request({ url = srv.url .. "/echo" })).status)
      assert.same({ true, 0 }, { http:close() })
    end)

    it("is detached by closing the transport, which counts it", function()
      local p = assert(http:start({ url = srv.url .. "/stall?ms=3000" }))
      local done = assert(http:start({ url = srv.url .. "/echo" }))
      assert(done:finish())
      assert.same({ true, 1 }, { http:close() })
      assert.same({ true, 0 }, { http:close() })
      local res, err = p:finish()
      assert.is_nil(res)
      assert.equal("network", err.kind)
      assert.equal("transport is closed", err.message)
      res, err = http:start({ url = srv.url .. "/echo" })
      assert.is_nil(res)
      assert.equal("transport is closed", err.message)
    end)

    it("reports at finish what request reports: refused, timeout, too_large", function()
      local port = server.free_port()
      local p = assert(http:start({ url = "http://127.0.0.1:" .. port .. "/" }))
      local res, err = p:finish()
      assert.is_nil(res)
      assert.equal("network", err.kind)
      assert.is_true(err.retryable)
      assert.matches("^request to 127%.0%.0%.1 failed: ", err.message)
      p = assert(http:start({ url = srv.url .. "/stall?ms=2000", timeout = 0.2 }))
      res, err = p:finish()
      assert.is_nil(res)
      assert.equal("timeout", err.kind)
      assert.matches("^request to 127%.0%.0%.1 timed out after 200 ms", err.message)
      local small = core.http_new({ max_body = 10 })
      p = assert(small:start({ url = srv.url .. "/bytes?n=100" }))
      res, err = p:finish()
      small:close()
      assert.is_nil(res)
      assert.equal("too_large", err.kind)
      assert.equal("the response from 127.0.0.1 is larger than max_body (10 bytes)", err.message)
    end)

    it("refuses, before sending, what request refuses, and raises what it raises", function()
      local bad = { url = srv.url .. "/echo", headers = { ["X-Bad"] = "a\r\nb" } }
      local p, err = http:start(bad)
      local _, rerr = http:request(bad)
      assert.is_nil(p)
      assert.equal("validation", err.kind)
      assert.equal(rerr.message, err.message)
      p, err = http:start({ url = "ftp://127.0.0.1/" })
      assert.is_nil(p)
      assert.equal("config", err.kind)
      local ok, raised = pcall(http.start, http, { url = srv.url, nope = 1 })
      local _, rraised = pcall(http.request, http, { url = srv.url, nope = 1 })
      assert.is_false(ok)
      assert.equal(rraised:gsub("request", "start"), raised)
      assert.has_error(function() http.start({}, { url = srv.url }) end)
    end)

    it("is collected when dropped, and keeps its transport alive while referenced", function()
      for _ = 1, 30 do assert(http:start({ url = srv.url .. "/stall?ms=1000" })) end
      collectgarbage()
      collectgarbage()
      local p = assert(core.http_new({ timeout = 5 }):start({ url = srv.url .. "/echo?kept" }))
      collectgarbage()
      collectgarbage()
      assert.equal("/echo?kept", echo(assert(p:finish())).uri)
      assert.same({ true, 0 }, { http:close() })
    end)

    it("supports Lua 5.4 to-be-closed variables", function()
      if _VERSION ~= "Lua 5.4" then return end
      local chunk = assert(load([[
        local http, url = ...
        local kept
        do
          local p <close> = assert(http:start({ url = url .. "/stall?ms=3000" }))
          kept = p
        end
        return kept
      ]]))
      local p = chunk(http, srv.url)
      assert.matches("closed", tostring(p))
      assert.same({ true, 0 }, { http:close() })
    end)

    it("never hands a cancelled half-read answer to the next request", function()
      -- the pending one reads its headers and a first event while the request drives
      -- the transport, then is cancelled with the rest of its answer still coming
      local p = assert(http:start({ url = srv.url .. "/stream?chunks=30&size=2000&ms=50" }))
      assert.equal("ok", assert(http:request({ url = srv.url .. "/stall?ms=300" })).body)
      assert.is_true(p:close())
      for i = 1, 5 do
        local res = assert(http:request({ url = srv.url .. "/echo?after=" .. i }))
        assert.equal("/echo?after=" .. i, echo(res).uri)
      end
      assert.same({ true, 0 }, { http:close() })
    end)

    it("keeps many pending requests, a stream and a batch on one transport apart", function()
      local ps = {}
      for i = 1, 40 do ps[i] = assert(http:start({ url = srv.url .. "/echo?p=" .. i })) end
      local s = assert(http:stream({ url = srv.url .. "/stream?chunks=5&size=100000&ms=10" }))
      local batch = assert(http:request_many({ { url = srv.url .. "/echo?b=1" },
        { url = srv.url .. "/bytes?n=200000" } }))
      assert.equal("/echo?b=1", echo(batch[1]).uri)
      assert.equal(200000, #batch[2].body)
      local streamed = 0
      for i = 40, 1, -1 do -- finished in the reverse order, the stream read in between
        assert.equal("/echo?p=" .. i, echo(assert(ps[i]:finish())).uri)
        local chunk = s:next()
        if chunk then streamed = streamed + #chunk end
      end
      streamed = streamed + read_rest(s)
      assert.is_true(streamed >= 5 * 100000)
      assert.same({ true, 0 }, { http:close() })
    end)

    it("buffers a whole large answer that arrives before the finish, and times out alone", function()
      local big = assert(http:start({ url = srv.url .. "/bytes?n=3000000" }))
      local late = assert(http:start({ url = srv.url .. "/stall?ms=3000", timeout = 0.2 }))
      -- a request meanwhile drives them: the big one is read whole, the late one times out
      assert.equal("ok", assert(http:request({ url = srv.url .. "/stall?ms=500" })).body)
      local res, err = late:finish()
      assert.is_nil(res)
      assert.equal("timeout", err.kind)
      local whole = assert(big:finish())
      assert.equal(3000000, #whole.body)
      assert.equal(string.rep("x", 3000000), whole.body)
      assert.same({ true, 0 }, { http:close() })
    end)

    it("gets the server's early answer to a body it does not want", function()
      -- nginx refuses past client_max_body_size (16m) from the headers, before the body is read
      local body = string.rep("b", 20 * 1024 * 1024)
      local p = assert(http:start({ method = "POST", url = srv.url .. "/echo", body = body }))
      body = nil -- luacheck: ignore 311 (the request has its own copy)
      collectgarbage()
      local res, err = p:finish()
      if res then assert.equal(413, res.status) else assert.equal("network", err.kind) end
      assert.equal("/echo?after", echo(assert(http:request({ url = srv.url .. "/echo?after" }))).uri)
    end)

    local fork_it = fork.available() and it or pending
    fork_it("cannot be finished in a forked child, and stays the parent's", function()
      local p = assert(http:start({ url = srv.url .. "/stall?ms=300" }))
      local line = fork.run(function()
        local res, err = p:finish()
        return res and "finished" or err.message
      end)
      assert.equal("request was started in another process (fork)", line)
      assert.equal("ok", assert(p:finish()).body)
      assert.equal(0, assert(http:request({ url = srv.url .. "/echo" })).new_connections)
    end)
  end)
end)
