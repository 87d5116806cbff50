-- The libcurl transport against the Alephant emulator (emulator/, nginx + Lua): what
-- the emulator recorded, keep-alive by its connection ids, its fault injection
-- (X-Emulator-Fault), its TLS listener with the generated CA, and a gateway stream.
local core = require("alephant.core")
local cjson = require("cjson.safe")
local socket = require("socket")
local emulator = require("spec.support.emulator")

describe("core.http transport against the emulator", function()
  local emu = emulator.session()
  local token = emu.tokens.vk_agent
  local http

  before_each(function()
    http = core.http_new({ timeout = 5, cafile = emu.ca_file })
  end)

  after_each(function() http:close() end)

  local function call(opts)
    opts.url = opts.url or (emu.saas_url .. (opts.path or "/api/v1/cockpit/scope"))
    opts.path = nil
    opts.headers = opts.headers or {}
    opts.headers.Authorization = opts.headers.Authorization or ("Bearer " .. token)
    return http:request(opts)
  end

  it("delivers methods, headers and bodies as the emulator records them", function()
    for _, method in ipairs({ "GET", "POST", "PUT", "PATCH", "DELETE" }) do
      local body = method ~= "GET" and ('{"method":"' .. method .. '","n":[1,2,3]}') or nil
      local res, err = call({ method = method, path = "/api/v1/transport-probe?x=1", body = body,
        headers = { ["X-Alpha"] = "α", ["Content-Type"] = "application/json" } })
      assert.is_nil(err)
      assert.is_number(res.status)
    end
    local recs = emu:requests("/api/v1/transport%-probe")
    assert.equal(5, #recs)
    for i, method in ipairs({ "GET", "POST", "PUT", "PATCH", "DELETE" }) do
      local rec = recs[i]
      assert.equal(method, rec.method)
      assert.equal("x=1", rec.query)
      assert.equal(method ~= "GET" and ('{"method":"' .. method .. '","n":[1,2,3]}') or "", rec.body)
      assert.equal("α", rec.headers["x-alpha"])
      assert.equal("alephant-lua/" .. core.version, rec.headers["user-agent"])
      assert.matches("^Bearer vk%-ag", rec.headers["authorization"]) -- redacted by the emulator
    end
  end)

  it("makes 100 sequential calls over one TCP connection", function()
    local opened = 0
    for _ = 1, 100 do
      local res = assert(call({}))
      assert.equal(200, res.status)
      opened = opened + res.new_connections
    end
    assert.equal(1, opened)
    local recs = emu:requests("/api/v1/cockpit/scope")
    assert.equal(100, #recs)
    for _, rec in ipairs(recs) do assert.equal(recs[1].connection, rec.connection) end
  end)

  it("ends a stall at the deadline with kind timeout", function()
    local quick = core.http_new({ timeout = 0.5 })
    local t0 = socket.gettime()
    local res, err = quick:request({ url = emu.saas_url .. "/api/v1/cockpit/scope",
      headers = { Authorization = "Bearer " .. token, ["X-Emulator-Fault"] = "stall=4000" } })
    local elapsed = socket.gettime() - t0
    assert.is_nil(res)
    assert.equal("timeout", err.kind)
    assert.is_true(err.retryable)
    assert.is_true(elapsed >= 0.45 and elapsed < 1.5, "elapsed " .. elapsed)
    quick:close()
  end)

  it("maps reset and truncated faults to network, retryable", function()
    for _, fault in ipairs({ "reset", "truncated" }) do
      local res, err = call({ headers = { ["X-Emulator-Fault"] = fault } })
      assert.is_nil(res, fault)
      assert.equal("network", err.kind, fault)
      assert.is_true(err.retryable, fault)
      assert.not_matches(token, tostring(err))
    end
    assert.equal(200, assert(call({})).status) -- and the transport carries on
  end)

  it("maps an oversized body beyond max_body to too_large", function()
    local small = core.http_new({ timeout = 5, max_body = 64 * 1024 })
    local res, err = small:request({ url = emu.saas_url .. "/api/v1/cockpit/scope",
      headers = { Authorization = "Bearer " .. token, ["X-Emulator-Fault"] = "oversized=200000" } })
    assert.is_nil(res)
    assert.equal("too_large", err.kind)
    assert.is_false(err.retryable)
    small:close()
    res = assert(call({ headers = { ["X-Emulator-Fault"] = "oversized=200000" } }))
    assert.is_true(#res.body >= 200000)
  end)

  it("returns injected 503s as data, once per count", function()
    local fault = "status=503;count=1;key=transport-" .. tostring(socket.gettime())
    local res = assert(call({ headers = { ["X-Emulator-Fault"] = fault } }))
    assert.equal(503, res.status)
    res = assert(call({ headers = { ["X-Emulator-Fault"] = fault } }))
    assert.equal(200, res.status)
  end)

  it("refuses the emulator's certificate without its CA, and accepts it with cafile", function()
    local plain = core.http_new({ timeout = 5 })
    local res, err = plain:request({ url = emu.https_url .. "/api/v1/cockpit/scope",
      headers = { Authorization = "Bearer " .. token } })
    assert.is_nil(res)
    assert.equal("tls", err.kind)
    plain:close()
    res = assert(http:request({ url = emu.https_url .. "/api/v1/cockpit/scope",
      headers = { Authorization = "Bearer " .. token } }))
    assert.equal(200, res.status)
    assert.is_table(cjson.decode(res.body))
    assert.equal("https", emu:requests("/api/v1/cockpit/scope")[1].scheme)
  end)

  it("streams a gateway chat completion in steps", function()
    local s = assert(http:stream({ method = "POST", url = emu.gateway_url .. "/chat/completions",
      headers = { Authorization = "Bearer " .. token, ["Content-Type"] = "application/json",
        ["X-Emulator-Stream-Chunks"] = "200", ["X-Emulator-Fault"] = "trickle=1" },
      body = cjson.encode({ model = "openai/gpt-4o-mini", stream = true,
        messages = { { role = "user", content = "hello stream" } } }) }))
    assert.equal(200, s:status())
    assert.matches("^text/event%-stream", s:headers()["content-type"])
    local parts, steps = {}, 0
    while true do
      local chunk, err = s:next()
      assert.is_nil(err)
      if not chunk then break end
      steps = steps + 1
      parts[#parts + 1] = chunk
    end
    local body = table.concat(parts)
    assert.matches("data: %[DONE%]\n\n$", body)
    local events = 0
    for _ in body:gmatch("data: ") do events = events + 1 end
    assert.is_true(events >= 200)
    assert.is_true(steps > 1, "steps " .. steps)
    s:close()
  end)
end)
