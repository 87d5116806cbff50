-- alephant.ngx in real nginx (Debian's nginx + lua-nginx-module, 2 workers, a thread
-- pool) against the emulator: SDK calls give the emulator's answers from the rewrite,
-- access, content and timer contexts; from the log phase, init_worker and without a
-- thread pool they return a `config` error saying what to do; blocking mode works and
-- warns once per worker; nothing logs or stores a token.
local conf = require "spec.ngx.conf"
local emulator = require "spec.support.emulator"


describe("alephant.ngx contexts #nginx", function()
  local emu = emulator.session()
  local VK = emu.tokens.vk_agent
  local srv
  lazy_setup(function() srv = conf.start(emu) end)
  lazy_teardown(function() if srv then srv:stop() end end)

  local function get(path)
    local status, body, _, json = srv:request("GET", path, { token = VK })
    assert.equal(200, status, body)
    assert.is_table(json, body)
    return json
  end

  -- what the emulator itself answers for the key
  local function expected_budget()
    local _, _, _, json = emu:request("GET", "/api/v1/cockpit/budget-status", { token = VK })
    return json.virtual_key_budget.budget_cents
  end

  for _, ctx in ipairs({ { "content", "content" }, { "access", "access" }, { "rewrite", "rewrite" },
    { "timer", "timer" } }) do
    local path, phase = ctx[1], ctx[2]
    it("calls the API from the " .. phase .. " context", function()
      local r = get("/" .. path .. "?call=cockpit.budget_status&id=" .. path)
      assert.is_true(r.ok, r.err and r.err.message)
      assert.equal(phase, r.phase)
      assert.equal(200, r.status)
      assert.equal(expected_budget(), r.budget_cents)
      r = get("/" .. path .. "?call=cockpit.scope&id=" .. path .. "2")
      assert.is_true(r.ok, r.err and r.err.message)
      assert.equal(emu.ids.workspace_1, r.workspace_id)
      -- a virtual key on the Analytics API: its workspace is resolved, then sent
      r = get("/" .. path .. "?call=collector.usage&dict=none&id=" .. path .. "3")
      assert.is_true(r.ok, r.err and r.err.message)
      assert.equal(emu.ids.workspace_1, r.context_workspace_id)
      local seen = emu:requests("/v1/analytics/saas/usage")
      assert.equal(1, #seen)
      assert.equal(emu.ids.workspace_1, seen[1].headers["x-workspace-id"])
    end)
  end

  it("hands the proxy option to the transport in worker threads and in blocking mode", function()
    -- plain http to a non-loopback host through a proxy: refused by the transport itself
    for _, mode in ipairs({ "thread", "blocking" }) do
      local r = get("/content?call=cockpit.scope&dict=none&insecure=1&mode=" .. mode
        .. "&base_url=http%3A%2F%2Fapi.alephant.test&proxy=http%3A%2F%2Fsomeone%3As3cret%40127.0.0.1%3A9")
      assert.is_false(r.ok)
      assert.equal("config", r.err.kind)
      assert.matches("through the proxy http://127%.0%.0%.1", r.err.message)
      assert.is_nil(r.err.message:find("s3cret", 1, true))
    end
  end)

  it("sends POST bodies through the worker thread (gateway chat)", function()
    local r = get("/content?call=gateway.chat&dict=none")
    assert.is_true(r.ok, r.err and r.err.message)
    assert.equal("Emulated reply to: hello from nginx", r.reply)
    local seen = emu:requests({ path = "/v1/chat/completions", method = "POST" })
    assert.equal(1, #seen)
    assert.matches('"hello from nginx"', seen[1].body, 1, true)
  end)

  it("refuses a streamed answer in thread mode with a config error saying why", function()
    local r = get("/stream?dict=none")
    assert.is_false(r.ok)
    assert.equal("config", r.err.kind)
    assert.matches("cannot run in worker threads", r.err.message, 1, true)
    assert.equal(0, #emu:requests("/v1/chat/completions"))
  end)

  it("refuses the other streams in thread mode too, and streams them in blocking mode", function()
    local r = get("/stream?dict=none&method=responses_stream")
    assert.is_false(r.ok)
    assert.equal("config", r.err.kind)
    assert.matches("cannot run in worker threads", r.err.message, 1, true)
    assert.equal(0, #emu:requests("/v1/responses"))
    r = get("/stream?dict=none&mode=blocking&method=responses_stream")
    assert.is_true(r.ok, r.err and r.err.message)
    assert.equal("Emulated response to: hello from nginx", r.text)
  end)

  it("streams in blocking mode", function()
    local r = get("/stream?dict=none&mode=blocking")
    assert.is_true(r.ok, r.err and r.err.message)
    assert.equal("Emulated reply to: hello from nginx", r.text)
    assert.is_true(r.events > 1)
  end)

  it("returns the API's errors as errors (revoked key: auth)", function()
    local _, body, _, r = srv:request("GET", "/content", { token = emu.tokens.vk_revoked })
    assert.is_table(r, body)
    assert.is_false(r.ok)
    assert.equal("auth", r.err.kind)
    assert.equal(401, r.err.status)
  end)

  it("returns transport errors from the worker thread as SDK errors (timeout)", function()
    local r = get("/content?fault=stall%3D3000&timeout=0.5")
    assert.is_false(r.ok)
    assert.equal("timeout", r.err.kind)
  end)

  for _, via in ipairs({ "call", "batch" }) do
    it("returns a config error from the log and header_filter phases that says to use a timer (" .. via .. ")",
      function()
        local id = "l" .. via
        local status = srv:request("GET", "/log?id=" .. id .. (via == "batch" and "&batch=1" or ""), { token = VK })
        assert.equal(200, status)
        for _, phase in ipairs({ "header_filter", "log" }) do
          local r
          for _ = 1, 100 do
            r = select(4, srv:request("GET", "/result?key=" .. phase .. ":" .. id))
            if r then break end
            require("socket").sleep(0.02)
          end
          assert.is_table(r)
          assert.is_false(r.ok)
          assert.equal(phase, r.phase)
          assert.equal("config", r.err.kind)
          assert.matches(phase .. " phase", r.err.message, 1, true)
          assert.matches("ngx.timer.at", r.err.message, 1, true)
        end
        assert.equal(0, #emu:requests("/api/v1/cockpit/"))
      end)
  end

  it("makes the call even from the log phase in blocking mode", function()
    assert.equal(200, (srv:request("GET", "/log?id=b1&mode=blocking&dict=none", { token = VK })))
    local r
    for _ = 1, 100 do
      r = select(4, srv:request("GET", "/result?key=log:b1"))
      if r then break end
      require("socket").sleep(0.02)
    end
    assert.is_table(r)
    assert.is_true(r.ok, r.err and r.err.message)
    assert.equal("log", r.phase)
    assert.equal(expected_budget(), r.budget_cents)
  end)

  it("returns a config error from init_worker_by_lua", function()
    for worker = 0, 1 do
      local r = select(4, srv:request("GET", "/result?key=init_worker:" .. worker))
      assert.is_table(r)
      assert.is_false(r.ok)
      assert.equal("init_worker", r.phase)
      assert.equal("config", r.err.kind)
      assert.matches("ngx.timer.at", r.err.message, 1, true)
    end
  end)

  it("returns a config error naming the thread_pool directive when the pool does not exist", function()
    local r = get("/content?pool=missing")
    assert.is_false(r.ok)
    assert.equal("config", r.err.kind)
    assert.matches("thread pool 'missing' not found", r.err.message, 1, true)
    assert.matches("thread_pool missing threads=", r.err.message, 1, true)
    assert.equal(0, #emu:requests("/api/v1/cockpit/"))
  end)

  it("returns a config error when nginx.conf has no thread_pool at all", function()
    local bare = conf.start(emu, { thread_pool = false })
    local ok, err = pcall(function()
      local _, body, _, r = bare:request("GET", "/content", { token = VK })
      assert.is_table(r, body)
      assert.is_false(r.ok)
      assert.equal("config", r.err.kind)
      assert.matches("thread_pool alephant threads=", r.err.message, 1, true)
    end)
    bare:stop()
    assert(ok, err)
  end)

  it("raises a programmer error made in the worker thread in the calling request", function()
    local r = get("/raw_transport")
    assert.is_false(r.ok)
    assert.matches("headers must map string names to string values", r.raised, 1, true)
  end)

  it("returns config errors when a worker-thread VM cannot be built or cannot load alephant", function()
    -- its own nginx: a VM made here keeps its broken paths for good
    local broken = conf.start(emu, { workers = 1 })
    local ok, err = pcall(function()
      local t0 = require("socket").gettime()
      local _, body, _, r = broken:request("GET", "/content?dict=none&break_path=resty", { token = VK })
      assert.is_table(r, body)
      assert.is_false(r.ok)
      assert.equal("config", r.err.kind)
      assert.matches("end it with ;;", r.err.message, 1, true)
      assert.is_true(require("socket").gettime() - t0 < 2, "it waited for a VM that cannot come")
      _, body, _, r = broken:request("GET", "/content?dict=none&break_path=alephant", { token = VK })
      assert.is_table(r, body)
      assert.is_false(r.ok)
      assert.equal("config", r.err.kind)
      assert.matches("could not run alephant.ngx.worker: module 'alephant.ngx.worker' not found", r.err.message, 1,
        true)
      assert.matches("lua_package_path and lua_package_cpath", r.err.message, 1, true)
    end)
    broken:stop()
    assert(ok, err)
  end)

  it("returns a config error when the shared dict is not declared", function()
    local r = get("/content?dict=nosuchdict")
    assert.is_false(r.ok)
    assert.equal("config", r.err.kind)
    assert.matches("lua_shared_dict nosuchdict", r.err.message, 1, true)
  end)

  it("runs in blocking mode when asked, and warns once per worker", function()
    local results = srv:parallel(12, "GET", "/content?mode=blocking&dict=none", { token = VK })
    local pids = {}
    for _, r in ipairs(results) do
      assert.is_table(r.json, r.err or r.body)
      assert.is_true(r.json.ok, r.json.err and r.json.err.message)
      assert.equal(expected_budget(), r.json.budget_cents)
      pids[r.json.pid] = true
    end
    local warned = {}
    local warning = "%[warn%] (%d+)#%d+: [^\n]*blocking = true: SDK calls run libcurl in this nginx worker"
    for pid in srv:log():gmatch(warning) do
      pid = tonumber(pid)
      assert.is_nil(warned[pid], "worker " .. pid .. " warned twice")
      warned[pid] = true
    end
    for pid in pairs(pids) do assert.is_true(warned[pid], "worker " .. pid .. " did not warn") end
  end)

  it("keeps the connection alive across calls served by one worker-thread VM", function()
    for i = 1, 5 do get("/content?reuse=1&id=" .. i) end
    local seen = emu:requests("/api/v1/cockpit/budget%-status")
    assert.equal(5, #seen)
    local connections = {}
    for _, r in ipairs(seen) do connections[r.connection] = true end
    local n = 0
    for _ in pairs(connections) do n = n + 1 end
    -- one connection per worker-thread VM that served a call, not one per call
    assert.is_true(n < 5, "each call opened its own connection")
  end)

  it("never writes a token to the error log or the shared dict", function()
    get("/content?call=collector.usage&budget_ttl=30")
    get("/content?call=cockpit.budget_status&budget_ttl=30")
    local dump = get("/dump?dict=alephant")
    assert.is_true(#dump.entries > 0)
    local text = srv:log()
    for _, e in ipairs(dump.entries) do text = text .. "\n" .. e.key .. " " .. e.value end
    for name, token in pairs(emu.tokens) do
      assert.is_nil(text:find(token, 1, true), name .. " appears in the log or the dict")
    end
  end)
end)
