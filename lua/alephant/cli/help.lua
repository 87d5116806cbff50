--- Help text for the `alephant` command line, generated from the catalog (groups,
-- commands, parameters with their types, limits and constraints) and from the reports'
-- own option declarations (`alephant.reports.options`, through `alephant.cli.report_args`).
-- @module alephant.cli.help
local core = require "alephant.core"
local format = require "alephant.cli.format"
local args = require "alephant.cli.args"

local dash, param_arg = args.dash, args.param_arg
local groups, group_order = args.groups, args.group_order
local REPORTS, REPORT_ORDER = args.REPORTS, args.REPORT_ORDER
local GLOBAL, GLOBAL_ORDER, TOKEN_NOTE = args.GLOBAL, args.GLOBAL_ORDER, args.TOKEN_NOTE

local help = {}

local function kinds_text(kinds)
  local names = { jwt = "JWT", pat = "PAT", virtual_key = "virtual key" }
  local out = {}
  for _, k in ipairs(kinds or {}) do out[#out + 1] = names[k] or k end
  return #out > 0 and table.concat(out, ", ") or "none"
end

local function num_text(v)
  if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%d", v) end
  return tostring(v)
end

local TYPE_WORDS = { date = "date YYYY-MM-DD (UTC)", datetime = "datetime, ISO 8601 with a zone", uuid = "UUID",
  id = "id", integer = "integer", number = "number", boolean = "flag (--name or --name=false)", enum = "enum",
  enum_list = "list (repeat the flag or separate with commas)", table = "JSON object or array",
  any = "text, or JSON when it starts with [ { or \"", string = "text",
  string_list = "list (repeat the flag or separate with commas)", enum_csv = "comma list of values" }

-- What a parameter accepts, in words: type, limits, where it goes, constraints.
local function param_help(p, params)
  local parts = {}
  local t = p.type
  parts[#parts + 1] = (p.required and "required " or "") .. (TYPE_WORDS[t] or t)
  if p.values then
    local v = {}
    for i, x in ipairs(p.values) do v[i] = type(x) == "number" and num_text(x) or x end
    parts[#parts + 1] = "one of " .. table.concat(v, ", ")
  elseif p.min or p.max then
    local unit = t == "string" and " characters" or t == "string_list" and " characters each" or ""
    if p.max then parts[#parts + 1] = num_text(p.min or 0) .. ".." .. num_text(p.max) .. unit
    else parts[#parts + 1] = ">= " .. num_text(p.min) .. unit end
  end
  if p.wire then
    parts[#parts + 1] = (p["in"] == "body" and "body " or p["in"] == "path" and "path " or "query ") .. p.wire
  end
  if p.group then
    local others = {}
    for _, q in ipairs(params) do
      if q.group == p.group and q.name ~= p.name then others[#others + 1] = "--" .. dash(q.name) end
    end
    if #others > 0 then parts[#parts + 1] = "not with " .. table.concat(others, ", ") end
  end
  if p.requires then parts[#parts + 1] = "needs --" .. dash(p.requires) end
  if p.nullable then parts[#parts + 1] = "null: sent as JSON null" end
  if p.help then parts[#parts + 1] = p.help end
  return table.concat(parts, "; ")
end

-- ------------------------------------------------------------------ help ----
local function option_lines(list)
  local w = 0
  for _, o in ipairs(list) do w = math.max(w, #o[1]) end
  local out = {}
  for _, o in ipairs(list) do out[#out + 1] = "  " .. format.pad(o[1], w) .. "  " .. o[2] end
  return out
end

local function global_lines()
  local list = {}
  for _, name in ipairs(GLOBAL_ORDER) do
    local g = GLOBAL[name]
    list[#list + 1] = { "--" .. name .. (g.arg and (" " .. g.arg) or ""),
      g.help .. (g.env and (" (" .. g.env .. ")") or "") }
  end
  return option_lines(list)
end

local function main_help()
  local lines = {
    "alephant: the Alephant APIs from the command line (alephant-lua " .. core.version .. ")",
    "",
    "Usage:",
    "  alephant [options] <group> <command> [--param value ...]",
    "  alephant [options] report <name> [...]   " .. table.concat(args.REPORT_ORDER, ", "),
    "  alephant endpoints                 every endpoint: method, path, tokens",
    "  alephant request METHOD PATH       any route, with its family's rules (alephant request --help)",
    "  alephant <group> --help            the commands of a group",
    "  alephant <group> <command> --help  a command's parameters",
    "",
    "Groups and commands (flags are the Lua parameter names with - for _: --agent-id):",
  }
  local w = 0
  for _, g in ipairs(group_order) do w = math.max(w, #dash(g)) end
  for _, g in ipairs(group_order) do
    local names = {}
    for i, n in ipairs(groups[g].names) do names[i] = dash(n) end
    lines[#lines + 1] = "  " .. format.pad(dash(g), w) .. "  " .. table.concat(names, " ")
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Reports:"
  for _, r in ipairs(REPORT_ORDER) do
    lines[#lines + 1] = "  report " .. format.pad(r, 9) .. "  " .. REPORTS[r].summary
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Options (anywhere on the line; environment fallback in parentheses):"
  for _, l in ipairs(global_lines()) do lines[#lines + 1] = l end
  lines[#lines + 1] = ""
  lines[#lines + 1] = TOKEN_NOTE
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Exit status: 0 ok; 2 usage or invalid input (nothing was sent); 3 API or network error;"
  lines[#lines + 1] = "1 internal error. Errors are one line on stderr."
  return table.concat(lines, "\n")
end

local function group_help(g)
  local rows = {}
  for _, n in ipairs(groups[g].names) do
    local e = groups[g].by_name[n]
    rows[#rows + 1] = { command = dash(n), method = e.method, path = e.path, tokens = kinds_text(e.kinds),
      summary = e.summary }
  end
  return ("alephant %s: %d commands (alephant %s <command> --help for one)\n\n"):format(dash(g), #rows, dash(g))
    .. format.table(rows, { columns = { "command", "method", "path", "tokens", "summary" }, max_cell = 200 })
end

-- Whether the route needs X-Workspace-Id, and where it comes from.
local function workspace_text(e)
  if e.workspace == "unless_virtual_key" then return "for a JWT or PAT" end
  if e.workspace ~= "required" then return e.workspace end
  for _, k in ipairs(e.kinds) do
    if k == "virtual_key" then return "required (resolved through cockpit.scope for a virtual key)" end
  end
  return "required"
end

local API_NAMES = { saas = "SaaS API", analytics = "Analytics API", gateway = "AI gateway" }

local function command_help(e)
  local g, n = e.name:match("^([^.]+)%.(.+)$")
  local lines = {
    ("alephant %s %s: %s"):format(dash(g), dash(n), e.summary),
    "",
    ("  %s %s"):format(e.method, e.path),
    ("  %s; tokens: %s; X-Workspace-Id: %s; catalog name: %s"):format(API_NAMES[e.api] or e.api,
      kinds_text(e.kinds), workspace_text(e), e.name),
    "",
  }
  local list = {}
  for _, p in ipairs(e.params) do
    list[#list + 1] = { "--" .. dash(p.name) .. param_arg(p), param_help(p, e.params) }
  end
  if e.paging then
    list[#list + 1] = { "--all", "every page (" .. (e.paging == "page" and "page/page_size" or "limit/offset")
      .. "), progress on a terminal" }
    list[#list + 1] = { "--max-items N", "with --all: stop after N items" }
  end
  if e.open_body then list[#list + 1] = { "--body JSON", "more body fields (an object); flags win" } end
  if #list == 0 then
    lines[#lines + 1] = "No parameters."
  else
    lines[#lines + 1] = "Parameters:"
    for _, l in ipairs(option_lines(list)) do lines[#lines + 1] = l end
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Global options: alephant --help"
  return table.concat(lines, "\n")
end

local function report_help(r)
  local spec = REPORTS[r]
  local lines = { ("alephant report %s: %s"):format(r, spec.summary), "" }
  local list = {}
  for _, p in ipairs(spec.params) do
    list[#list + 1] = { "--" .. dash(p.name) .. param_arg(p), param_help(p, spec.params) }
  end
  lines[#lines + 1] = "Parameters:"
  for _, l in ipairs(option_lines(list)) do lines[#lines + 1] = l end
  lines[#lines + 1] = ""
  lines[#lines + 1] = spec.note
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Global options: alephant --help"
  return table.concat(lines, "\n")
end

local function reports_help()
  local lines = { "alephant report: answers in one command", "" }
  local list = {}
  for _, r in ipairs(REPORT_ORDER) do list[#list + 1] = { r, REPORTS[r].summary } end
  for _, l in ipairs(option_lines(list)) do lines[#lines + 1] = l end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "alephant report <name> --help for its parameters."
  return table.concat(lines, "\n")
end

help.main, help.group, help.command = main_help, group_help, command_help
help.report, help.reports = report_help, reports_help
help.kinds_text = kinds_text

return help
