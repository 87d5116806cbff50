-- The canary: a fresh random token for every run of the suite (ALEPHANT_CANARY_TOKEN, made
-- by scripts/busted.sh) pushed through every public surface: client creation, tostring,
-- the client table, every error kind (config, validation, auth, http, network, timeout,
-- tls, decode, too_large) with its decoded `body`, success metadata, streams, the
-- command line, and a server that echoes the token back (the emulator's `echo` fault:
-- message, body, CLI output). Each result must not hold the token, nor any 6 characters of its secret
-- part (the redacted form keeps the last four). Every text produced here is also printed,
-- so scripts/check-secrets.sh, which scans the run's output for the canary, sees it too.
local alephant = require "alephant"
local core = require "alephant.core"
local emulator = require "spec.support.emulator"
local sys = require "spec.support.sys"

local CANARY = os.getenv("ALEPHANT_CANARY_TOKEN")
if not CANARY or CANARY == "" then CANARY = "vk-canary-" .. core.uuid4():gsub("-", "") end
local SECRET = assert(CANARY:match("^vk%-canary%-(%x+)$"), "ALEPHANT_CANARY_TOKEN must be vk-canary-<hex>")
local REDACTED = "vk-ca…" .. CANARY:sub(-4)

-- Everything reachable from a value as text: strings, numbers, keys, tostring of tables
-- and userdata (their __tostring), metatable-less tables walked (cycles cut).
local function dump(v, seen, out)
  seen, out = seen or {}, out or {}
  local t = type(v)
  if t == "table" then
    if seen[v] then return out end
    seen[v] = true
    local ok, s = pcall(tostring, v)
    out[#out + 1] = ok and s or "?"
    for k, x in pairs(v) do
      dump(k, seen, out)
      dump(x, seen, out)
    end
  else
    out[#out + 1] = tostring(v)
  end
  return out
end

describe("the canary token", function()
  local emu = emulator.session()
  local produced = {} -- every text a surface gave back, printed at the end

  -- Asserts that nothing in the values shows the canary, and keeps their text.
  local function clean(label, ...)
    for i = 1, select("#", ...) do
      local text = table.concat(dump((select(i, ...))), " | ")
      assert.is_nil(text:find(CANARY, 1, true), label .. " shows the canary")
      for j = 1, #SECRET - 5 do
        local piece = SECRET:sub(j, j + 5)
        assert.is_nil(text:find(piece, 1, true), label .. " shows part of the canary: " .. piece)
      end
      produced[#produced + 1] = label .. ": " .. text:gsub("[\r\n]", " ")
    end
  end

  local function new(extra)
    local opts = { token = CANARY, base_url = emu.saas_url, analytics_url = emu.analytics_url,
      gateway_url = emu.gateway_url, getenv = function() return nil end, max_retries = 0, timeout = 10 }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return alephant.new(opts)
  end

  -- A call that must fail with `kind`; its results are checked and returned.
  local function fails(label, kind, ...)
    local data, err = ...
    assert.is_nil(data, label)
    assert.is_table(err, label)
    assert.equal(kind, err.kind, tostring(err))
    clean(label, err, tostring(err), err.message, err.body)
    return err
  end

  lazy_teardown(function()
    for _, line in ipairs(produced) do print("# canary surface " .. line) end
  end)

  it("is a fresh vk-canary token of the run", function()
    assert.matches("^vk%-canary%-%x+$", CANARY)
    assert.is_true(#SECRET >= 32)
  end)

  describe("when a client is made", function()
    it("is not in tostring, the redacted token, the groups or anywhere in the client table", function()
      local c = assert(new())
      assert.equal("alephant.client<virtual_key " .. REDACTED .. ">", tostring(c))
      assert.equal(REDACTED, c:redacted_token())
      assert.equal("virtual_key", c:token_kind())
      clean("client", c, tostring(c), c:redacted_token(), c.cockpit, c.gateway, c:context())
      clean("core.redact", core.redact(CANARY), core.token_info(CANARY))
      c:close()
      clean("closed client", c, tostring(c))
    end)

    it("is not in a client made from the environment", function()
      local c = assert(alephant.new({ getenv = function(k)
        return ({ ALEPHANT_TOKEN = CANARY, ALEPHANT_API_BASE_URL = emu.saas_url })[k]
      end }))
      clean("client from ALEPHANT_TOKEN", c, tostring(c))
    end)

    it("is not in config errors", function()
      local cases = {
        { "token with a NUL", { token = CANARY .. "\0x" } },
        { "token with a line feed inside", { token = CANARY:sub(1, 12) .. "\n" .. CANARY:sub(13) } },
        { "token with a Bearer prefix", { token = "Bearer " .. CANARY } },
        { "token of an unknown form", { token = "VK-" .. CANARY:sub(4) } },
        { "PAT without a workspace", { token = "pat_" .. CANARY:sub(4) } },
        { "workspace id holding the token", { workspace_id = CANARY } },
        { "workspace id with CR LF", { workspace_id = CANARY .. "\r\nX-Evil: 1" } },
        { "URL that is not http", { base_url = "ftp://127.0.0.1/" } },
        { "URL whose host is the token", { base_url = "ftp://" .. CANARY } },
        { "plain http URL whose host is the token", { gateway_url = "http://" .. CANARY .. "/v1" } },
        { "URL whose scheme is the token", { analytics_url = CANARY .. "://example.com" } },
        { "proxy whose host is the token", { proxy = "ftp://" .. CANARY .. ":3128" } },
        { "plain http to a remote host with credentials", { base_url = "http://user:" .. CANARY .. "@example.com" } },
        { "URL with the token in the query", { base_url = "https://example.com/?key=" .. CANARY } },
        { "URL with the token in the fragment", { gateway_url = "https://example.com/v1#" .. CANARY } },
        { "URL with a control character", { analytics_url = "https://example.com/\r\n" .. CANARY } },
      }
      for _, case in ipairs(cases) do
        fails(case[1], "config", new(case[2]))
      end
      fails("ALEPHANT_RATE_LIMIT_RPM holding the token", "config", alephant.new({ getenv = function(k)
        return ({ ALEPHANT_TOKEN = CANARY, ALEPHANT_RATE_LIMIT_RPM = CANARY })[k]
      end }))
    end)

    it("is trimmed of surrounding spaces and line ends, and not shown", function()
      for _, t in ipairs({ CANARY .. "\n", " " .. CANARY, "\t" .. CANARY .. "\r\n" }) do
        local c = assert(new({ token = t }))
        assert.equal("alephant.client<virtual_key " .. REDACTED .. ">", tostring(c))
        clean("client of a padded token", c, tostring(c))
      end
    end)

    it("is not in the messages of programmer errors", function()
      local cases = {
        { token = CANARY, tokne = CANARY },
        { CANARY }, -- the token given positionally
        { token = CANARY, timeout = CANARY },
        { token = CANARY, max_retries = 1.5 },
      }
      for i, opts in ipairs(cases) do
        local ok, msg = pcall(alephant.new, opts)
        assert.is_false(ok)
        clean("raised by alephant.new #" .. i, msg)
      end
      local c = assert(new())
      for i, args in ipairs({
        { "cockpit.scope", nil, { CANARY } },
        { "cockpit.scope", nil, { timeout = CANARY } },
        { "cockpit.scope", CANARY },
        { "cockpit.scope", nil, { headers = { ["X-A"] = { CANARY } } } },
      }) do
        local ok, msg = pcall(c.call, c, args[1], args[2], args[3])
        assert.is_false(ok)
        clean("raised by client:call #" .. i, msg)
      end
    end)
  end)

  describe("when nothing may be sent", function()
    it("is not in validation and token-kind errors, and nothing reaches the server", function()
      local c = assert(new())
      fails("bad enum", "validation", c.cockpit:usage_summary({ period = "90d" }))
      fails("unknown parameter", "validation", c.cockpit:usage_summary({ perid = "7d" }))
      fails("bad limit", "validation", c.cockpit:recent_requests({ limit = 0 }))
      fails("token as an id", "validation", c.collector:usage({ agent_id = CANARY }))
      fails("route for a PAT or JWT", "auth", c.analytics:usage())
      fails("JWT-only route", "auth", c.pats:list())
      fails("header with the token and CR LF", "validation", c.cockpit:scope(nil,
        { headers = { ["X-Debug"] = CANARY .. "\r\nX-Evil: 1" } }))
      fails("Authorization in call headers", "validation", c.cockpit:scope(nil,
        { headers = { Authorization = "Bearer " .. CANARY } }))
      fails("gateway tracking option with CR LF", "validation", c.gateway:chat({ model = "openai/gpt-4o-mini",
        messages = { { role = "user", content = "hi" } }, agent_id = CANARY .. "\n" }))
      assert.equal(0, #emu:requests())
    end)
  end)

  describe("when the server answers", function()
    it("is not in 401 errors, their decoded bodies, or the gateway's", function()
      local c = assert(new())
      local err = fails("cockpit 401", "auth", c.cockpit:scope())
      assert.equal(401, err.status)
      assert.is_table(err.body)
      err = fails("scope resolution 401", "auth", c.collector:usage({}))
      assert.equal(401, err.status)
      err = fails("gateway 401", "auth", c.gateway:chat({ model = "openai/gpt-4o-mini",
        messages = { { role = "user", content = "hello" } } }))
      assert.equal("invalid_api_key", err.code)
      err = fails("gateway embeddings 401", "auth", c.gateway:embeddings({ model = "openai/text-embedding-3-small",
        input = "hello" }))
      assert.equal(401, err.status)
    end)

    it("is not in what a server that echoes it answers: message, body, tostring", function()
      local function fault(spec) return { headers = { ["X-Emulator-Fault"] = spec } } end
      local c = assert(new())
      for _, case in ipairs({
        { "cockpit 401 echoing the token", c.cockpit:scope(nil, fault("401;echo")) },
        { "cockpit 403 echoing the token", c.cockpit:scope(nil, fault("403;echo")) },
        { "gateway 401 echoing the token", c.gateway:chat({ model = "openai/gpt-4o-mini",
          messages = { { role = "user", content = "x" } } }, fault("401;echo")) },
        -- the lookup never carries the call's headers: the fault is armed on its route
        { "scope resolution echoing the token", (function()
          emu:arm({ fault = "401;echo", count = 1, path = "/api/v1/cockpit/scope" })
          return c.collector:usage({})
        end)() },
      }) do
        local err = fails(case[1], "auth", case[2], case[3])
        -- the echo is there, redacted: the scrubbing is what kept the token out
        assert.matches("credentials Bearer " .. REDACTED .. " rejected", err.message, 1, true)
      end
    end)

    it("is not in a failed stream", function()
      local c = assert(new())
      local s = c.gateway:chat_stream({ model = "openai/gpt-4o-mini", messages = { { role = "user", content = "x" } } })
      clean("stream", s, tostring(s))
      local seen_err
      for chunk, err in s do
        if chunk == false then seen_err = err end
      end
      assert.is_table(seen_err)
      clean("stream error", seen_err, tostring(seen_err))
      s:close()
    end)

    it("is not in success metadata", function()
      local c = assert(new())
      local data, err, meta = c.cockpit:health()
      assert.is_not_nil(data, tostring(err))
      clean("health", data, meta)
    end)

    it("is not in http, network, timeout, decode and too_large errors", function()
      local function fault(spec) return { headers = { ["X-Emulator-Fault"] = spec } } end
      local c = assert(new())
      fails("500", "http", c.cockpit:scope(nil, fault("status=500")))
      fails("503", "http", c.cockpit:scope(nil, fault("status=503")))
      fails("429", "http", c.cockpit:scope(nil, fault("429;retry-after=0")))
      fails("gateway 502", "http", c.gateway:chat({ model = "openai/gpt-4o-mini",
        messages = { { role = "user", content = "x" } } }, fault("status=502")))
      fails("reset", "network", c.cockpit:scope(nil, fault("reset")))
      fails("truncated", "network", c.cockpit:scope(nil, fault("truncated")))
      fails("stall", "timeout", c.cockpit:scope(nil, { timeout = 0.2,
        headers = { ["X-Emulator-Fault"] = "stall=600" } }))
      fails("deadline", "timeout", c.cockpit:scope(nil, { deadline = 0.2,
        headers = { ["X-Emulator-Fault"] = "stall=600" } }))
      fails("malformed", "decode", c.cockpit:scope(nil, fault("malformed")))
      local small = assert(new({ transport = core.http_new({ timeout = 10, max_body = 4096 }) }))
      fails("oversized", "too_large", small.cockpit:scope(nil, fault("oversized=100000")))
      -- retried: the error of the last attempt
      local retried = assert(new({ max_retries = 1 }))
      fails("503 retried", "http", retried.cockpit:scope(nil, fault("status=503")))
    end)

    it("is not in tls errors or connection failures", function()
      fails("tls", "tls", assert(new({ base_url = emu.https_url })).cockpit:scope())
      fails("tls with a bad cafile", "tls", assert(new({ base_url = emu.https_url, cafile = "/nonexistent/ca.pem" }))
        .cockpit:scope())
      -- a port nothing listens on: the emulator's, after it is stopped, is not ours to take,
      -- so use a fresh socket's port that was closed again
      local socket = require "socket"
      local s = assert(socket.bind("127.0.0.1", 0))
      local _, port = s:getsockname()
      s:close()
      fails("refused", "network", assert(new({ base_url = "http://127.0.0.1:" .. port })).cockpit:scope())
    end)
  end)

  describe("on the command line", function()
    local shq = emulator.shell_quote
    local BUILD = package.cpath:match("([^;]-)/lua5%.4/%?%.so") or package.cpath:match("([^;]-)/luajit/%?%.so")
      or "build"
    local LUA = sys.lua_name()
    local have_cli = io.open(emulator.root .. "/bin/alephant", "r")
    if have_cli then have_cli:close() end

    -- Runs bin/alephant with the canary in ALEPHANT_TOKEN, read by the shell from a file
    -- (so it is on no command line except where a case puts it on purpose); `exports`:
    -- more environment ("export K=V;" text).
    local function run(args, file, exports)
      local out = os.tmpname()
      local tokfile = file or os.tmpname()
      if not file then
        local f = assert(io.open(tokfile, "wb"))
        f:write(CANARY, "\n")
        f:close()
      end
      local quoted = {}
      for i, a in ipairs(args) do quoted[i] = shq(a) end
      local cmd = table.concat({
        "unset ALEPHANT_PAT ALEPHANT_VIRTUAL_KEY ALEPHANT_WORKSPACE_ID;",
        "export ALEPHANT_API_BASE_URL=" .. shq(emu.saas_url),
        "ALEPHANT_ANALYTICS_BASE_URL=" .. shq(emu.analytics_url),
        "ALEPHANT_GATEWAY_BASE_URL=" .. shq(emu.gateway_url),
        "LUA_CPATH=" .. shq(BUILD .. "/" .. LUA .. "/?.so;;") .. ";",
        "export ALEPHANT_TOKEN=\"$(cat " .. shq(tokfile) .. ")\";", exports or "",
        LUA, shq(emulator.root .. "/bin/alephant"), table.concat(quoted, " "), ">", shq(out), "2>&1",
      }, " ")
      local ok, _, code = os.execute(cmd)
      if type(ok) == "number" then code = ok / 256 end -- Lua 5.1 / LuaJIT without 5.2 compat
      local f = assert(io.open(out, "rb"))
      local text = f:read("*a")
      f:close()
      os.remove(out)
      if not file then os.remove(tokfile) end
      return code, text
    end

    it("is not in the output of the alephant command, whatever fails", function()
      if not have_cli then
        pending("bin/alephant is not in this checkout")
        return
      end
      local cases = {
        { { "cockpit", "scope" }, 3 },
        { { "--format", "json", "cockpit", "scope" }, 3 },
        { { "collector", "usage" }, 3 },
        { { "virtual-keys", "list" }, 2 },
        { { "cockpit", "usage-summary", "--period", "90d" }, 2 },
        { { "--token", CANARY, "cockpit", "scope" }, 2 },
        { { "--token=" .. CANARY, "cockpit", "scope" }, 2 },
        { { "cockpit", "scope", "--base-url", "https://example.com/?k=" .. CANARY }, 2 },
        { { "cockpit", "health", "--format", "json" }, 0 },
        { { "--help" }, 0 },
      }
      for _, case in ipairs(cases) do
        local code, text = run(case[1])
        clean("alephant " .. table.concat(case[1], " "):gsub(CANARY:gsub("%p", "%%%0"), "<canary>"), text)
        assert.equal(case[2], code, text)
      end
      -- a server that echoes the token: stderr shows it redacted, in every format
      for _, f in ipairs({ "table", "json", "csv" }) do
        assert(emu:arm({ fault = "401;echo", count = 1, path = "/api/v1/cockpit/scope" }))
        local code, text = run({ "--format", f, "cockpit", "scope" })
        clean("alephant cockpit scope against a server echoing the token (" .. f .. ")", text)
        assert.equal(3, code, text)
        assert.matches("credentials Bearer " .. REDACTED .. " rejected", text, 1, true)
      end
      -- the token in a --token-file
      local tokfile = os.tmpname()
      local f = assert(io.open(tokfile, "wb"))
      f:write("  " .. CANARY .. "  \n")
      f:close()
      local code, text = run({ "--token-file", tokfile, "cockpit", "scope" }, tokfile)
      os.remove(tokfile)
      clean("alephant --token-file", text)
      assert.equal(3, code, text)
    end)

    it("does not reach a proxy from the environment when the API is on loopback", function()
      if not have_cli then
        pending("bin/alephant is not in this checkout")
        return
      end
      local px = require("spec.support.proxy").start({})
      finally(function() px:stop() end)
      local exports = ("export http_proxy=%s ALL_PROXY=%s all_proxy=%s https_proxy=%s;"):format(px.url, px.url,
        px.url, px.url)
      local code, text = run({ "cockpit", "scope" }, nil, exports)
      local connections, log = px:connections(), px:log()
      clean("alephant cockpit scope with http_proxy", text)
      assert.equal(3, code, text) -- the emulator itself refused the canary: it was reached directly
      assert.equal(0, connections)
      assert.is_nil(log:find(SECRET:sub(1, 6), 1, true))
    end)
  end)

  describe("with proxies in the environment", function()
    local server = require "spec.transport.server"
    local proxy = require "spec.support.proxy"
    local srv, px

    lazy_setup(function()
      srv = server.start()
      px = proxy.start({ upstream = srv.tls_port })
    end)
    lazy_teardown(function()
      if px then px:stop() end
      if srv then srv:stop() end
    end)

    it("is never sent to the proxy in clear: loopback goes direct, plain http is refused, https tunnels", function()
      local LUA = sys.lua_command() -- check-asan: the runtimes first
      local code = ([[
        package.path = %q; package.cpath = %q
        local alephant = require "alephant"
        local function new(o)
          o.token, o.getenv, o.max_retries, o.timeout = os.getenv("CANARY_FOR_CHILD"), function() end, 0, 10
          return assert(alephant.new(o))
        end
        local function show(label, data, err) print(label, tostring(data), tostring(err)) end
        show("loopback", new{ base_url = %q }:call("cockpit.scope"))
        show("plain http", new{ base_url = "http://api.alephant.test", allow_insecure_http = true }
          :call("cockpit.scope"))
        show("https", new{ base_url = %q, cafile = %q }:call("cockpit.scope"))
      ]]):format(package.path, package.cpath, emu.saas_url, "https://api.alephant.test:" .. srv.tls_port,
        srv.ca_file)
      local env = ("http_proxy=%s ALL_PROXY=%s all_proxy=%s https_proxy=%s"):format(px.url, px.url, px.url, px.url)
      local tokfile = os.tmpname() -- the token reaches the child on no command line
      local f = assert(io.open(tokfile, "wb"))
      f:write(CANARY)
      f:close()
      local p = assert(io.popen("CANARY_FOR_CHILD=\"$(cat " .. emulator.shell_quote(tokfile) .. ")\" " .. env .. " "
        .. LUA .. " -e " .. emulator.shell_quote(code) .. " 2>&1"))
      local out = p:read("*a")
      p:close()
      os.remove(tokfile)
      clean("calls through proxies from the environment", out)
      assert.matches("loopback\tnil\talephant auth error: GET cockpit%.scope answered HTTP 401", out) -- direct
      assert.matches("plain http\tnil\talephant config error: refusing plain http://", out)
      assert.matches("https\tnil\talephant http error: GET cockpit%.scope answered HTTP 404", out)
      local log = px:log()
      assert.equal(1, px:connections(), log)
      assert.matches("CONNECT api%.alephant%.test:" .. srv.tls_port, log)
      clean("what the proxy received", log)
    end)
  end)
end)
