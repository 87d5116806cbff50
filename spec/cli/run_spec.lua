-- alephant.cli in this process against the emulator: output formats, paging, progress
-- on a terminal, degraded answers, and which exit status each failure gets.
local alephant = require "alephant"
local emulator = require "spec.support.emulator"
local command = require "spec.support.cli"

describe("alephant commands #integration", function()
  local emu = emulator.session()

  -- Runs the command line with the emulator's URLs and a fixture token in its environment.
  local function run(token_name, argv, extra)
    local env = command.env(emu, token_name, { LANG = "C.UTF-8" })
    for k, v in pairs(extra and extra.env or {}) do env[k] = v end
    return command.run(argv, env, { stderr_tty = extra and extra.tty or false })
  end

  local FROM, TO = "2026-11-01", "2026-11-07"
  -- options, then `analytics usage --from FROM --to TO`
  local function usage_argv(...)
    local argv = { ... }
    for _, a in ipairs({ "analytics", "usage", "--from", FROM, "--to", TO }) do argv[#argv + 1] = a end
    return argv
  end

  it("prints JSON that decodes to what the library returns", function()
    local code, out, err = run("pat_read", usage_argv("--format", "json"))
    assert.equal(0, code, err)
    assert.equal("", err)
    local c = assert(alephant.new{ token = emu.tokens.pat_read, workspace_id = emu.ids.workspace_1,
      base_url = emu.saas_url, getenv = function() return nil end })
    local data = assert(c.analytics:usage{ from = FROM, to = TO })
    assert.same(data, alephant.core.json_decode(out))
    assert.matches("^{\n  \"period\": {\n    \"from\": \"2026%-11%-01\",", out)
    local _, compact = run("pat_read", usage_argv("--format", "json", "--compact"))
    assert.equal(alephant.core.json_encode(data) .. "\n", compact)
  end)

  it("prints CSV of a list, with --field to reach one inside an object", function()
    local code, out, err = run("pat_read", usage_argv("--format", "csv", "--field", "series"))
    assert.equal(0, code, err)
    local lines = {}
    for line in out:gmatch("([^\r\n]*)\r\n") do lines[#lines + 1] = line end
    assert.equal(8, #lines)
    assert.equal("date,cost,costCents,errors,inputTokens,outputTokens,requests,tokens", lines[1])
    assert.matches("^2026%-11%-01,", lines[2])
    assert.equal(#out, #table.concat(lines, "\r\n") + 2, "every line ends in CRLF")
    code, out = run("pat_read", usage_argv("--format", "csv", "--columns", "date,requests", "--field", "series"))
    assert.equal(0, code)
    assert.matches("^date,requests\r\n2026%-11%-01,%d+\r\n", out)
  end)

  it("refuses CSV for an object with exit 2, naming the lists it could print", function()
    local code, out, err = run("pat_read", usage_argv("--format", "csv"))
    assert.equal(2, code)
    assert.equal("", out)
    assert.equal("alephant usage error: csv needs a list of objects, this result is an object: pick a list with "
      .. "--field (series) or use --format json or table\n", err)
  end)

  it("prints a table: aligned columns for lists, key/value lines for objects", function()
    local code, out = run("pat_read", { "virtual-keys", "list", "--columns", "label,status,budgetCents" })
    assert.equal(0, code)
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.equal("label                    status    budgetCents", lines[1])
    assert.equal("Support Bot key          active           5000", lines[2])
    assert.equal(9, #lines)
    code, out = run("vk_agent", { "cockpit", "scope" })
    assert.equal(0, code)
    assert.matches("\nentity +{\"department\":\"Support\"", out)
    assert.matches("\nworkspace +{\"id\":\"" .. emu.ids.workspace_1:gsub("%-", "%%-"), out)
  end)

  it("walks every page with --all and stops at --max-items", function()
    local code, out = run("pat_read", { "virtual-keys", "list", "--all", "--page-size", "3", "--format", "json" })
    assert.equal(0, code)
    assert.equal(8, #alephant.core.json_decode(out))
    assert.equal(3, #emu:requests("/api/v1/virtual%-keys"))
    emu:reset()
    code, out = run("pat_read", { "virtual-keys", "list", "--all", "--page-size", "3", "--max-items", "4",
      "--format", "json" })
    assert.equal(0, code)
    assert.equal(4, #alephant.core.json_decode(out))
    assert.equal(2, #emu:requests("/api/v1/virtual%-keys"))
  end)

  it("shows progress of long scans on stderr only when it is a terminal", function()
    local code, out, err = run("pat_read", { "report", "budgets" }, { tty = true })
    assert.equal(0, code)
    assert.matches("\r\27%[Kalephant: reading virtual keys… %d", err)
    assert.equal("\r\27[K", err:sub(-4), "the progress line is cleared at the end")
    assert.is_nil(out:find("reading", 1, true))
    local _, out2, err2 = run("pat_read", { "report", "budgets" })
    assert.equal("", err2)
    assert.equal(out, out2)
    _, _, err = run("pat_read", { "virtual-keys", "list", "--all", "--page-size", "3" }, { tty = true,
      env = { LANG = "C" } })
    assert.matches("reading virtual%-keys%.%.%. %d", err)
  end)

  it("warns on stderr about a degraded answer and still prints it", function()
    local code, out, err = run("vk_unbound", { "cockpit", "usage-summary", "--period", "7d" })
    assert.equal(0, code)
    assert.equal("alephant: warning: degraded answer (data_source live): Virtual key is not bound to an agent or "
      .. "member; analytics are unavailable for this key.\n", err)
    assert.matches("total_requests +0", out)
  end)

  it("sends bodies built from flags, --body adding fields the flags do not name", function()
    local code, out, err = run("vk_agent", { "gateway", "chat", "--model", "openai/gpt-4o-mini", "--messages",
      '[{"role":"user","content":"one two three"}]', "--body", '{"max_tokens":2,"model":"ignored"}',
      "--field", "choices.1.message.content" })
    assert.equal(0, code, err)
    assert.equal("Emulated reply\n", out)
    local sent = alephant.core.json_decode(emu:requests("/v1/chat/completions")[1].body)
    assert.equal("openai/gpt-4o-mini", sent.model)
    assert.equal(2, sent.max_tokens)
  end)

  it("exits 2 for a bad date or two scopes, with nothing sent", function()
    local code, out, err = run("pat_read", { "analytics", "usage", "--from", "2026-13-01", "--to", "2026-12-01" })
    assert.equal(2, code)
    assert.equal("", out)
    assert.matches("^alephant validation error: %-%-from: [^\n]+\n$", err)
    code, out, err = run("pat_read", { "analytics", "usage", "--agent-id", emu.ids.support_bot, "--department-id",
      emu.ids.support })
    assert.equal(2, code)
    assert.equal("", out)
    assert.equal("alephant validation error: --agent-id and --department-id cannot be combined: analytics.usage takes "
      .. "at most one of --agent-id, --member-id, --department-id\n", err)
    code = run("vk_agent", { "report", "idle-keys" })
    assert.equal(2, code)
    assert.equal(0, #emu:requests())
  end)

  it("exits 3 for API and network failures, with one line naming the status", function()
    local code, out, err = run("vk_revoked", { "cockpit", "scope" })
    assert.equal(3, code)
    assert.equal("", out)
    assert.matches("^alephant auth error: [^\n]*401[^\n]*\n$", err)
    emu:arm({ fault = "503", count = 3, path = "/api/v1/analytics/overview" })
    code, out, err = run("pat_read", { "--timeout", "5", "analytics", "overview" })
    assert.equal(3, code)
    assert.equal("", out)
    assert.matches("^alephant http error: [^\n]*503[^\n]*\n$", err)
    assert.equal(3, #emu:requests("/api/v1/analytics/overview"))
    code, out, err = run("pat_read", { "report", "costs" }, { env = { ALEPHANT_API_BASE_URL = "http://127.0.0.1:9" } })
    assert.equal(3, code)
    assert.equal("", out)
    assert.matches("^alephant network error: ", err)
  end)

  it("renders the reports: a cost report with a chart, budgets and idle keys", function()
    local code, out, err = run("pat_read", { "report", "costs", "--days", "14" })
    assert.equal(0, code, err)
    local ws = emu.ids.workspace_1:gsub("%-", "%%-")
    assert.matches("^Spend %d+%-%d+%-%d+ %.%. %d+%-%d+%-%d+ %(14 days%), workspace " .. ws, out)
    for _, needle in ipairs({ "\n  Total     $", "\n  Previous  $", "\n  Change    ", "\nDaily spend\n", " ┤", "┼──",
      "\nTop agents:\n", "\nTop members:\n", "\nTop departments:\n", "\nTop models:\n", "Claude 3.5 Sonnet" }) do
      assert.matches(needle, out, 1, true)
    end
    code, out = run("pat_read", { "report", "budgets", "--threshold", "80%" })
    assert.equal(0, code)
    assert.matches("^Budgets at or above 80%% of their limit: 1 of 13", out)
    -- the spend itself grows with the date; spec/reports/budgets_spec.lua checks it against the API
    assert.matches("\nvirtual key +Alice laptop +%$%d+%.%d%d +%$100%.00 +%d+%.%d%%", out)
    code, out = run("pat_read", { "report", "idle-keys", "--format", "csv" })
    assert.equal(0, code)
    assert.equal("id,label,entity_type,entity_id,entity_name,last_used,idle_days,basis,created_at\r\n"
      .. emu.ids.vk_unbound .. ",Shared sandbox key,,,,,,none,2025-11-03T09:00:00Z\r\n", out)
    code, out = run("pat_read", { "report", "costs", "--format", "csv", "--top", "1" })
    assert.equal(0, code)
    assert.matches("^dimension,rank,kind,id,name,cost,share_pct,requests\r\nagent,1,item,", out)
    code, out = run("pat_read", { "report", "costs", "--format", "json", "--field", "window" })
    assert.equal(0, code)
    assert.equal(30, alephant.core.json_decode(out).days)
    code, out, err = run("pat_read", { "report", "costs", "--field", "windows" })
    assert.equal(2, code)
    assert.equal("", out)
    assert.equal("alephant usage error: --field windows: the report has no such field\n", err)
  end)
end)
