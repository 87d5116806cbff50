-- Error classification of odd failures, with real sockets on 127.0.0.1: an HTTP/0.9
-- answer is `network`; request headers too large to send are a `validation` error that
-- is not retried; a connect timeout names connect_timeout and its value, not the total.
local alephant = require("alephant")
local core = require("alephant.core")
local socket = require("socket")
local server = require("spec.transport.server")
local fixtures = require "spec.support.fixtures"

describe("transport error classification", function()
  local srv

  lazy_setup(function() srv = server.start() end)
  lazy_teardown(function() if srv then srv:stop() end end)

  it("reports an HTTP/0.9 answer as network, not config", function()
    local http = core.http_new({ timeout = 5 })
    local res, err = http:request({ url = srv.url .. "/http09" })
    assert.is_nil(res)
    assert.equal("network", err.kind)
    assert.is_true(err.retryable)
    assert.matches("127.0.0.1", err.message)
    http:close()
  end)

  it("refuses request headers past 64 KiB before sending, as validation, not retried", function()
    local http = core.http_new({ timeout = 5 })
    local res, err = http:request({ url = srv.url .. "/echo", headers = { ["X-Big"] = string.rep("h", 70000) } })
    assert.is_nil(res)
    assert.equal("validation", err.kind)
    assert.equal("headers", err.field)
    assert.is_falsy(err.retryable)
    assert.matches("65536 bytes", err.message)
    -- a large but acceptable header still goes out
    res = assert(http:request({ url = srv.url .. "/echo", headers = { ["X-Big"] = string.rep("h", 6000) } }))
    assert.equal(200, res.status)
    http:close()
    -- through the client: one attempt, no retry
    local c = assert(alephant.new({ token = "pat_classify_" .. string.rep("cd", 16),
      workspace_id = fixtures.WS, base_url = srv.url, max_retries = 2,
      getenv = function() return nil end }))
    local data
    data, err = c.agents:list(nil, { headers = { ["X-Big"] = string.rep("h", 70000) } })
    assert.is_nil(data)
    assert.equal("validation", err.kind)
    assert.equal(1, err.attempts)
  end)

  it("reports a connect timeout with the connect timeout, not the total", function()
    -- a listener whose accept queue is full: the kernel drops further SYNs
    local listener = assert(socket.bind("127.0.0.1", 0, 0))
    local _, port = listener:getsockname()
    local fill = {}
    for i = 1, 4 do
      fill[i] = socket.tcp()
      fill[i]:settimeout(0.2)
      fill[i]:connect("127.0.0.1", port)
    end
    local http = core.http_new({ timeout = 20, connect_timeout = 0.3 })
    local res, err = http:request({ url = "http://127.0.0.1:" .. port .. "/echo" })
    assert.is_nil(res)
    assert.equal("timeout", err.kind)
    assert.is_true(err.retryable)
    assert.matches("connecting to 127.0.0.1 timed out after 300 ms (connect_timeout)", err.message, 1, true)
    assert.is_nil(err.message:find("20000", 1, true))
    http:close()
    for _, c in ipairs(fill) do c:close() end
    listener:close()
  end)
end)
