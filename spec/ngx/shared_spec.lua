-- Shared contexts and caches in real nginx (2 workers): a virtual key's workspace is
-- resolved once for many requests served by both workers (clients made per request),
-- once per scope_ttl; budget answers are shared for budget_cache_ttl; concurrent first
-- requests wait for the one in flight instead of stampeding; a failed scope call is not
-- cached; a request waits at most lock_timeout for another one's call.
local conf = require "spec.ngx.conf"
local emulator = require "spec.support.emulator"
local socket = require "socket"

describe("alephant.ngx shared context and caches #nginx", function()
  local emu = emulator.session()
  local VK = emu.tokens.vk_agent
  local srv
  lazy_setup(function() srv = conf.start(emu) end)
  lazy_teardown(function() if srv then srv:stop() end end)
  before_each(function() -- after the emulator's reset
    -- every test starts with empty shared dicts: a new key per test would need new tokens,
    -- so reload nginx's state by restarting workers instead
    srv:stop()
    srv = conf.start(emu)
  end)

  -- n concurrent requests, each on its own connection; asserts they all worked
  local function burst(n, path, token)
    local results = srv:parallel(n, "GET", path, { token = token or VK }, 30)
    local workers, out = {}, {}
    for i, r in ipairs(results) do
      assert.is_table(r.json, tostring(r.err) .. " " .. tostring(r.body))
      out[i] = r.json
      workers[r.json.worker] = (workers[r.json.worker] or 0) + 1
    end
    return out, workers
  end

  local function all_ok(results)
    for _, r in ipairs(results) do assert.is_true(r.ok, r.err and r.err.message) end
  end

  local function scope_calls() return #emu:requests("/api/v1/cockpit/scope") end

  it("resolves a virtual key's workspace once for many requests on both workers", function()
    -- lock_timeout=30: on a loaded machine the first scope call can take longer than the
    -- default 5 s a request waits for it, and a request that stops waiting makes its own
    -- call (the rule of the lock_timeout test below), which is not what this test is about
    local results, workers = burst(40, "/content?call=collector.usage&lock_timeout=30")
    all_ok(results)
    assert.is_truthy(workers[0], "worker 0 served nothing")
    assert.is_truthy(workers[1], "worker 1 served nothing")
    assert.equal(1, scope_calls())
    local usage = emu:requests("/v1/analytics/saas/usage")
    assert.equal(40, #usage)
    for _, r in ipairs(usage) do assert.equal(emu.ids.workspace_1, r.headers["x-workspace-id"]) end
    -- and again: still one
    results = burst(20, "/content?call=collector.usage&lock_timeout=30")
    all_ok(results)
    assert.equal(1, scope_calls())
  end)

  it("resolves it again once scope_ttl has passed", function()
    all_ok((burst(10, "/content?call=collector.usage&scope_ttl=2")))
    assert.equal(1, scope_calls())
    socket.sleep(3.1)
    all_ok((burst(10, "/content?call=collector.usage&scope_ttl=2")))
    assert.equal(2, scope_calls())
  end)

  it("without a shared dict, every new client resolves the workspace itself", function()
    for _ = 1, 4 do all_ok((burst(1, "/content?call=collector.usage&dict=none"))) end
    assert.equal(4, scope_calls())
  end)

  it("shares cockpit.budget_status answers for budget_cache_ttl", function()
    local results, workers = burst(30, "/content?call=cockpit.budget_status&budget_ttl=30")
    all_ok(results)
    assert.is_truthy(workers[0] and workers[1], "both workers should serve")
    assert.equal(1, #emu:requests("/api/v1/cockpit/budget%-status"))
    local cached = 0
    for _, r in ipairs(results) do
      assert.equal(5000, r.budget_cents)
      if r.cached then cached = cached + 1 end
    end
    assert.equal(29, cached)
    -- another key has its own entry
    local other = burst(1, "/content?call=cockpit.budget_status&budget_ttl=30", emu.tokens.vk_member)
    assert.equal(10000, other[1].budget_cents)
    assert.equal(2, #emu:requests("/api/v1/cockpit/budget%-status"))
  end)

  it("does not cache budget answers without budget_cache_ttl", function()
    all_ok((burst(5, "/content?call=cockpit.budget_status")))
    assert.equal(5, #emu:requests("/api/v1/cockpit/budget%-status"))
  end)

  it("lets concurrent first requests wait for the scope call in flight", function()
    emu:arm({ fault = "stall=800", count = 1, path = "/api/v1/cockpit/scope" })
    local results = burst(16, "/content?call=collector.usage")
    all_ok(results)
    assert.equal(1, scope_calls())
  end)

  it("does not cache a failed scope call: the next request makes its own", function()
    emu:arm({ fault = "status=500", count = 1, path = "/api/v1/cockpit/scope" })
    local first = burst(1, "/content?call=collector.usage")[1]
    assert.is_false(first.ok)
    assert.equal("http", first.err.kind)
    assert.equal(500, first.err.status)
    local results = burst(10, "/content?call=collector.usage")
    all_ok(results)
    assert.equal(2, scope_calls())
  end)

  it("takes the value, not the lock, when another worker stored it just before the lock was free", function()
    -- one request looks (nothing), another worker stores the value and lets go of the lock,
    -- then the first takes the lock: it must see the value instead of fetching it again
    local status, body, _, json = srv:request("GET", "/cache_race?id=1")
    assert.equal(200, status, body)
    assert.is_true(json.ok, tostring(json.value))
    assert.same({ fetched_by = "the other worker" }, json.value)
    assert.is_false(json.locked)
    assert.is_false(json.lock_left) -- the lock it took on the way is let go
  end)

  it("waits at most lock_timeout for another request's scope call", function()
    -- the first scope call stalls (armed on its route: a lookup never carries a call's headers)
    emu:arm({ fault = "stall=2000", count = 1, path = "/api/v1/cockpit/scope" })
    local slow = srv:send("GET", "/content?call=collector.usage&lock_timeout=0.3", { token = VK })
    for _ = 1, 200 do
      if scope_calls() > 0 then break end
      socket.sleep(0.01)
    end
    assert.equal(1, scope_calls())
    local t0 = socket.gettime()
    local results = burst(3, "/content?call=collector.usage&lock_timeout=0.3")
    all_ok(results)
    -- they gave up on the stalled call after lock_timeout and made their own, long before it ended
    assert.is_true(socket.gettime() - t0 < 1.5, "waited for the stalled scope call")
    assert.is_true(scope_calls() >= 2)
    local r = srv:collect({ slow }, 10)[1]
    assert.is_true(r.json.ok, r.json.err and r.json.err.message)
  end)
end)
