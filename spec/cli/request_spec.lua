-- `alephant request` in this process against the emulator: query and body flags, the
-- family's refusals before sending, exit statuses, output formats.
local alephant = require "alephant"
local emulator = require "spec.support.emulator"
local command = require "spec.support.cli"

describe("alephant request #integration", function()
  local emu = emulator.session()

  local function run(token_name, argv, stdin)
    return command.run(argv, command.env(emu, token_name), { stdin = command.buffer(stdin) })
  end

  it("sends repeated --query flags under their wire names and prints the unwrapped data", function()
    local code, out, err = run("pat_read", { "request", "GET", "/api/v1/agents", "--query", "page=1",
      "--query", "pageSize=2", "--format", "json" })
    assert.equal(0, code, err)
    local r = emu:requests("/api/v1/agents")[1]
    assert.equal("1", r.args.page)
    assert.equal("2", r.args.pageSize)
    assert.equal(2, #alephant.core.json_decode(out))
  end)

  it("reads --body from a file and from stdin", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write('{"name": "from-file", "about": "a raw body"}')
    f:close()
    local code, out, err = run("pat_write", { "request", "POST", "/api/v1/agents", "--body", "@" .. path,
      "--format", "json" })
    os.remove(path)
    assert.equal(0, code, err)
    assert.equal("from-file", alephant.core.json_decode(out).name)
    code, out, err = run("pat_write", { "request", "post", "/api/v1/agents", "--body", "@-", "--field", "name" },
      '{"name": "from-stdin"}')
    assert.equal(0, code, err)
    assert.matches("from%-stdin", out)
    local sent = emu:requests({ path = "/api/v1/agents", method = "POST" })
    assert.equal(2, #sent)
    assert.matches('"about":"a raw body"', sent[1].body)
  end)

  it("prints the status of an empty answer (gateway /health)", function()
    local code, out, err = run("vk_agent", { "request", "GET", "/health", "--format", "json", "--compact" })
    assert.equal(0, code, err)
    assert.equal('{"status":200}\n', out)
  end)

  it("exits 2 and sends nothing on refusals before sending", function()
    for _, argv in ipairs({
      { "request", "GET", "/api/v1/pats" },                          -- a PAT on a JWT-only route
      { "request", "GET", "/api/v1/../pats" },                       -- a path that leaves its route
      { "request", "GET", "/api/v1/analytics/costs", "--query", "dateFrom=2026-11-01" },
      { "request", "GET", "/api/v1/agents", "--query", "page" },     -- not NAME=VALUE
      { "request", "POST", "/api/v1/agents", "--body", "{nope" },
      { "request", "GET", "/api/v1/agents", "--api", "other" },
      { "request", "GET" },
    }) do
      local code, _, err = run("pat_read", argv)
      assert.equal(2, code, table.concat(argv, " ") .. ": " .. err)
      assert.matches("^alephant ", err)
    end
    assert.equal(0, #emu:requests())
  end)

  it("exits 3 on an API error", function()
    local code, _, err = run("pat_read", { "request", "GET", "/api/v1/nowhere" })
    assert.equal(3, code)
    assert.matches("404", err)
  end)

  it("has help, listed in the main help", function()
    local code, out = run("pat_read", { "request", "--help" })
    assert.equal(0, code)
    assert.matches("^alephant request METHOD PATH", out)
    local _, main = run("pat_read", { "--help" })
    assert.matches("alephant request METHOD PATH", main)
  end)
end)
