-- `alephant report` for the newer reports, in this process against the emulator: help,
-- each report as a table, JSON (the library's table) and CSV, budget-policy set, and
-- the usage errors of the new words.
local alephant = require "alephant"
local reports = require "alephant.reports"
local emulator = require "spec.support.emulator"
local command = require "spec.support.cli"
local clients = require "spec.support.clients"

describe("alephant report (newer reports) #integration", function()
  local emu = emulator.session()

  local function run(token_name, argv)
    return command.run(argv, command.env(emu, token_name, { LANG = "C.UTF-8" }))
  end

  it("lists the new reports in alephant report --help, each with its own help", function()
    local code, out = run("pat_read", { "report", "--help" })
    assert.equal(0, code)
    for _, name in ipairs({ "dashboard", "anomalies", "compare", "drill%-down", "idle", "budget%-policy" }) do
      assert.matches("\n  " .. name .. " ", out)
      local c2, help = run("pat_read", { "report", name:gsub("%%", ""), "--help" })
      assert.equal(0, c2)
      assert.matches("^alephant report " .. name .. ": ", help)
      assert.matches("alls?", help) -- the note says how many calls
    end
  end)

  it("bin/alephant report --help (a separate process) lists them", function()
    local lua = rawget(_G, "jit") and "luajit" or "lua5.4"
    local cpath = package.cpath:match("([^;]-/lua5%.4)/%?%.so") or package.cpath:match("([^;]-/luajit)/%?%.so")
    local p = io.popen(("LUA_CPATH=%s %s bin/alephant report --help 2>&1"):format(
      emulator.shell_quote((cpath or ("build/" .. lua)) .. "/?.so;;"), lua))
    local out = p:read("*a")
    p:close()
    for _, name in ipairs({ "costs", "dashboard", "anomalies", "compare", "drill%-down", "idle", "budget%-policy" }) do
      assert.matches("\n  " .. name .. " ", out)
    end
  end)

  local CASES = {
    { "dashboard", { "report", "dashboard" }, "Last 24 hours" },
    { "anomalies", { "report", "anomalies", "--days", "30", "--threshold", "2" }, "Spend anomalies of the workspace" },
    -- days counted back from today: the emulator's data is the last 183 days
    { "compare", { "report", "compare", "--from", clients.day(-22), "--to", clients.day(-16) }, "previous" },
    { "drill-down", { "report", "drill-down", "--days", "7" }, "Departments:" },
    { "idle", { "report", "idle" }, "active virtual keys" },
    { "budget-policy", { "report", "budget-policy" }, "exceededAction" },
  }
  for _, case in ipairs(CASES) do
    it(case[1] .. ": a table, JSON equal to the library's result, CSV of its items", function()
      local code, out, err = run("pat_read", case[2])
      assert.equal(0, code, err)
      assert.matches(case[3], out)
      local argv = { "--format", "json" }
      for _, a in ipairs(case[2]) do argv[#argv + 1] = a end
      code, out, err = run("pat_read", argv)
      assert.equal(0, code, err)
      local decoded = alephant.core.json_decode(out)
      assert.is_table(decoded)
      assert.is_number(decoded.calls)
      argv[2] = "csv"
      code, out, err = run("pat_read", argv)
      assert.equal(0, code, err)
      local header = out:match("^([^\r\n]*)")
      assert.is_true(#header > 0)
      local lines = select(2, out:gsub("\r\n", ""))
      assert.equal(#decoded.items + 1, lines, case[1] .. " csv rows")
    end)
  end

  it("prints the same anomalies as the library (JSON)", function()
    local _, out = run("pat_read", { "--format", "json", "report", "anomalies", "--days", "30", "--threshold", "2",
      "--explain", "0" })
    local lib = assert(reports.anomalies(emu:client("pat_read"), { days = 30, threshold = 2, explain = 0 }))
    local decoded = alephant.core.json_decode(out)
    assert.equal(#lib.items, #decoded.items)
    for i, it in ipairs(lib.items) do assert.equal(it.date, decoded.items[i].date) end
  end)

  it("budget-policy set changes the policy; options without set are a usage error", function()
    local code, out, err = run("pat_admin", { "report", "budget-policy", "set", "--amount", "910",
      "--thresholds", "60,85" })
    assert.equal(0, code, err)
    assert.matches("Budget policy updated", out)
    local p = assert(emu:client("pat_read").policies:budget_control())
    assert.equal(910, p.config.amount)
    assert.same({ 60, 85 }, p.config.thresholds)
    emu:reset()
    for _, argv in ipairs({ { "report", "budget-policy", "--amount", "5" }, { "report", "budget-policy", "get" },
      { "report", "budget-policy", "set", "--thresholds", "a,b" }, { "report", "dashboard", "set" },
      { "report", "drill-down", "--days", "5" } }) do
      code, _, err = run("pat_admin", argv)
      assert.equal(2, code, table.concat(argv, " ") .. ": " .. err)
    end
    assert.equal(0, #emu:requests())
  end)
end)
