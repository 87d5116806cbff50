-- http:request_many: several requests at once on one transport (libcurl's multi
-- interface), against a real nginx on 127.0.0.1. Concurrency is shown by connections
-- (distinct local ports), never by timing.
local core = require("alephant.core")
local cjson = require("cjson.safe")
local server = require("spec.transport.server")

describe("core.http request_many", function()
  local srv, http

  setup(function() srv = server.start() end)
  teardown(function() if srv then srv:stop() end end)
  before_each(function() http = core.http_new({ timeout = 10, cafile = srv.ca_file }) end)
  after_each(function() http:close() end)

  local function echoes(base, n, path)
    local reqs = {}
    for i = 1, n do
      reqs[i] = { method = i % 2 == 0 and "POST" or "GET", url = base .. (path or "/echo") .. "?i=" .. i,
        headers = { ["X-Index"] = tostring(i) }, body = i % 2 == 0 and ("body " .. i) or nil }
    end
    return reqs
  end

  it("answers every request in the order given, each with what the server received", function()
    local out = http:request_many(echoes(srv.url, 12), 4)
    assert.equal(12, #out)
    for i, res in ipairs(out) do
      assert.equal(200, res.status)
      local got = assert(cjson.decode(res.body))
      assert.equal("/echo?i=" .. i, got.uri)
      assert.equal(tostring(i), got.headers["X-Index"])
      assert.equal(i % 2 == 0 and "POST" or "GET", got.method)
      assert.equal(i % 2 == 0 and ("body " .. i) or "", got.body)
    end
  end)

  it("runs requests side by side on at most max_concurrency HTTP/1.1 connections", function()
    -- 8 requests that each take 300 ms on the server, 4 at a time: sequentially they
    -- would all reuse one connection; at once they need 4
    local reqs = {}
    for i = 1, 8 do reqs[i] = { url = srv.url .. "/echo?i=" .. i } end
    local stalls = {}
    for i = 1, 8 do stalls[i] = { url = srv.url .. "/stall?ms=300" } end
    local out = http:request_many(stalls, 4)
    local ports = {}
    for _, res in ipairs(out) do
      assert.equal(200, res.status)
      ports[res.local_port] = true
    end
    local n = 0
    for _ in pairs(ports) do n = n + 1 end
    assert.equal(4, n)
    -- the connections are kept: a second batch opens none
    out = http:request_many(reqs, 4)
    for _, res in ipairs(out) do
      assert.equal(200, res.status)
      assert.equal(0, res.new_connections)
    end
  end)

  it("multiplexes over one HTTP/2 connection when the TLS server offers it", function()
    local stalls = {}
    for i = 1, 10 do stalls[i] = { url = srv.h2_url .. "/stall?ms=200&i=" .. i } end
    local out = http:request_many(stalls, 10)
    local ports, opened = {}, 0
    for _, res in ipairs(out) do
      assert.equal(200, res.status)
      assert.equal("ok", res.body)
      ports[res.local_port] = true
      opened = opened + res.new_connections
    end
    local n = 0
    for _ in pairs(ports) do n = n + 1 end
    assert.equal(1, n)
    assert.equal(1, opened)
  end)

  it("sends each multiplexed request its own path and query", function()
    local out = http:request_many(echoes(srv.h2_url, 6, "/x/../echo"), 6)
    for i, res in ipairs(out) do
      assert.equal(200, res.status)
      local got = assert(cjson.decode(res.body))
      assert.equal("HTTP/2.0", got.protocol)
      assert.equal("/echo?i=" .. i, got.uri)
      assert.equal(tostring(i), got.headers["x-index"])
    end
  end)

  it("gives each failure its own slot and sends nothing for a request refused before sending", function()
    local reqs = echoes(srv.url, 3)
    reqs[2] = { url = "ftp://127.0.0.1/" }
    reqs[3] = { url = srv.url .. "/echo", headers = { ["Bad Name"] = "x" } }
    reqs[4] = { url = srv.url .. "/reset" }
    reqs[5] = { url = "http://127.0.0.1:" .. server.free_port() .. "/" }
    local out = http:request_many(reqs, 8)
    assert.equal(5, #out)
    assert.equal(200, out[1].status)
    assert.equal("config", out[2].kind)
    assert.equal("validation", out[3].kind)
    assert.equal("network", out[4].kind)
    assert.is_true(out[4].retryable)
    assert.equal("network", out[5].kind)
    assert.is_false(out[2].retryable)
  end)

  it("times each request out on its own", function()
    local out = http:request_many({ { url = srv.url .. "/stall?ms=3000", timeout = 0.2 },
      { url = srv.url .. "/echo" } }, 2)
    assert.equal("timeout", out[1].kind)
    assert.equal(200, out[2].status)
  end)

  -- A batch as long as request_many allows (10,000): what each request's fields need
  -- while it runs is anchored off the C stack, which LuaJIT caps at about 8,000 slots
  -- per call (it once held ~6 slots per request: 1,400 requests overflowed it).
  it("takes the longest batch it allows (10000 requests) under both interpreters", function()
    local reqs = echoes(srv.url, 10000, "/status")
    for i = 1, #reqs do reqs[i].url = srv.url .. "/status?code=204&i=" .. i end
    local out = http:request_many(reqs, 8)
    assert.equal(10000, #out)
    for i = 1, 10000 do assert.equal(204, out[i].status, i) end
    assert.has_error(function() http:request_many(echoes(srv.url, 10001)) end,
      "bad argument #1 to 'request_many' (at most 10000 requests in one batch)")
  end)

  it("takes an empty list, and refuses bad arguments", function()
    assert.same({}, http:request_many({}))
    assert.has_error(function() http:request_many("x") end)
    assert.has_error(function() http:request_many({ "x" }) end,
      "bad argument #1 to 'request_many' (request 1 must be a table, got string)")
    assert.has_error(function() http:request_many({}, 0) end)
    assert.has_error(function() http:request_many({}, 65) end)
    assert.has_error(function() http:request_many({ { url = srv.url, bogus = 1 } }) end)
  end)

  it("says the transport is closed after close", function()
    http:close()
    local out, err = http:request_many({ { url = srv.url .. "/echo" } })
    assert.is_nil(out)
    assert.matches("closed", err.message)
  end)
end)
