-- alephant.cli without a server: parsing, help at every level, usage errors and their
-- exit status, token handling. (spec/cli/run_spec.lua and bin_spec.lua run it against
-- the emulator.)
local alephant = require "alephant"
local cli = require "alephant.cli"
local command = require "spec.support.cli"

local VK = "vk-agent-0123456789abcdef0123456789abcdef3f8a"
local PAT = "pat_ws0117be_" .. string.rep("ab", 32)
local WS = "c324cd7a-d313-4940-89c6-e97f63f36704"

-- Runs the command line with its own streams and environment. A transport that
-- records what would have been sent stands in for the network: these specs are about
-- what happens before any request (spec/cli/run_spec.lua has the real one).
local function run(argv, env)
  local sent = {}
  local code, out, err = command.run(argv, env, {
    new = function(opts)
      opts.transport = { request = function(_, req)
        sent[#sent + 1] = req
        return nil, alephant.errors.new("network", "no network in this spec")
      end }
      opts.max_retries = 0
      return alephant.new(opts)
    end,
  })
  return code, out, err, sent
end

local function one_line(s)
  assert.is_truthy(s:match("^[^\n]+\n$"), "not one line: " .. s)
end

local PAT_ENV = { ALEPHANT_TOKEN = PAT, ALEPHANT_WORKSPACE_ID = WS }

describe("alephant --help", function()
  it("lists every group and command, the reports, the options and the exit codes", function()
    local code, out, err = run({ "--help" })
    assert.equal(0, code)
    assert.equal("", err)
    for _, e in ipairs(alephant.core.endpoints()) do
      local g, n = e.name:match("^([^.]+)%.(.+)$")
      assert.matches("\n  " .. g:gsub("_", "%%-") .. " +[^\n]*" .. n:gsub("_", "%%-"), out)
    end
    for _, needle in ipairs({ "report costs", "report budgets", "report idle-keys", "--format FORMAT",
      "--token-file PATH", "--base-url URL", "ALEPHANT_API_BASE_URL", "--workspace-id UUID", "--timeout SECONDS",
      "Exit status: 0 ok; 2 usage", "never taken on the command line" }) do
      assert.matches(needle, out, 1, true)
    end
    assert.equal(out, select(2, run({ "-h" })))
    assert.equal(out, select(2, run({ "help" })))
  end)

  it("describes a group: each command with method, path and token kinds", function()
    local code, out, err = run({ "analytics", "--help" })
    assert.equal(0, code)
    assert.equal("", err)
    assert.matches("alephant analytics: 11 commands", out, 1, true)
    assert.matches("\nusage +GET +/api/v1/analytics/usage +JWT, PAT +Daily usage series", out)
    assert.matches("\nlive%-24h +GET +/api/v1/analytics/live%-24h", out)
    -- underscores or dashes, as the user likes
    assert.equal(out, select(2, run({ "analytics", "-h" })))
    local _, vk = run({ "virtual_keys", "--help" })
    assert.equal(vk, select(2, run({ "virtual-keys", "--help" })))
    assert.matches("\nrevoke +POST +/api/v1/virtual%-keys/{id}/revoke", vk)
  end)

  it("describes a command: path, tokens, each parameter with its type, limits and constraints", function()
    local code, out = run({ "analytics", "usage", "--help" })
    assert.equal(0, code)
    assert.matches("GET /api/v1/analytics/usage", out, 1, true)
    assert.matches("tokens: JWT, PAT; X-Workspace-Id: required; catalog name: analytics.usage", out, 1, true)
    assert.matches("%-%-from DATE +date YYYY%-MM%-DD %(UTC%); query dateFrom", out)
    assert.matches("%-%-agent%-id UUID +UUID; query agentId; not with %-%-member%-id, %-%-department%-id", out)
    local _, pats = run({ "pats", "create", "--help" })
    assert.matches("%-%-name TEXT +required text; 1%.%.100 characters; body name", pats)
    assert.matches("%-%-scopes VALUE +required list %(repeat the flag or separate with commas%); "
      .. "one of read, write, admin", pats)
    assert.matches("tokens: JWT;", pats, 1, true)
    local _, logs = run({ "collector", "logs", "--help" })
    assert.matches("%-%-limit N +integer; 1%.%.200; query limit", logs)
    assert.matches("%-%-all +every page %(limit/offset%)", logs)
    assert.matches("X-Workspace-Id: required (resolved through cockpit.scope for a virtual key)", logs, 1, true)
    local _, member = run({ "analytics", "member", "--help" })
    assert.matches("%-%-days N +integer; one of 1, 7, 30; query days", member)
    assert.matches("%-%-member%-id UUID +required UUID; path memberId", member)
    local _, chat = run({ "gateway", "chat", "-h" })
    assert.matches("%-%-body JSON", chat)
    assert.equal(out, select(2, run({ "help", "analytics", "usage" })))
    assert.equal(out, select(2, run({ "--help", "analytics", "usage", "--from", "2026-01-01" })))
  end)

  it("describes the reports", function()
    local code, out = run({ "report", "--help" })
    assert.equal(0, code)
    assert.matches("idle%-keys +Active virtual keys", out)
    local _, costs = run({ "report", "costs", "--help" })
    assert.matches("%-%-period VALUE +enum; one of 24h, 7d, 30d, billing_cycle", costs)
    assert.matches("%-%-top N +integer; 1%.%.100", costs)
    local _, budgets = run({ "report", "budgets", "--help" })
    assert.matches("%-%-threshold NUMBER +number; fraction of the budget: 0%.8 or 80%% %(default 0%.8%)", budgets)
  end)

  it("prints the version", function()
    local code, out = run({ "--version" })
    assert.equal(0, code)
    assert.equal("alephant-lua " .. alephant._VERSION .. "\n", out)
  end)
end)

describe("alephant usage errors (exit 2, one line on stderr, nothing on stdout)", function()
  local cases = {
    { {}, "no command; see alephant %-%-help" },
    { { "analytic", "usage" }, "unknown command 'analytic' %(did you mean 'analytics'%?%)" },
    { { "analytics" }, "alephant analytics needs a command" },
    { { "analytics", "usages" }, "alephant analytics has no command 'usages' %(did you mean 'usage'%?%)" },
    { { "analytics", "usage", "--agentid", "x" },
      "alephant analytics usage has no option %-%-agentid %(did you mean '%-%-agent%-id'%?%)" },
    { { "--from", "2026-01-01" }, "alephant has no option %-%-from" },
    { { "analytics", "usage", "--from" }, "%-%-from needs a value DATE" },
    { { "analytics", "usage", "--from", "--to", "2026-01-01" }, "%-%-from needs a value" },
    { { "virtual-keys", "list", "--page-size", "abc" }, "%-%-page%-size: expected an integer, got 'abc'" },
    { { "virtual-keys", "list", "--page-size", "2.5" }, "%-%-page%-size: expected an integer, got '2%.5'" },
    { { "virtual-keys", "create", "--budget", "lots" }, "%-%-budget: expected a number, got 'lots'" },
    { { "virtual-keys", "list", "--all=maybe" }, "%-%-all: expected true or false, got 'maybe'" },
    { { "policies", "set-budget-control", "--config", "{oops" }, "%-%-config: expected JSON" },
    { { "policies", "set-budget-control", "--config", "42" }, "%-%-config: expected JSON %(an object or array%)" },
    { { "analytics", "usage", "--from", "2026-01-01", "--from", "2026-01-02" }, "%-%-from given twice" },
    { { "analytics", "usage", "extra" }, "unexpected argument 'extra'" },
    { { "analytics", "usage", "--from", "2026-01-01", "extra" }, "unexpected argument 'extra'" },
    { { "--format", "yaml", "analytics", "overview" }, "%-%-format must be table, json or csv, got 'yaml'" },
    { { "--format" }, "%-%-format needs a value" },
    { { "-x" }, "unknown option %-x" },
    { { "report" }, "which report%? costs, budgets, idle%-keys, dashboard, anomalies" },
    { { "report", "cost" }, "unknown report 'cost' %(did you mean 'costs'%?%)" },
    { { "report", "budgets", "--threshold", "much" }, "%-%-threshold: expected a number, got 'much'" },
    { { "virtual-keys", "list", "--max-items", "3" }, "%-%-max%-items goes with %-%-all" },
    -- the client's duration rule (config.duration_problem), before a client is made
    { { "--timeout", "soon", "analytics", "overview" },
      "%-%-timeout must be a positive number of seconds, at most 2147483, got 'soon'\n$" },
    { { "--timeout", "0", "analytics", "overview" },
      "%-%-timeout must be a positive number of seconds, at most 2147483, got 0\n$" },
    { { "--timeout", "1e9", "analytics", "overview" },
      "%-%-timeout must be a positive number of seconds, at most 2147483, got 1000000000\n$" },
    { { "--timeout", "-5", "analytics", "overview" },
      "%-%-timeout must be a positive number of seconds, at most 2147483, got %-5\n$" },
    { { "endpoints", "more" }, "unexpected argument 'more' after alephant endpoints" },
  }
  for _, c in ipairs(cases) do
    it(table.concat(c[1], " "), function()
      local code, out, err, sent = run(c[1], PAT_ENV)
      assert.equal(2, code)
      assert.equal("", out)
      one_line(err)
      assert.matches("^alephant usage error: ", err)
      assert.matches(c[2], err)
      assert.equal(0, #sent)
    end)
  end

  it("refuses --token in both forms and never echoes its value", function()
    for _, argv in ipairs({ { "--token", VK, "cockpit", "scope" }, { "cockpit", "scope", "--token=" .. VK } }) do
      local code, out, err, sent = run(argv)
      assert.equal(2, code)
      assert.equal("", out)
      one_line(err)
      assert.matches("%-%-token is not accepted: tokens are never taken on the command line", err)
      assert.matches("ALEPHANT_TOKEN", err, 1, true)
      assert.matches("%-%-token%-file PATH", err)
      assert.is_nil(err:find(VK, 1, true))
      assert.equal(0, #sent)
    end
  end)
end)

describe("alephant parsing", function()
  it("converts flags to the catalog's types, in either --name value or --name=value form", function()
    local p = assert(cli.parse({ "virtual-keys", "list", "--page-size=50", "--page", "2", "--status", "active" }))
    assert.equal("virtual_keys.list", p.command.endpoint.name)
    assert.equal(50, p.params.page_size)
    assert.equal(2, p.params.page)
    local math_type = rawget(math, "type")
    if math_type then assert.equal("integer", math_type(p.params.page_size)) end
    assert.equal("active", p.params.status)
    p = assert(cli.parse({ "virtual-keys", "create", "--label", "x", "--budget", "12.5", "--rate-limit-rpm", "60" }))
    assert.equal(12.5, p.params.budget)
    assert.equal(60, p.params.rate_limit_rpm)
  end)

  it("collects enum lists from repeated flags and commas, and decodes JSON parameters", function()
    local p = assert(cli.parse({ "pats", "create", "--name", "ci", "--scopes", "read", "--scopes", "write,admin" }))
    assert.same({ "read", "write", "admin" }, p.params.scopes)
    assert.equal("[\"read\",\"write\",\"admin\"]", alephant.core.json_encode(p.params.scopes))
    p = assert(cli.parse({ "policies", "set-budget-control", "--config", '{"amount":500,"thresholds":[50,90]}' }))
    assert.equal(500, p.params.config.amount)
    assert.same({ 50, 90 }, p.params.config.thresholds)
    p = assert(cli.parse({ "gateway", "embeddings", "--model", "m", "--input", '["a","b"]' }))
    assert.same({ "a", "b" }, p.params.input)
    p = assert(cli.parse({ "gateway", "embeddings", "--model", "m", "--input", "plain text" }))
    assert.equal("plain text", p.params.input)
  end)

  it("takes global options anywhere and keeps paging flags apart from parameters", function()
    local p = assert(cli.parse({ "--format", "json", "collector", "logs", "--limit", "5", "--all", "--max-items=7",
      "--compact", "--workspace-id", WS }))
    assert.equal("json", p.global.format)
    assert.is_true(p.global.compact)
    assert.equal(WS, p.global["workspace-id"])
    assert.same({ limit = 5 }, p.params)
    assert.same({ all = true, max_items = 7 }, p.cli)
  end)

  it("reads report options: a threshold as a fraction or a percentage", function()
    assert.equal(0.8, assert(cli.parse({ "report", "budgets", "--threshold", "80%" })).params.threshold)
    assert.equal(0.5, assert(cli.parse({ "report", "budgets", "--threshold=0.5" })).params.threshold)
    local p = assert(cli.parse({ "report", "costs", "--days", "7", "--top", "3" }))
    assert.same({ days = 7, top = 3 }, p.params)
  end)
end)

describe("alephant checks before any request", function()
  it("exits 2 for a validation error, with the SDK's one-line message", function()
    local code, out, err, sent = run({ "analytics", "usage", "--from", "2026-02-30", "--to", "2026-03-01" }, PAT_ENV)
    assert.equal(2, code)
    assert.equal("", out)
    one_line(err)
    assert.equal("alephant validation error: --from: 2026-02-30 does not exist (month 02 has 28 days)\n", err)
    assert.equal(0, #sent)
  end)

  it("exits 2 for a token kind the route does not accept", function()
    local code, _, err, sent = run({ "pats", "list" }, PAT_ENV)
    assert.equal(2, code)
    assert.matches("^alephant auth error: alephant pats list accepts only a JWT", err)
    assert.equal(0, #sent)
  end)

  it("exits 2 for configuration errors: no token, a PAT without a workspace, a bad URL", function()
    local code, _, err = run({ "analytics", "overview" }, {})
    assert.equal(2, code)
    assert.matches("^alephant config error: no token", err)
    code, _, err = run({ "analytics", "overview" }, { ALEPHANT_TOKEN = PAT })
    assert.equal(2, code)
    assert.matches("workspace", err)
    code, _, err = run({ "--base-url", "ftp://example.com", "analytics", "overview" }, PAT_ENV)
    assert.equal(2, code)
    assert.matches("--base-url (or ALEPHANT_API_BASE_URL) must use http:// or https://, got ftp://example.com", err,
      1, true)
  end)

  it("exits 3 when the request was sent and failed", function()
    local code, out, err, sent = run({ "analytics", "overview" }, PAT_ENV)
    assert.equal(3, code)
    assert.equal("", out)
    one_line(err)
    assert.matches("^alephant network error: no network in this spec", err)
    assert.equal(1, #sent)
  end)

  it("reads the token from --token-file and never prints it", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write("  ", VK, "  \nsecond line ignored\n")
    f:close()
    local code, _, err, sent = run({ "--token-file", path, "cockpit", "budget-status", "--period", "90d" })
    assert.equal(2, code) -- the period is refused before any request, so the token was accepted
    assert.matches("^alephant validation error: %-%-period must be one of", err)
    assert.equal(0, #sent)
    code, _, err, sent = run({ "--token-file", path, "cockpit", "scope" })
    assert.equal(3, code)
    assert.equal("Bearer " .. VK, sent[1].headers.Authorization)
    assert.is_nil(err:find(VK, 1, true))
    f = assert(io.open(path, "w"))
    f:write("sk-not-an-alephant-token-0123456789\n")
    f:close()
    code, _, err = run({ "--token-file", path, "cockpit", "scope" })
    assert.equal(2, code)
    assert.matches("^alephant config error: token is not recognised", err)
    assert.is_nil(err:find("sk-not-an-alephant-token-0123456789", 1, true))
    f = assert(io.open(path, "w"))
    f:write("\n")
    f:close()
    code, _, err = run({ "--token-file", path, "cockpit", "scope" })
    assert.equal(2, code)
    assert.matches("is empty", err)
    os.remove(path)
    code, _, err = run({ "--token-file", path, "cockpit", "scope" })
    assert.equal(2, code)
    assert.matches("^alephant usage error: cannot read %-%-token%-file", err)
  end)

  it("takes explicit flags over the environment", function()
    local _, _, _, sent = run({ "--base-url", "http://127.0.0.1:9", "--workspace-id", WS, "analytics", "overview" },
      { ALEPHANT_TOKEN = PAT, ALEPHANT_API_BASE_URL = "http://127.0.0.1:8", ALEPHANT_WORKSPACE_ID = "x" })
    assert.equal("http://127.0.0.1:9/api/v1/analytics/overview", sent[1].url)
    assert.equal(WS, sent[1].headers["X-Workspace-Id"])
  end)

  it("reports an internal error as exit 1 with one line", function()
    local err = {}
    function err:write(...) for i = 1, select("#", ...) do self[#self + 1] = select(i, ...) end end
    local code = cli.main({ "analytics", "overview" }, { stdout = err, stderr = err, stderr_tty = false,
      getenv = function() return nil end, new = function() error("boom\nsecond line") end })
    assert.equal(1, code)
    local text = table.concat(err)
    one_line(text)
    assert.matches("^alephant internal error: .*boom$", text:sub(1, -2))
  end)
end)

describe("alephant slips", function()
  it("a mistyped command followed by flags reports the command, not the flags", function()
    for _, case in ipairs({
      { { "analytics", "usgae", "--from", "2026-11-01", "--to", "2026-11-02" },
        "alephant usage error: alephant analytics has no command 'usgae' (did you mean 'usage'?); "
          .. "see alephant analytics --help\n" },
      { { "analytcs", "usage", "--from", "2026-11-01" },
        "alephant usage error: unknown command 'analytcs' (did you mean 'analytics'?); see alephant --help\n" },
      { { "report", "cost", "--days", "7" },
        "alephant usage error: unknown report 'cost' (did you mean 'costs'?); see alephant report --help\n" },
      { { "--format", "json", "virtual-key", "list", "--page", "2" },
        "alephant usage error: unknown command 'virtual-key' (did you mean 'virtual-keys'?); see alephant --help\n" },
    }) do
      local code, out, err, sent = run(case[1], PAT_ENV)
      assert.equal(2, code)
      assert.equal("", out)
      assert.equal(case[2], err)
      assert.equal(0, #sent)
    end
  end)

  it("messages name the command line's flags, not the library's options", function()
    local cases = {
      { { "analytics", "overview" }, {},
        "alephant config error: no token: set ALEPHANT_TOKEN, ALEPHANT_PAT or ALEPHANT_VIRTUAL_KEY, or use "
          .. "--token-file PATH\n" },
      { { "analytics", "overview" }, { ALEPHANT_TOKEN = PAT },
        "alephant config error: a personal access token is bound to one workspace: use --workspace-id UUID "
          .. "(or set ALEPHANT_WORKSPACE_ID)\n" },
      { { "--workspace-id", "nope", "analytics", "overview" }, { ALEPHANT_TOKEN = PAT },
        "alephant config error: --workspace-id (or ALEPHANT_WORKSPACE_ID) must be a UUID such as "
          .. "123e4567-e89b-12d3-a456-426614174000, got \"nope\"\n" },
      { { "--base-url", "http://example.com", "cockpit", "scope" }, { ALEPHANT_TOKEN = VK },
        "alephant config error: --base-url (or ALEPHANT_API_BASE_URL) uses plain http:// to example.com: the token "
          .. "would travel in clear; use https://\n" },
      { { "analytics", "usage", "--from", "2026-11-01" }, PAT_ENV,
        "alephant validation error: --to is required when --from is given: pass both or neither\n" },
      { { "agents", "list", "--page-size", "0" }, PAT_ENV,
        "alephant validation error: --page-size must be between 1 and 200, got 0\n" },
      { { "report", "costs", "--days", "3", "--from", "2026-11-01", "--to", "2026-11-02" }, PAT_ENV,
        "alephant validation error: report costs takes one window: --from/--to, --days or --period\n" },
      { { "report", "costs", "--days", "3" }, { ALEPHANT_TOKEN = VK },
        "alephant validation error: report costs with a virtual key takes a period (24h, 7d, 30d, billing_cycle), "
          .. "not --from/--to or --days: the Cockpit API has no date windows\n" },
      { { "report", "budgets", "--period", "7d" }, PAT_ENV,
        "alephant validation error: --period applies to a virtual key's budgets only; workspace budgets use the "
          .. "current billing period\n" },
      { { "analytics", "usage", "--from", "2026-11-01", "--to", "2026-11-02" }, { ALEPHANT_TOKEN = VK },
        "alephant auth error: alephant analytics usage accepts only a JWT or a personal access token (pat_...); this "
          .. "client has a virtual key (vk-...); a virtual key reads the same data with 'alephant collector usage'\n" },
    }
    for _, case in ipairs(cases) do
      local code, _, err, sent = run(case[1], case[2])
      assert.equal(2, code)
      assert.equal(case[3], err)
      assert.equal(0, #sent)
    end
  end)
end)

describe("alephant output from a hostile server", function()
  -- A transport that answers every request with `status` and the JSON `body`, echoing
  -- the request's Authorization into it where the body says "$AUTH".
  local function run_with(argv, env, status, body)
    return command.run(argv, env, {
      new = function(opts)
        opts.transport = { request = function(_, req)
          return { status = status, headers = { ["content-type"] = "application/json",
            ["x-echo"] = req.headers.Authorization }, body = body:gsub("%$AUTH", req.headers.Authorization) }
        end }
        opts.max_retries = 0
        return alephant.new(opts)
      end,
    })
  end

  local function no_controls(s)
    assert.is_nil(s:find("[%z\1-\9\11-\31\127]"), "a control character in: " .. s)
    assert.is_nil(s:find("\194[\128-\159]"), "a C1 control in: " .. s)
  end

  it("never shows the token it echoes, on stderr or stdout", function()
    local code, out, err = run_with({ "cockpit", "scope" }, { ALEPHANT_TOKEN = VK }, 401,
      '{"code":40100,"message":"bad credentials $AUTH","data":null}')
    assert.equal(3, code)
    assert.equal("", out)
    assert.is_nil(err:find(VK, 1, true))
    assert.matches("bad credentials Bearer vk-ag…3f8a", err, 1, true)
    for _, f in ipairs({ "table", "json", "csv" }) do
      code, out, err = run_with({ "--format", f, "agents", "list" }, PAT_ENV, 200,
        '{"code":0,"data":[{"id":"a1","name":"$AUTH"}]}')
      assert.equal(0, code, err)
      assert.is_nil(out:find(PAT, 1, true), f)
      assert.matches("pat_ws…abab", out, 1, true)
    end
  end)

  it("escapes OSC, ESC, BEL and C1 in table cells, names and stderr", function()
    local osc = "\\u001b]0;owned\\u0007\\u001b]52;c;ZXZpbA==\\u0007\\u009b2J"
    local code, out, err = run_with({ "agents", "list" }, PAT_ENV, 200,
      '{"code":0,"data":[{"id":"a1","name":"' .. osc .. '","x\\u001b[1m":"\\u0085"}]}')
    assert.equal(0, code, err)
    no_controls(out)
    assert.matches("\\x1B]0;owned\\x07\\x1B]52;c;ZXZpbA==", out, 1, true) -- then cut at 40 characters
    assert.matches("x\\x1B[1m", out, 1, true)
    code, out, err = run_with({ "cockpit", "scope" }, { ALEPHANT_TOKEN = VK }, 500,
      '{"message":"down ' .. osc .. '"}')
    assert.equal(3, code)
    assert.equal("", out)
    no_controls(err)
    assert.matches("down \\x1B]0;owned\\x07", err, 1, true)
    -- JSON stays valid JSON: C0 by the encoder, C1 and DEL as \u escapes
    code, out = run_with({ "--format", "json", "agents", "list" }, PAT_ENV, 200,
      '{"code":0,"data":[{"id":"a1","name":"' .. osc .. '\\u007f"}]}')
    assert.equal(0, code)
    no_controls(out)
    assert.same({ { id = "a1", name = "\27]0;owned\7\27]52;c;ZXZpbA==\7\194\1552J\127" } },
      alephant.core.json_decode(out))
    -- the report text too
    code, out = run_with({ "report", "idle-keys" }, PAT_ENV, 200, '{"code":0,"data":[{"id":"vk1","label":"'
      .. osc .. '","status":"active","createdAt":"2020-01-01T00:00:00Z"}],"pagination":{"page":1,"pageSize":200,'
      .. '"total":1}}')
    assert.equal(0, code)
    no_controls(out)
    assert.matches("\n\\x1B]0;owned\\x07", out, 1, true)
  end)

  it("escapes control characters in a mistyped command it repeats", function()
    local code, _, err = run({ "analytics\27]0;x\7", "--from", "1" }, PAT_ENV)
    assert.equal(2, code)
    no_controls(err)
    assert.matches("unknown command 'analytics\\x1B]0;x\\x07'", err, 1, true)
  end)
end)
