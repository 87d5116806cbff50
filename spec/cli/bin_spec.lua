-- bin/alephant as a user runs it: a separate process, under the interpreter of this
-- busted run (the suite runs under Lua 5.4 and under LuaJIT, so both are covered),
-- configured through the environment, against the emulator. Its exit status, stdout
-- and stderr are checked, and no output may contain a token.
local emulator = require "spec.support.emulator"

local shq = emulator.shell_quote
-- the build directory this suite runs against (scripts/busted.sh --cpath BUILD/<lua>/?.so)
local BUILD = package.cpath:match("([^;]-)/lua5%.4/%?%.so") or package.cpath:match("([^;]-)/luajit/%?%.so") or "build"

local function read(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("*a")
  f:close()
  return s
end

local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end

describe("bin/alephant #integration", function()
  local emu = emulator.session()
  local dir
  local outputs = {} -- every stdout and stderr, for the token check at the end

  lazy_setup(function()
    dir = os.tmpname()
    os.remove(dir)
    assert(os.execute("mkdir -m 700 " .. shq(dir)))
    for name, token in pairs(emu.tokens) do write(dir .. "/" .. name, token .. "\n") end
  end)
  lazy_teardown(function()
    if dir then os.execute("rm -rf " .. shq(dir)) end
  end)

  -- Runs `lua bin/alephant args...` in a clean environment: the emulator's URLs, the
  -- token read into ALEPHANT_TOKEN by the shell (so it is on no command line), LANG.
  -- Returns the exit status, stdout and stderr.
  local function run(lua, token_name, args, env)
    local lines = { "unset ALEPHANT_TOKEN ALEPHANT_PAT ALEPHANT_VIRTUAL_KEY ALEPHANT_WORKSPACE_ID LC_ALL LC_CTYPE",
      "export ALEPHANT_API_BASE_URL=" .. shq(emu.saas_url),
      "export ALEPHANT_ANALYTICS_BASE_URL=" .. shq(emu.analytics_url),
      "export ALEPHANT_GATEWAY_BASE_URL=" .. shq(emu.gateway_url),
      "export LANG=" .. shq(env and env.LANG or "C.UTF-8"),
      "export LUA_CPATH=" .. shq(BUILD .. "/" .. lua .. "/?.so;;"),
    }
    if token_name then
      lines[#lines + 1] = "export ALEPHANT_TOKEN=\"$(cat " .. shq(dir .. "/" .. token_name) .. ")\""
      if token_name:match("^pat") or token_name:match("^jwt") then
        lines[#lines + 1] = "export ALEPHANT_WORKSPACE_ID=" .. shq(emu.ids.workspace_1)
      end
    end
    local quoted = {}
    for i, a in ipairs(args) do quoted[i] = shq(a) end
    local out, err = dir .. "/stdout", dir .. "/stderr"
    local cmd = lua .. " bin/alephant " .. table.concat(quoted, " ") .. " >" .. shq(out)
    if env and env.tty then
      -- stderr on a pseudo-terminal (util-linux script); the terminal's output is stderr's
      lines[#lines + 1] = "export TERM=" .. shq(env.TERM or "xterm")
      lines[#lines + 1] = "script -qec " .. shq(cmd) .. " /dev/null >" .. shq(err) .. " 2>&1"
    else
      lines[#lines + 1] = cmd .. " 2>" .. shq(err)
    end
    lines[#lines + 1] = "echo $?"
    local p = assert(io.popen("sh -c " .. shq(table.concat(lines, "\n"))))
    local code = tonumber(p:read("*a"):match("(%d+)%s*$"))
    p:close()
    local o, e = read(out), read(err)
    outputs[#outputs + 1] = o
    outputs[#outputs + 1] = e
    return code, o, e
  end

  for _, lua in ipairs({ rawget(_G, "jit") and "luajit" or "lua5.4" }) do
    describe("under " .. lua, function()
      it("prints help at every level and its version, exit 0", function()
        local code, out, err = run(lua, nil, { "--help" })
        assert.equal(0, code)
        assert.equal("", err)
        assert.matches("^alephant: the Alephant APIs from the command line", out)
        code, out = run(lua, nil, { "collector", "--help" })
        assert.equal(0, code)
        assert.matches("request%-log +GET +/v1/analytics/request%-logs/{requestId}", out)
        code, out = run(lua, nil, { "collector", "request-log", "--help" })
        assert.equal(0, code)
        assert.matches("%-%-request%-id ID +required id; path requestId", out)
        code, out = run(lua, nil, { "report", "idle-keys", "-h" })
        assert.equal(0, code)
        assert.matches("%-%-days N", out)
        code, out = run(lua, nil, { "--version" })
        assert.equal(0, code)
        assert.matches("^alephant%-lua %S+\n$", out)
      end)

      it("prints a cost report with a Unicode chart for a PAT", function()
        local code, out, err = run(lua, "pat_read", { "report", "costs" })
        assert.equal(0, code, err)
        assert.equal("", err)
        assert.matches("^Spend [^\n]+ %(30 days%)", out)
        assert.matches("\n%$[%d,.]+ ┤", out)
        assert.matches("█", out, 1, true)
        assert.matches("\nTop models:\n", out)
      end)

      it("draws the chart in plain ASCII when the locale is not UTF-8", function()
        local code, out = run(lua, "pat_read", { "report", "costs", "--days", "7" }, { LANG = "C" })
        assert.equal(0, code)
        assert.is_nil(out:find("[\128-\255]"), "only ASCII bytes")
        assert.matches("\n%$[%d,.]+ %+", out)
        assert.matches("#", out, 1, true)
      end)

      it("prints each format, configured only through the environment", function()
        local code, out = run(lua, "vk_agent", { "cockpit", "cost-by-model", "--period", "7d", "--format", "json" })
        assert.equal(0, code)
        local data = emulator.decode(out)
        assert.is_table(data.data)
        code, out = run(lua, "vk_agent", { "cockpit", "cost-by-model", "--period", "7d", "--format", "csv",
          "--field", "data" })
        assert.equal(0, code)
        assert.matches("^model,cost_cents,pct,provider,requests\r\n", out)
        local rows = select(2, out:gsub("\r\n", ""))
        assert.equal(#data.data + 1, rows)
        code, out = run(lua, "pat_read", { "models", "list" })
        assert.equal(0, code)
        assert.matches("^id +", out)
      end)

      it("exits 2 with one line and sends nothing for a bad date or two scopes", function()
        local code, out, err = run(lua, "pat_read", { "analytics", "usage", "--from", "2026-02-29", "--to",
          "2026-03-01" })
        assert.equal(2, code)
        assert.equal("", out)
        assert.equal("alephant validation error: --from: 2026-02-29 does not exist (2026 is not a leap year)\n", err)
        code, out, err = run(lua, "pat_read", { "collector", "usage", "--member-id", emu.ids.alice, "--agent-id",
          emu.ids.support_bot })
        assert.equal(2, code)
        assert.equal("", out)
        assert.matches("^alephant validation error: [^\n]*cannot be combined[^\n]*\n$", err)
        code, _, err = run(lua, "pat_read", { "analytics", "usages" })
        assert.equal(2, code)
        assert.matches("^alephant usage error: [^\n]*did you mean 'usage'[^\n]*\n$", err)
        assert.equal(0, #emu:requests())
      end)

      it("exits 3 with one line when the API refuses the token", function()
        local code, out, err = run(lua, "pat_revoked", { "analytics", "overview" })
        assert.equal(3, code)
        assert.equal("", out)
        assert.matches("^alephant auth error: [^\n]*401[^\n]*\n$", err)
        assert.equal(1, #emu:requests())
      end)

      it("shows progress of a long scan only when stderr is a terminal", function()
        local code, out, err = run(lua, "pat_read", { "virtual-keys", "list", "--all", "--page-size", "2",
          "--format", "json" }, { tty = true })
        assert.equal(0, code)
        assert.equal(8, #emulator.decode(out))
        assert.matches("^\r\27%[Kalephant: reading virtual%-keys… %d", err)
        assert.equal("\r\27[K", err:sub(-4))
        code, _, err = run(lua, "pat_read", { "virtual-keys", "list", "--all", "--page-size", "2" },
          { tty = true, TERM = "dumb" })
        assert.equal(0, code)
        assert.equal("", err)
        code, _, err = run(lua, "pat_read", { "virtual-keys", "list", "--all", "--page-size", "2" })
        assert.equal(0, code)
        assert.equal("", err)
      end)

      it("takes the token from --token-file and refuses --token", function()
        local code, out, err = run(lua, nil, { "--token-file", dir .. "/vk_agent", "cockpit", "scope", "--format",
          "json" })
        assert.equal(0, code, err)
        assert.equal("Support Bot", emulator.decode(out).entity.name)
        code, out, err = run(lua, nil, { "cockpit", "scope", "--token", "vk-agent-0000000000000000" })
        assert.equal(2, code)
        assert.equal("", out)
        assert.matches("^alephant usage error: %-%-token is not accepted", err)
        assert.is_nil(err:find("vk-agent-0000000000000000", 1, true))
      end)
    end)
  end

  it("never printed a token (scripts/check-secrets.sh over every output)", function()
    assert.is_true(#outputs > 30)
    local path = dir .. "/all-output"
    write(path, table.concat(outputs, "\n"))
    local r = os.execute("scripts/check-secrets.sh " .. shq(path) .. " 2>/dev/null")
    assert.is_true(r == true or r == 0)
    -- and the check would have caught one
    write(path, "x " .. emu.tokens.pat_read:sub(1, 20) .. "\n")
    r = os.execute("scripts/check-secrets.sh " .. shq(path) .. " 2>/dev/null")
    assert.is_true(r == true or r == 0, "a prefix is not a token")
    write(path, "x " .. emu.tokens.vk_member .. "\n")
    r = os.execute("scripts/check-secrets.sh " .. shq(path) .. " 2>/dev/null")
    assert.is_false(r == true or r == 0)
    os.remove(path)
  end)
end)
