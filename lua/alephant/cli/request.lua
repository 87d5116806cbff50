--- `alephant request METHOD PATH [--query name=value ...] [--body @file.json | JSON] [--api API]`:
-- a raw request (`client:request`, see `alephant.request`) from the command line.
-- `--query` may be repeated; a name given twice is sent twice, in order. `--body` takes
-- JSON text, `@PATH` (a file holding JSON) or `@-` (JSON on standard input). The answer
-- is printed like any command's (`--format table|json|csv`, `--field`).
-- @module alephant.cli.request
local core = require "alephant.core"

local M = {}

--- The command's options, in the CLI's parameter vocabulary (`multi`: may repeat).
M.params = {
  { name = "query", type = "string", cli = true, multi = true, help = "NAME=VALUE, sent as given (repeatable)" },
  { name = "body", type = "string", cli = true, help = "JSON text, @FILE or @- (stdin)" },
  { name = "api", type = "enum", values = { "saas", "analytics", "gateway" }, cli = true,
    help = "default from the path: /api/... saas, /v1/analytics/... analytics, else gateway" },
}

--- The command's help text.
function M.help()
  return table.concat({
    "alephant request METHOD PATH [--query NAME=VALUE ...] [--body JSON|@FILE|@-] [--api saas|analytics|gateway]",
    "",
    "Sends a request the catalog does not describe, with the rules of its route family: the token",
    "kinds the route accepts, X-Workspace-Id (a virtual key resolves it through cockpit.scope),",
    "the family's envelope, retries for GET only, path and header checks, and on",
    "/api/v1/analytics/* the dateFrom/dateTo rules. Query names are the wire names (pageSize,",
    "dateFrom), not the catalog's Lua names. Gateway paths are relative to the gateway URL",
    "(/chat/completions); /health and /x402/... go to its origin.",
    "",
    "Options:",
    "  --query NAME=VALUE  " .. M.params[1].help,
    "  --body BODY         " .. M.params[2].help,
    "  --api API           " .. M.params[3].help,
    "",
    "Examples:",
    "  alephant request GET /api/v1/agents --query page=1 --query pageSize=5",
    "  alephant request POST /api/v1/agents --body @agent.json",
    "  alephant request GET /health",
  }, "\n")
end

local function read_body(text, stdin)
  local source, raw = "--body", text
  if text == "@-" then
    source, raw = "--body @- (stdin)", stdin:read("*a")
  elseif text:sub(1, 1) == "@" then
    local f, oerr = io.open(text:sub(2), "rb")
    if not f then return nil, ("--body: cannot read %s: %s"):format(text:sub(2), tostring(oerr)) end
    raw = f:read("*a")
    f:close()
    source = "--body " .. text
  end
  local v, err = core.json_decode(raw or "")
  if v == nil then
    return nil, ("%s: expected JSON (%s)"):format(source, err and err.message or "empty")
  end
  return v
end

--- Turns the parsed command line into `client:request` arguments.
-- @tparam table parsed `cli.parse`'s result (`words = {"request", METHOD, PATH}`, `cli`)
-- @tparam[opt] file stdin where `--body @-` reads
-- @return method, path, opts; or nil, message (a usage error)
function M.arguments(parsed, stdin)
  local words, o = parsed.words, parsed.cli
  local method, path = words[2], words[3]
  if not method or not path then return nil, "alephant request needs METHOD and PATH; see alephant request --help" end
  if words[4] then return nil, ("unexpected argument '%s' after the path"):format(words[4]) end
  local apis = M.params[3].values
  if o.api and o.api ~= apis[1] and o.api ~= apis[2] and o.api ~= apis[3] then
    return nil, ("--api must be saas, analytics or gateway, got '%s'"):format(o.api)
  end
  local opts = { api = o.api }
  if o.query then
    opts.query = {}
    for _, item in ipairs(o.query) do
      local k, v = item:match("^([^=]+)=(.*)$")
      if not k then return nil, ("--query: expected NAME=VALUE, got '%s'"):format(item) end
      local prev = opts.query[k]
      if prev == nil then
        opts.query[k] = v
      elseif type(prev) == "table" then
        prev[#prev + 1] = v
      else
        opts.query[k] = { prev, v }
      end
    end
  end
  if o.body then
    local body, err = read_body(o.body, stdin or io.stdin)
    if body == nil then return nil, err end
    opts.body = body
  end
  return method:upper(), path, opts
end

return M
