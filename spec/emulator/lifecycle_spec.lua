-- Starting, stopping, TLS, x-request-id, the admin API and process cleanup.
local emulator = require("spec.support.emulator")
local socket = require("socket")

local shq = emulator.shell_quote

local function run(cmd)
  local p = io.popen(cmd .. " 2>&1; echo \"__rc=$?\"")
  local out = p:read("*a")
  p:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return rc, (out:gsub("__rc=%d+%s*$", ""))
end

local function pid_alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "r")
  if not f then return false end
  local s = f:read("*a") or ""
  f:close()
  return s:match("^%d+ %b() (%a)") ~= "Z"
end

local function wait_dead(pid, seconds)
  local deadline = socket.gettime() + seconds
  while socket.gettime() < deadline do
    if not pid_alive(pid) then return true end
    socket.sleep(0.05)
  end
  return not pid_alive(pid)
end

local function children(pid)
  local p = io.popen("pgrep -P " .. pid .. " 2>/dev/null")
  local out = {}
  for line in p:lines() do out[#out + 1] = tonumber(line) end
  p:close()
  return out
end

local function free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local interpreter = require("spec.support.sys").lua_name

describe("emulator lifecycle", function()
  local emu = emulator.session({ ingest_delay_ms = 100, reset = false })

  -- How fast it starts is measured by bench/emulator_start.sh, not asserted here.
  it("starts and prints the documented env lines", function()
    local rc, out = run(shq(emulator.script) .. " start")
    assert.equal(0, rc, out)
    local keys, env = {}, {}
    for line in out:gmatch("[^\n]+") do
      local k, v = line:match("^export ([%w_]+)=(.*)$")
      assert.is_truthy(k, "unexpected output line: " .. line)
      keys[#keys + 1] = k
      env[k] = v
    end
    assert.same({ "ALEPHANT_EMULATOR_DIR", "ALEPHANT_API_BASE_URL", "ALEPHANT_ANALYTICS_BASE_URL",
      "ALEPHANT_GATEWAY_BASE_URL", "ALEPHANT_EMULATOR_HTTPS_URL", "ALEPHANT_EMULATOR_CA",
      "ALEPHANT_EMULATOR_ADMIN_URL" }, keys)
    local port = env.ALEPHANT_API_BASE_URL:match("^http://127%.0%.0%.1:(%d+)$")
    assert.is_truthy(port)
    assert.equal(env.ALEPHANT_API_BASE_URL, env.ALEPHANT_ANALYTICS_BASE_URL)
    assert.equal("http://127.0.0.1:" .. port .. "/v1", env.ALEPHANT_GATEWAY_BASE_URL)
    assert.equal("http://127.0.0.1:" .. port .. "/__admin", env.ALEPHANT_EMULATOR_ADMIN_URL)
    assert.matches("^https://127%.0%.0%.1:%d+$", env.ALEPHANT_EMULATOR_HTTPS_URL)
    assert.equal(env.ALEPHANT_EMULATOR_DIR .. "/ca.pem", env.ALEPHANT_EMULATOR_CA)
    local dir = env.ALEPHANT_EMULATOR_DIR
    local f = io.open(dir .. "/emulator.pid")
    local pid = tonumber(f:read("*a"))
    f:close()
    assert.is_true(pid_alive(pid))
    local workers = children(pid)
    assert.equal(1, #workers)

    rc = run(shq(emulator.script) .. " stop " .. shq(dir) .. " --rm")
    assert.equal(0, rc)
    assert.is_false(pid_alive(pid))
    for _, w in ipairs(workers) do assert.is_false(pid_alive(w)) end
    assert.is_nil(io.open(dir .. "/nginx.conf"))
    -- stopping again (and stopping a directory that no longer exists) is fine
    assert.equal(0, (run(shq(emulator.script) .. " stop " .. shq(dir))))
  end)

  it("stop is idempotent on a live directory", function()
    local e = emulator.start()
    local pid = e.pid
    local rc = run(shq(emulator.script) .. " stop " .. shq(e.dir))
    assert.equal(0, rc)
    assert.is_false(pid_alive(pid))
    assert.equal(0, (run(shq(emulator.script) .. " stop " .. shq(e.dir))))
    e:stop()
    e:stop()
    assert.is_false(e:alive())
  end)

  it("honours --port, --tls-port and --dir", function()
    local p, t = free_port(), free_port()
    while t == p do t = free_port() end
    local dir = os.tmpname()
    os.remove(dir)
    local e = emulator.start({ port = p, tls_port = t, dir = dir })
    assert.equal(p, e.port)
    assert.equal(t, e.tls_port)
    assert.equal("http://127.0.0.1:" .. p, e.saas_url)
    local f = io.open(dir .. "/nginx.conf")
    assert.is_truthy(f)
    f:close()
    e:stop()
    assert.is_false(e:alive())
    os.execute("rm -rf " .. shq(dir))
  end)

  it("fails clearly when an explicit port is taken", function()
    local s = assert(socket.bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    local rc, out = run(shq(emulator.script) .. " start --port " .. port)
    s:close()
    assert.is_not.equal(0, rc)
    assert.matches("Address already in use", out)
  end)

  it("rejects bad options", function()
    local rc, out = run(shq(emulator.script) .. " start --port abc")
    assert.is_not.equal(0, rc)
    assert.matches("port", out)
    rc = run(shq(emulator.script) .. " start --bogus")
    assert.is_not.equal(0, rc)
  end)

  it("can run several workers", function()
    local e = emulator.start({ workers = 2 })
    local h = e:admin("GET", "/health")
    assert.equal(2, h.workers)
    assert.equal(2, #children(e.pid))
    -- state is shared between workers: one fault counter, one request log
    local codes = {}
    for i = 1, 6 do
      codes[i] = (e:request("GET", "/v1/analytics/health", { headers = { ["X-Emulator-Fault"] = "503;count=3" } }))
    end
    assert.same({ 503, 503, 503, 200, 200, 200 }, codes)
    assert.equal(6, #e:requests())
    e:stop()
    assert.is_false(e:alive())
  end)

  it("reads the fixtures without starting", function()
    local fx = emulator.fixtures()
    assert.equal(2, #fx.workspaces)
    assert.matches("^vk%-", fx.tokens.vk_agent)
    assert.matches("^pat_ws%x%x%x%x%x%x_%x+$", fx.tokens.pat_read)
    assert.equal(77, #fx.tokens.pat_read)
    assert.matches("^[%w_-]+%.[%w_-]+%.[%w_-]+$", fx.tokens.jwt)
    assert.equal(fx.workspaces[1].id, fx.ids.workspace_1)
  end)

  it("status, env, tokens and ids subcommands", function()
    local rc, out = run(shq(emulator.script) .. " status " .. shq(emu.dir))
    assert.equal(0, rc)
    assert.matches("running", out)
    rc, out = run(shq(emulator.script) .. " env " .. shq(emu.dir))
    assert.equal(0, rc)
    assert.matches("export ALEPHANT_API_BASE_URL=" .. emu.saas_url:gsub("%p", "%%%0") .. "\n", out)
    rc, out = run(shq(emulator.script) .. " tokens")
    assert.equal(0, rc)
    local n = 0
    for name, tok in out:gmatch("([%w_]+)=([^\n]+)") do
      assert.is_nil(name:match("^id_"), "a token name clashes with the ids' prefix: " .. name)
      assert.equal(emu.tokens[name], tok)
      n = n + 1
    end
    assert.equal(18, n)
    rc, out = run(shq(emulator.script) .. " ids")
    assert.equal(0, rc)
    n = 0
    for name, id in out:gmatch("([%w_]+)=([^\n]+)") do
      assert.equal(emu.ids[assert(name:match("^id_(.+)$"), name)], id)
      n = n + 1
    end
    assert.equal(35, n)
    local e = emulator.start()
    local dir = e.dir
    e:stop()
    rc = run(shq(emulator.script) .. " status " .. shq(dir))
    assert.is_not.equal(0, rc)
  end)

  describe("TLS", function()
    it("verifies with the generated CA and fails without it", function()
      local url = emu.https_url .. "/v1/analytics/health"
      local rc, out = run("curl -sS -o /dev/null -w '%{http_code}' --cacert " .. shq(emu.ca_file) .. " " .. url)
      assert.equal(0, rc, out)
      assert.equal("200", out)
      rc, out = run("curl -sS -o /dev/null -w '%{http_code}' " .. url)
      assert.equal(60, rc, out) -- CURLE_PEER_FAILED_VERIFICATION
      assert.matches("000", out)
    end)

    it("has a certificate for localhost too", function()
      local url = "https://localhost:" .. emu.tls_port .. "/v1/analytics/health"
      local rc, out = run("curl -sS -o /dev/null -w '%{http_code}' --cacert " .. shq(emu.ca_file) .. " " .. url)
      assert.equal(0, rc, out)
      assert.equal("200", out)
    end)

    it("serves the same API over HTTPS", function()
      local rc, out = run("curl -sS --cacert " .. shq(emu.ca_file) .. " -H 'Authorization: Bearer " ..
        emu.tokens.vk_agent .. "' " .. emu.https_url .. "/api/v1/cockpit/scope")
      assert.equal(0, rc, out)
      local body = emulator.decode(out)
      assert.equal(emu.ids.workspace_1, body.workspace.id)
      local rec = emu:requests("/api/v1/cockpit/scope")
      assert.equal("https", rec[#rec].scheme)
    end)
  end)

  describe("x-request-id", function()
    it("echoes the client's value", function()
      local status, _, h = emu:request("GET", "/v1/analytics/health", { headers = { ["X-Request-Id"] = "req-123" } })
      assert.equal(200, status)
      assert.equal("req-123", h["x-request-id"])
    end)

    it("generates a UUID when absent, on every family and on errors", function()
      for _, path in ipairs({ "/v1/analytics/health", "/api/v1/cockpit/scope", "/v1/models", "/api/v1/agents",
        "/nope" }) do
        local status, _, h = emu:request("GET", path)
        assert.is_truthy(status)
        assert.matches("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$", h["x-request-id"], path)
      end
    end)

    it("echoes on fault responses", function()
      local status, _, h = emu:request("GET", "/v1/analytics/health",
        { headers = { ["X-Request-Id"] = "fault-1", ["X-Emulator-Fault"] = "503" } })
      assert.equal(503, status)
      assert.equal("fault-1", h["x-request-id"])
    end)
  end)

  describe("admin API", function()
    before_each(function() emu:reset() end)

    it("records requests with redacted tokens", function()
      local token = emu.tokens.pat_read
      emu:request("POST", "/api/v1/virtual-keys?page=2&x=a%20b", { token = token, workspace = emu.ids.workspace_1,
        body = { label = "k" }, headers = { ["X-Custom"] = "yes" } })
      local recs = emu:requests()
      assert.equal(1, #recs)
      local r = recs[1]
      assert.equal("POST", r.method)
      assert.equal("/api/v1/virtual-keys", r.path)
      assert.equal("page=2&x=a%20b", r.query)
      assert.equal("2", r.args.page)
      assert.equal("a b", r.args.x)
      assert.equal("yes", r.headers["x-custom"])
      assert.equal(emu.ids.workspace_1, r.headers["x-workspace-id"])
      assert.equal('{"label":"k"}', r.body)
      assert.equal("Bearer pat_w…" .. token:sub(-4), r.headers.authorization)
      assert.is_nil(r.headers.authorization:find(token, 1, true))
      assert.equal("pat", r.token_kind)
      assert.equal("pat_read", r.token_name)
      assert.equal(403, r.status) -- read scope cannot create
      assert.is_number(r.connection)
      assert.is_number(r.time)
      assert.is_truthy(r.request_id)
    end)

    it("does not record itself", function()
      emu:admin("GET", "/requests")
      emu:admin("GET", "/config")
      assert.equal(0, #emu:requests())
    end)

    it("reports the connection and its request count", function()
      local url = emu.saas_url .. "/v1/analytics/health"
      local rc = run("curl -s -o /dev/null -o /dev/null " .. url .. " " .. url)
      assert.equal(0, rc)
      local recs = emu:requests("/v1/analytics/health")
      assert.equal(2, #recs)
      assert.equal(recs[1].connection, recs[2].connection)
      assert.equal(1, recs[1].connection_requests)
      assert.equal(2, recs[2].connection_requests)
      emu:request("GET", "/v1/analytics/health")
      recs = emu:requests("/v1/analytics/health")
      assert.is_not.equal(recs[1].connection, recs[3].connection)
    end)

    it("filters by path pattern and method", function()
      emu:request("GET", "/v1/models")
      emu:request("POST", "/v1/chat/completions")
      emu:request("GET", "/v1/analytics/health")
      assert.equal(2, #emu:requests("^/v1/[mc]"))
      assert.equal(1, #emu:requests({ method = "post" }))
      assert.equal(1, #emu:requests({ path = "models", method = "GET" }))
    end)

    it("reset clears requests, fault counters, logs and created state", function()
      emu:request("GET", "/v1/analytics/health", { headers = { ["X-Emulator-Fault"] = "503;count=5" } })
      local created = select(4, emu:request("POST", "/api/v1/agents", { token = emu.tokens.pat_write,
        workspace = emu.ids.workspace_1, body = { name = "Temp agent" } }))
      assert.equal(0, created.code)
      emu:request("POST", "/v1/chat/completions", { token = emu.tokens.vk_agent,
        headers = { ["X-Request-Id"] = "reset-check" }, body = { model = "gpt-4o-mini",
        messages = { { role = "user", content = "hi" } } } })
      assert.equal(1, #emu:admin("GET", "/logs").rows)
      emu:reset()
      assert.equal(0, #emu:requests())
      assert.equal(0, #emu:admin("GET", "/logs").rows)
      -- the fault counter starts again from 5
      local _, _, h = emu:request("GET", "/v1/analytics/health", { headers = { ["X-Emulator-Fault"] = "503;count=5" } })
      assert.equal("4", h["x-emulator-fault-remaining"])
      local _, _, _, list = emu:request("GET", "/api/v1/agents", { token = emu.tokens.pat_read,
        workspace = emu.ids.workspace_1 })
      for _, a in ipairs(list.data) do assert.is_not.equal("Temp agent", a.name) end
    end)

    it("partial resets: ?only=requests and ?only=faults", function()
      local fault = { ["X-Emulator-Fault"] = "503;count=3" }
      emu:request("GET", "/v1/analytics/health", { headers = fault })
      emu:arm({ fault = "500", count = 2, path = "/v1/models" })
      emu:request("POST", emu.admin_url .. "/reset?only=requests")
      assert.equal(0, #emu:requests())
      local _, _, h = emu:request("GET", "/v1/analytics/health", { headers = fault })
      assert.equal("1", h["x-emulator-fault-remaining"]) -- counter kept
      assert.equal(1, #emu:admin("GET", "/faults").armed)
      emu:request("POST", emu.admin_url .. "/reset?only=faults")
      assert.equal(0, #emu:admin("GET", "/faults").armed)
      _, _, h = emu:request("GET", "/v1/analytics/health", { headers = fault })
      assert.equal("2", h["x-emulator-fault-remaining"]) -- counter restarted
      assert.equal(2, #emu:requests()) -- requests kept
      assert.equal(200, (emu:request("DELETE", emu.admin_url .. "/requests")))
      assert.equal(0, #emu:requests())
    end)

    it("reports the requests in flight and the most at once since the last reset", function()
      local function in_flight() return emu:admin("GET", "/in-flight") end
      assert.same({ in_flight = 0, max_in_flight = 0 }, in_flight())
      -- three stalled requests, each on its own connection, all sent before any answer
      local socks = {}
      for i = 1, 3 do
        local c = assert(socket.tcp())
        c:settimeout(10)
        assert(c:connect("127.0.0.1", emu.port))
        assert(c:send("GET /v1/analytics/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
          .. "X-Emulator-Fault: stall=500\r\n\r\n"))
        socks[i] = c
      end
      local seen = 0
      for _ = 1, 100 do
        seen = math.max(seen, in_flight().in_flight)
        if seen == 3 then break end
        socket.sleep(0.01)
      end
      assert.equal(3, seen)
      for _, c in ipairs(socks) do
        assert.matches("^HTTP/1%.1 200", c:receive("*a"))
        c:close()
      end
      assert.same({ in_flight = 0, max_in_flight = 3 }, in_flight())
      -- one after the other: never two at once
      emu:reset()
      for _ = 1, 3 do assert.equal(200, (emu:request("GET", "/v1/analytics/health"))) end
      assert.same({ in_flight = 0, max_in_flight = 1 }, in_flight())
    end)

    it("sets and reads config", function()
      assert.equal(100, emu:admin("GET", "/config").ingest_delay_ms)
      assert.equal(250, emu:set({ ingest_delay_ms = 250 }).ingest_delay_ms)
      assert.equal(250, emu:admin("GET", "/config").ingest_delay_ms)
      local status = emu:request("POST", emu.admin_url .. "/config", { body = { nope = 1 } })
      assert.equal(400, status)
      emu:set({ ingest_delay_ms = 100 })
    end)

    it("serves the fixtures file", function()
      local fx = emu:admin("GET", "/fixtures")
      assert.equal(emu.fixtures.workspaces[1].id, fx.workspaces[1].id)
    end)
  end)

  describe("cleanup", function()
    it("stops the emulator when the Lua process exits without calling stop", function()
      local code = "package.path='./?.lua;'..package.path " ..
        "local e=require('spec.support.emulator').start() print('PID='..e.pid) io.stdout:flush()"
      local rc, out = run(interpreter() .. " -e " .. shq(code))
      assert.equal(0, rc, out)
      local pid = tonumber(out:match("PID=(%d+)"))
      assert.is_truthy(pid, out)
      assert.is_true(wait_dead(pid, 3), "nginx " .. pid .. " survived its Lua process")
    end)

    it("stops the emulator when the Lua process is killed", function()
      local code = "package.path='./?.lua;'..package.path " ..
        "local e=require('spec.support.emulator').start() print('PID='..e.pid) io.stdout:flush() " ..
        "os.execute('kill -9 $PPID')"
      local _, out = run(interpreter() .. " -e " .. shq(code))
      local pid = tonumber(out:match("PID=(%d+)"))
      assert.is_truthy(pid, out)
      assert.is_true(wait_dead(pid, 4), "nginx " .. pid .. " survived a killed Lua process")
    end)

    it("leaves no nginx of this suite behind", function()
      local e = emulator.start()
      local pid, workers = e.pid, children(e.pid)
      e:stop()
      assert.is_false(pid_alive(pid))
      for _, w in ipairs(workers) do assert.is_false(pid_alive(w)) end
    end)
  end)
end)
