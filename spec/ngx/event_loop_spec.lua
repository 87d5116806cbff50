-- The event loop stays free (one nginx worker, so every request shares it): while SDK
-- calls wait on an emulator stall in worker threads, a plain location on that worker
-- answers at once, before the stalled calls finish. Blocking mode, for contrast, holds
-- the plain location up for the whole stall. Waits between retries do not block either.
-- With one worker-thread Lua VM, calls queue for it without blocking and fail with a
-- `timeout` error once their time is up.
local conf = require "spec.ngx.conf"
local emulator = require "spec.support.emulator"
local socket = require "socket"

local STALL = 2.0

describe("alephant.ngx event loop #nginx", function()
  local emu = emulator.session()
  local VK = emu.tokens.vk_agent
  local srv
  lazy_setup(function() srv = conf.start(emu, { workers = 1, thread_pool = "alephant threads=8" }) end)
  lazy_teardown(function() if srv then srv:stop() end end)

  -- a plain request while `pending` SDK calls are in flight: its latency and server time
  local function plain_during(pending)
    socket.sleep(0.3) -- the SDK calls are now waiting on the emulator
    local t0 = socket.gettime()
    local status, body, _, json = srv:request("GET", "/plain")
    local latency = socket.gettime() - t0
    assert.equal(200, status, body)
    local results = srv:collect(pending, 15)
    return latency, json.t, results
  end

  it("answers a plain location while SDK calls wait in worker threads", function()
    local pending = {}
    local path = "/content?dict=none&fault=stall%3D" .. math.floor(STALL * 1000)
    for i = 1, 4 do pending[i] = srv:send("GET", path, { token = VK }) end
    local latency, plain_t, results = plain_during(pending)
    assert.is_true(latency < 0.5, ("the plain location took %.3f s"):format(latency))
    for _, r in ipairs(results) do
      assert.is_table(r.json, tostring(r.err))
      assert.is_true(r.json.ok, r.json.err and r.json.err.message)
      assert.equal(0, r.json.worker)
      -- the plain answer left the worker before any stalled call finished
      assert.is_true(plain_t < r.json.t_done, "a stalled call finished before the plain request")
      assert.is_true(r.elapsed >= STALL - 0.05, ("a stalled call took only %.3f s"):format(r.elapsed))
    end
    -- the four calls waited side by side, not one after the other
    local last = 0
    for _, r in ipairs(results) do last = math.max(last, r.finished) end
    assert.is_true(last - results[1].started < 2 * STALL, "the stalled calls ran one after the other")
  end)

  it("blocking mode holds the plain location up for the whole stall (contrast)", function()
    local pending = { srv:send("GET", "/content?dict=none&mode=blocking&fault=stall%3D1500", { token = VK }) }
    local latency, plain_t, results = plain_during(pending)
    assert.is_true(results[1].json.ok, results[1].json.err and results[1].json.err.message)
    assert.is_true(latency > 1.0, ("the plain location answered in %.3f s"):format(latency))
    assert.is_true(plain_t >= results[1].json.t_done)
  end)

  it("waits between retries with ngx.sleep, leaving the worker free", function()
    emu:arm({ fault = "429;retry-after=1", count = 1, path = "/api/v1/cockpit/budget-status" })
    local pending = { srv:send("GET", "/content?dict=none&retries=1", { token = VK }) }
    local latency, plain_t, results = plain_during(pending)
    local r = results[1]
    assert.is_true(r.json.ok, r.json.err and r.json.err.message)
    assert.equal(2, r.json.attempts)
    assert.is_true(r.elapsed >= 1, ("the retry came after %.3f s"):format(r.elapsed))
    assert.is_true(latency < 0.5, ("the plain location took %.3f s"):format(latency))
    assert.is_true(plain_t < r.json.t_done)
  end)

  it("returns a 429 at once when Retry-After passes max_retry_wait or is an HTTP-date far away", function()
    for _, case in ipairs({ { "", "86400", 86400 }, { "&max_retry_wait=1", "2", 2 },
      { "", "Fri, 01 Jan 2100 00:00:00 GMT" } }) do
      emu:reset()
      local fault = ("429;retry-after=" .. case[2]):gsub("[^%w]", function(c) return ("%%%02X"):format(c:byte()) end)
      local status, body, _, r = srv:request("GET", "/content?dict=none&retries=2" .. case[1] .. "&fault=" .. fault,
        { token = VK })
      assert.equal(200, status, body)
      assert.is_false(r.ok)
      assert.equal(429, r.err.status)
      assert.equal(1, r.err.attempts)
      assert.matches("not waited", r.err.message)
      if case[3] then assert.equal(case[3], r.err.retry_after) else assert.is_true(r.err.retry_after > 86400 * 365) end
      assert.equal(1, #emu:requests("/api/v1/cockpit/budget%-status"))
    end
  end)

  describe("with one worker-thread Lua VM", function()
    local one

    lazy_setup(function()
      one = conf.start(emu, { workers = 1, extra_http = "lua_worker_thread_vm_pool_size 1;" })
    end)
    lazy_teardown(function()
      if one then one:stop() end
    end)

    it("queues calls for the VM without blocking the worker", function()
      local pending = {}
      for i = 1, 3 do pending[i] = one:send("GET", "/content?dict=none&fault=stall%3D400", { token = VK }) end
      socket.sleep(0.1)
      local t0 = socket.gettime()
      local status = one:request("GET", "/plain")
      assert.equal(200, status)
      assert.is_true(socket.gettime() - t0 < 0.5, "the plain location waited for the VM queue")
      local results = one:collect(pending, 15)
      local last = 0
      for _, r in ipairs(results) do
        assert.is_true(r.json.ok, r.json.err and r.json.err.message)
        last = math.max(last, r.finished - r.started)
      end
      assert.is_true(last >= 1.15, ("three 0.4 s calls through one VM took %.3f s"):format(last))
    end)

    it("fails with a timeout error when no VM frees up in time", function()
      local pending = {}
      for i = 1, 3 do
        pending[i] = one:send("GET", "/content?dict=none&timeout=0.6&fault=stall%3D1000", { token = VK })
      end
      local results = one:collect(pending, 15)
      local waited = 0
      for _, r in ipairs(results) do
        -- one call held the VM until libcurl's timeout; the others waited for it (one may
        -- get it just before its own time is up, and then time out in libcurl)
        assert.is_false(r.json.ok)
        assert.equal("timeout", r.json.err.kind)
        if r.json.err.message:find("no worker thread was free", 1, true) then
          assert.matches("lua_worker_thread_vm_pool_size", r.json.err.message, 1, true)
          waited = waited + 1
        end
      end
      assert.is_true(waited >= 1, "no call reported waiting for a VM")
    end)
  end)
end)
