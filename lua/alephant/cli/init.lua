--- The `alephant` command line: one subcommand per catalog entry, the reports, and
-- help generated from the catalog. `bin/alephant` calls `cli.main(arg)`; everything
-- here works without spawning a process (the specs pass their own streams and
-- environment through `ctx`).
--
--     alephant analytics usage --from 2026-11-01 --to 2026-11-27 --format csv --field series
--     alephant report costs --days 30
--
-- Exit status: 0 ok; 2 usage or invalid input, nothing was sent (unknown command or
-- flag, a bad value, a validation, configuration or token-kind error caught before any
-- request, or a result that cannot be CSV); 3 the API or the network failed; 1 an
-- internal error (a bug).
-- @module alephant.cli
local alephant = require "alephant"
local core = require "alephant.core"
local chart = require "alephant.cli.chart"
local format = require "alephant.cli.format"
local reports = require "alephant.reports"

local cli = {}

--- Exit statuses.
cli.EXIT = { ok = 0, internal = 1, usage = 2, api = 3 }

local function dash(s) return (s:gsub("_", "-")) end
local function undash(s) return (s:gsub("-", "_")) end

-- The catalog by group, both in catalog order.
local groups, group_order = {}, {}
for _, e in ipairs(core.endpoints()) do
  local g, name = e.name:match("^([^.]+)%.(.+)$")
  if not groups[g] then
    groups[g] = { names = {}, by_name = {} }
    group_order[#group_order + 1] = g
  end
  groups[g].names[#groups[g].names + 1] = name
  groups[g].by_name[name] = e
end

local PERIODS = { "24h", "7d", "30d", "billing_cycle" }

-- Reports as commands; their options use the catalog's parameter vocabulary.
local REPORTS = {
  costs = {
    summary = "Spend for a window vs the previous one; top agents, members, departments, models; daily chart",
    fn = reports.costs,
    params = {
      { name = "from", type = "date", help = "first day of the window" },
      { name = "to", type = "date", help = "last day of the window" },
      { name = "days", type = "integer", min = 1, max = 366, help = "the last N days, today included" },
      { name = "period", type = "enum", values = PERIODS, help = "default 30d; the only choice with a virtual key" },
      { name = "top", type = "integer", min = 1, max = 100, help = "rows per breakdown (default 5)" },
    },
    note = "With a PAT or JWT: analytics.costs, analytics.usage (this and the previous window), analytics.models.\n"
      .. "With a virtual key: the Cockpit routes for the key's own agent or member (period only).",
  },
  budgets = {
    summary = "Virtual keys and entities at or above a threshold of their budget",
    fn = reports.budgets,
    params = {
      { name = "threshold", type = "number", percent = true, help = "fraction of the budget: 0.8 (default) or 80%" },
      { name = "period", type = "enum", values = PERIODS, help = "virtual keys only: the Cockpit period of the spend" },
    },
    note = "With a PAT or JWT: every virtual key (lifetime spend, as the API reports it), members, agents and\n"
      .. "departments (current billing period) and the workspace. With a virtual key: the key and its entity.",
  },
  ["idle-keys"] = {
    summary = "Active virtual keys with no usage in the last N days",
    fn = reports.idle_keys,
    params = { { name = "days", type = "integer", min = 1, max = 3650, help = "default 30" } },
    note = "Needs a PAT or JWT. A key's lastUsedAt decides; without it, its agent or member's usage in the window.",
  },
}
local REPORT_ORDER = { "costs", "budgets", "idle-keys" }

-- Options valid anywhere on the line, in help order.
local GLOBAL_ORDER = { "format", "compact", "columns", "field", "token-file", "workspace-id", "base-url",
  "analytics-url", "gateway-url", "timeout", "cafile", "help", "version" }
local GLOBAL = {
  format = { arg = "FORMAT", help = "table (default), json or csv" },
  compact = { flag = true, help = "json on one line" },
  columns = { arg = "A,B,...", help = "table and csv: these columns, in this order" },
  field = { arg = "NAME", help = "format only this field of the result (a.b for nested), e.g. series" },
  ["token-file"] = { arg = "PATH", help = "read the token from this file (first line)" },
  ["workspace-id"] = { arg = "UUID", help = "workspace for a PAT or JWT", env = "ALEPHANT_WORKSPACE_ID" },
  ["base-url"] = { arg = "URL", help = "SaaS API", env = "ALEPHANT_API_BASE_URL" },
  ["analytics-url"] = { arg = "URL", help = "Analytics API", env = "ALEPHANT_ANALYTICS_BASE_URL" },
  ["gateway-url"] = { arg = "URL", help = "AI gateway", env = "ALEPHANT_GATEWAY_BASE_URL" },
  timeout = { arg = "SECONDS", help = "per attempt (default 30)" },
  cafile = { arg = "PATH", help = "CA bundle for TLS verification" },
  help = { flag = true, help = "help for the command line, a group or a command (also -h)" },
  version = { flag = true, help = "the version" },
}

local TOKEN_NOTE = "Tokens are never taken on the command line, where other users see them in ps: set ALEPHANT_TOKEN "
  .. "(or ALEPHANT_PAT, ALEPHANT_VIRTUAL_KEY) or use --token-file PATH."

-- --------------------------------------------------------------- helpers ----
local Usage = {}
Usage.__index = Usage
Usage.__tostring = function(u) return "alephant usage error: " .. u.message end
local function usage(fmt, ...)
  return setmetatable({ kind = "usage", message = select("#", ...) > 0 and fmt:format(...) or fmt }, Usage)
end

local function one_line(s)
  return (tostring(s):gsub("[\r\n]+", " "))
end

-- The closest candidate within edit distance 3, for "did you mean" hints.
local function closest(name, candidates)
  local best, best_d = nil, 4
  for _, cand in ipairs(candidates) do
    local a, b = name:lower(), cand
    local prev = {}
    for j = 0, #b do prev[j] = j end
    for i = 1, #a do
      local cur = { [0] = i }
      for j = 1, #b do
        cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a:sub(i, i) == b:sub(j, j) and 0 or 1))
      end
      prev = cur
    end
    if prev[#b] < best_d then best, best_d = cand, prev[#b] end
  end
  return best
end

local function hint(name, candidates, prefix)
  local c = closest(name, candidates)
  return c and (" (did you mean '" .. (prefix or "") .. c .. "'?)") or ""
end

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

-- ------------------------------------------------------------ parameters ----
local TYPE_ARG = { date = "DATE", datetime = "DATETIME", uuid = "UUID", id = "ID", integer = "N", number = "NUMBER",
  enum = "VALUE", enum_list = "VALUE", table = "JSON", any = "TEXT|JSON", string = "TEXT" }

local function param_arg(p)
  if p.type == "boolean" or p.flag then return "" end
  return " " .. (TYPE_ARG[p.type] or "VALUE")
end

local TYPE_WORDS = { date = "date YYYY-MM-DD (UTC)", datetime = "datetime, ISO 8601 with a zone", uuid = "UUID",
  id = "id", integer = "integer", number = "number", boolean = "flag (--name or --name=false)", enum = "enum",
  enum_list = "list (repeat the flag or separate with commas)", table = "JSON object or array",
  any = "text, or JSON when it starts with [ { or \"", string = "text" }

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
    local unit = t == "string" and " characters" or ""
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
  if p.help then parts[#parts + 1] = p.help end
  return table.concat(parts, "; ")
end

local function parse_bool(s)
  local v = s:lower()
  if v == "true" or v == "yes" or v == "1" or v == "on" then return true end
  if v == "false" or v == "no" or v == "0" or v == "off" then return false end
  return nil
end

-- Converts a flag's text to the parameter's Lua type; nil, usage error when it cannot.
local function convert(p, flag, text)
  local t = p.type
  if t == "integer" then
    if not text:match("^[+-]?%d+$") then return nil, usage("%s: expected an integer, got '%s'", flag, text) end
    return tonumber(text)
  elseif t == "number" then
    local s, pct = text, false
    if p.percent and s:sub(-1) == "%" then s, pct = s:sub(1, -2), true end
    local n = tonumber(s)
    if not n or n ~= n or n == math.huge or n == -math.huge then
      return nil, usage("%s: expected a number, got '%s'", flag, text)
    end
    return pct and n / 100 or n
  elseif t == "boolean" then
    local b = parse_bool(text)
    if b == nil then return nil, usage("%s: expected true or false, got '%s'", flag, text) end
    return b
  elseif t == "table" or (t == "any" and text:match("^%s*[%[{\"]")) then
    local v, err = core.json_decode(text)
    if v == nil or (t == "table" and type(v) ~= "table") then
      return nil, usage("%s: expected JSON%s (%s)", flag, t == "table" and " (an object or array)" or "",
        err and one_line(err.message or err) or "not a table")
    end
    return v
  end
  return text
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
    "  alephant [options] report costs|budgets|idle-keys [...]",
    "  alephant endpoints                 every endpoint: method, path, tokens",
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

-- ---------------------------------------------------------------- parsing ----
local TOP_WORDS = { "report", "endpoints", "help", "version" }

local function top_candidates()
  local c = {}
  for _, g in ipairs(group_order) do c[#c + 1] = dash(g) end
  for _, w in ipairs(TOP_WORDS) do c[#c + 1] = w end
  return c
end

-- The command the words name so far: { kind = "endpoint"|"report", params = {...} } or nil.
local function command_of(words)
  if words[1] == "report" and words[2] and REPORTS[words[2]] then
    return { kind = "report", name = words[2], params = REPORTS[words[2]].params }
  end
  local g = words[1] and groups[undash(words[1])]
  local e = g and words[2] and g.by_name[undash(words[2])]
  if e then
    local params = {}
    for i, p in ipairs(e.params) do params[i] = p end
    if e.paging then
      params[#params + 1] = { name = "all", type = "boolean", cli = true }
      params[#params + 1] = { name = "max_items", type = "integer", min = 1, cli = true }
    end
    if e.open_body then params[#params + 1] = { name = "body", type = "table", cli = true } end
    return { kind = "endpoint", endpoint = e, params = params }
  end
  return nil
end

local function find_param(params, name)
  local key = undash(name)
  for _, p in ipairs(params) do
    if p.name == key then return p end
  end
  return nil
end

local function flag_names(params)
  local names = {}
  for _, p in ipairs(params or {}) do names[#names + 1] = dash(p.name) end
  for _, g in ipairs(GLOBAL_ORDER) do names[#names + 1] = g end
  return names
end

--- Parses a command line (without the program name).
-- @tparam {string,...} argv the arguments
-- @treturn table `{words = {...}, global = {name = value}, params = {lua_name = value},
--   cli = {all, max_items, body}, command = {kind, endpoint|name, params}|nil}`
-- @return[2] nil
-- @return[2] table a usage error (`tostring` gives one line)
function cli.parse(argv)
  local words, global, params, extra, seen = {}, {}, {}, {}, {}
  local command
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "-h" then
      global.help = true
    elseif a:sub(1, 2) == "--" and #a > 2 then
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      name = name or a:sub(3)
      if name == "token" then return nil, usage("--token is not accepted: " .. TOKEN_NOTE:gsub("^T", "t")) end
      local g = GLOBAL[name]
      local function take()
        if value ~= nil then return value end
        local nxt = argv[i + 1]
        if nxt == nil or (nxt:sub(1, 2) == "--" and #nxt > 2) then return nil end
        i = i + 1
        return nxt
      end
      if g then
        if g.flag then
          local b = value == nil or parse_bool(value)
          if b == nil then return nil, usage("--%s: expected true or false, got '%s'", name, value) end
          global[name] = b
        else
          local v = take()
          if v == nil then return nil, usage("--%s needs a value (%s)", name, g.arg) end
          if global[name] ~= nil then return nil, usage("--%s given twice", name) end
          global[name] = v
        end
      else
        command = command or command_of(words)
        local p = command and find_param(command.params, name)
        if not p then
          local where = command and ("alephant " .. table.concat(words, " ")) or "alephant"
          return nil, usage("%s has no option --%s%s; see %s --help", where, name,
            hint(name, flag_names(command and command.params), "--"), where)
        end
        local flag = "--" .. dash(p.name)
        local v
        if p.type == "boolean" then
          v = value or "true"
        else
          v = take()
          if v == nil then return nil, usage("%s needs a value%s", flag, param_arg(p)) end
        end
        local converted, err = convert(p, flag, v)
        if converted == nil then return nil, err end
        local target = p.cli and extra or params
        if p.type == "enum_list" then
          local list = target[p.name] or alephant.array()
          for item in tostring(converted):gmatch("[^,]+") do list[#list + 1] = item end
          target[p.name] = list
        else
          if seen[p.name] then return nil, usage("%s given twice", flag) end
          target[p.name] = converted
        end
        seen[p.name] = true
      end
    elseif a:sub(1, 1) == "-" and #a > 1 and not tonumber(a) then
      return nil, usage("unknown option %s; options are --name or --name=value (see alephant --help)", a)
    else
      if command then return nil, usage("unexpected argument '%s' after the options of alephant %s", a,
        table.concat(words, " ")) end
      words[#words + 1] = a
    end
    i = i + 1
  end
  return { words = words, global = global, params = params, cli = extra, command = command or command_of(words) }
end

-- ----------------------------------------------------------------- output ----
local function money(v)
  if v == nil then return "-" end
  local s = string.format("%.2f", v)
  local int, frac = s:match("^(-?%d+)(%.%d+)$")
  int = int:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^(-?),", "%1")
  return "$" .. int .. frac
end

local function pct(v, signed)
  if v == nil then return "-" end
  return string.format(signed and "%+.1f%%" or "%.1f%%", v)
end

-- Selects a.b.c of data for --field.
local function select_field(data, path)
  local v = data
  for part in path:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    local n = tonumber(part)
    v = v[part] ~= nil and v[part] or (n and v[n])
  end
  return v
end

local function object_lists(data)
  local names = {}
  if type(data) == "table" then
    for k, v in pairs(data) do
      if type(k) == "string" and format.is_rows(v) then names[#names + 1] = k end
    end
  end
  table.sort(names)
  return names
end

local function emit(ctx, data, opts)
  local f = ctx.format
  if f == "json" then
    ctx.stdout:write(format.json(data, { compact = ctx.global.compact }), "\n")
  elseif f == "csv" then
    local text, why = format.csv(data, { columns = opts and opts.columns or ctx.columns })
    if not text then
      local lists = object_lists(data)
      local pick = #lists > 0 and ("pick a list with --field (" .. table.concat(lists, ", ") .. ") or ") or ""
      return usage("%s: %suse --format json or table", why, pick)
    end
    ctx.stdout:write(text)
  else
    ctx.stdout:write(format.table(data, { columns = ctx.columns, utf8 = ctx.utf8, max_cell = opts and opts.max_cell }),
      "\n")
  end
  return nil
end

-- Progress on stderr for long scans, only on a terminal, at most ten updates a second.
local function progress_printer(ctx)
  if ctx.stderr_tty == nil then ctx.stderr_tty = ctx.isatty() end -- only for commands that scan
  if not ctx.stderr_tty then return nil end
  local last = -1
  local dots = ctx.utf8 and "…" or "..."
  return function(what, count, done)
    if done then
      ctx.stderr:write("\r\27[K")
      last = -1
      return
    end
    local now = core.monotonic()
    if now - last >= 0.1 then
      ctx.stderr:write(("\r\27[Kalephant: reading %s%s %d"):format(what, dots, count))
      last = now
    end
  end
end

-- --------------------------------------------------------- report output ----
local DIM_TITLES = { { "agents", "Top agents" }, { "members", "Top members" }, { "departments", "Top departments" },
  { "models", "Top models" } }

local function costs_text(r, ctx)
  local out = {}
  local function add(s) out[#out + 1] = s end
  local heading = ("Spend %s .. %s (%d day%s)"):format(r.window.from, r.window.to, r.window.days,
    r.window.days == 1 and "" or "s")
  if r.source == "cockpit" then
    local who = r.entity and (("%s %s"):format(r.entity.type or "entity", r.entity.name or r.entity.id or "?"))
      or "an unbound key"
    heading = heading .. ", period " .. r.period .. ", " .. who .. " (virtual key)"
  elseif r.workspace_id then
    heading = heading .. ", workspace " .. r.workspace_id
  end
  add(heading)
  add("")
  add(("  Total     %s"):format(money(r.total)))
  local prev = r.previous or {}
  add(("  Previous  %s%s  (%s .. %s)"):format(r.source == "cockpit" and prev.total and "~" or "", money(prev.total),
    prev.from or "?", prev.to or "?"))
  local change
  if r.change_pct then change = pct(r.change_pct, true)
  elseif r.change_reason == "baseline_zero" then change = "n/a (nothing spent in the previous window)"
  else change = "n/a (not reported)" end
  add("  Change    " .. change)
  if r.degraded then add("  Note      degraded answer" .. (r.message and (": " .. r.message) or "")) end
  add("")
  add("Daily spend")
  local values, labels = {}, {}
  for i, d in ipairs(r.daily) do
    values[i] = d.cost
    labels[i] = d.date:sub(6)
  end
  local lines = chart.columns(values, { labels = labels, width = ctx.width, height = 8, utf8 = ctx.utf8,
    format = money, unit = "days" })
  for _, l in ipairs(lines) do add(l) end
  for _, dim in ipairs(DIM_TITLES) do
    local rows = r.top[dim[1]]
    if rows then
      add("")
      if #rows == 0 then
        add(dim[2] .. ": none in this window")
      else
        local table_rows = {}
        local bar_w = math.max(math.min(ctx.width - 60, 20), 5)
        for _, row in ipairs(rows) do
          table_rows[#table_rows + 1] = { name = row.name, cost = money(row.cost), share = pct(row.share_pct),
            [""] = chart.bar((row.share_pct or 0) / 100, bar_w, { utf8 = ctx.utf8 }) }
        end
        add(dim[2] .. ":")
        add(format.table(table_rows, { columns = { "name", "cost", "share", "" }, utf8 = ctx.utf8,
          align = { cost = "right", share = "right" }, max_cell = 32 }))
      end
    end
  end
  return table.concat(out, "\n")
end

local KIND_NAMES = { virtual_key = "virtual key" }

local function budgets_text(r, ctx)
  local out = {}
  local what = r.period and (" (spend in %s .. %s)"):format(r.period.from or "?", r.period.to or "?") or ""
  out[1] = ("Budgets at or above %s of their limit: %d of %d%s"):format(pct(r.threshold * 100):gsub("%.0%%", "%%"),
    #r.items, r.checked, what)
  if #r.items == 0 then return out[1] end
  local rows = {}
  local bar_w = math.max(math.min(ctx.width - 80, 10), 5)
  for _, it in ipairs(r.items) do
    local notes = {}
    if it.window then notes[#notes + 1] = it.window end
    if it.basis == "lifetime" then notes[#notes + 1] = "lifetime spend" end
    if it.action then notes[#notes + 1] = it.action end
    if it.status and it.status ~= "active" and it.status ~= "ok" then notes[#notes + 1] = it.status end
    rows[#rows + 1] = { kind = KIND_NAMES[it.kind] or it.kind, name = it.name or it.id or "?", spent = money(it.spent),
      budget = money(it.budget), used = pct(it.used_pct),
      [""] = chart.bar(math.min(it.used_pct / 100, 1), bar_w, { utf8 = ctx.utf8 }) .. (it.used_pct > 100 and "!" or ""),
      notes = table.concat(notes, ", ") }
  end
  out[2] = ""
  out[3] = format.table(rows, { columns = { "kind", "name", "spent", "budget", "used", "", "notes" }, utf8 = ctx.utf8,
    align = { spent = "right", budget = "right", used = "right" }, max_cell = 64 })
  return table.concat(out, "\n")
end

local function idle_text(r, ctx)
  local out = { ("Active virtual keys with no usage since %s (%d days): %d of %d"):format(r.from, r.days, #r.items,
    r.checked) }
  if #r.items == 0 then return out[1] end
  local rows = {}
  local BASIS = { last_used_at = "its lastUsedAt", entity = "its %s has no usage", none = "unbound, no usage seen" }
  for _, it in ipairs(r.items) do
    local entity = it.entity_name or it.entity_id
    rows[#rows + 1] = { label = it.label or it.id, entity = entity and ((it.entity_type or "") .. " " .. entity) or "-",
      ["last used"] = it.last_used or "-", ["idle days"] = it.idle_days and tostring(it.idle_days) or "-",
      why = BASIS[it.basis] and BASIS[it.basis]:format(it.entity_type or "entity") or it.basis,
      created = it.created_at and it.created_at:sub(1, 10) or "-" }
  end
  out[2] = ""
  out[3] = format.table(rows, { columns = { "label", "entity", "last used", "idle days", "why", "created" },
    utf8 = ctx.utf8, align = { ["idle days"] = "right" }, max_cell = 32 })
  return table.concat(out, "\n")
end

local CSV_COLUMNS = {
  costs = { "dimension", "rank", "kind", "id", "name", "cost", "share_pct", "requests" },
  budgets = { "kind", "id", "name", "spent", "budget", "used_pct", "window", "action", "status", "basis" },
  ["idle-keys"] = { "id", "label", "entity_type", "entity_id", "entity_name", "last_used", "idle_days", "basis",
    "created_at" },
}

local function report_rows(name, r)
  if name ~= "costs" then return r.items end
  local rows = {}
  for _, dim in ipairs(DIM_TITLES) do
    for _, row in ipairs(r.top[dim[1]] or {}) do
      local copy = { dimension = dim[1]:gsub("s$", "") }
      for k, v in pairs(row) do copy[k] = v end
      rows[#rows + 1] = copy
    end
  end
  return rows
end

local function emit_report(ctx, name, r)
  local field = ctx.global.field
  if field then
    local data = select_field(r, field)
    if data == nil then return usage("--field %s: the report has no such field", field) end
    return emit(ctx, data)
  end
  if ctx.format == "json" then return emit(ctx, r) end
  if ctx.format == "csv" then
    ctx.stdout:write(format.csv(report_rows(name, r), { columns = ctx.columns or CSV_COLUMNS[name] }))
    return nil
  end
  local text = name == "costs" and costs_text(r, ctx) or name == "budgets" and budgets_text(r, ctx)
    or idle_text(r, ctx)
  ctx.stdout:write(text, "\n")
  return nil
end

-- ---------------------------------------------------------------- running ----
-- 2 when nothing was sent (the input or the configuration is wrong), else 3.
local function exit_for(err)
  if type(err) == "table" and err.status == nil and (err.kind == "validation" or err.kind == "config"
    or err.kind == "auth" or err.kind == "usage") then
    return cli.EXIT.usage
  end
  return cli.EXIT.api
end

local function fail(ctx, err)
  ctx.stderr:write(one_line(tostring(err)), "\n")
  return exit_for(err)
end

local function read_token_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, usage("cannot read --token-file: %s", one_line(err)) end
  local line = f:read("*l")
  f:close()
  line = line and line:match("^%s*(.-)%s*$")
  if not line or line == "" then return nil, usage("--token-file %s is empty", path) end
  return line
end

local function make_client(ctx)
  local g = ctx.global
  local opts = { getenv = ctx.getenv, workspace_id = g["workspace-id"], base_url = g["base-url"],
    analytics_url = g["analytics-url"], gateway_url = g["gateway-url"], cafile = g.cafile }
  if g.timeout then
    local t = tonumber(g.timeout)
    if not t or t ~= t or t <= 0 or t == math.huge then
      return nil, usage("--timeout: expected a positive number of seconds, got '%s'", g.timeout)
    end
    opts.timeout = t
  end
  if g["token-file"] then
    local token, err = read_token_file(g["token-file"])
    if not token then return nil, err end
    opts.token = token
  end
  return ctx.new(opts)
end

local function run_endpoint(ctx, cmd, parsed)
  local client, err = make_client(ctx)
  if not client then return fail(ctx, err) end
  local e = cmd.endpoint
  local params = parsed.params
  if parsed.cli.body then
    if type(parsed.cli.body) ~= "table" or parsed.cli.body[1] ~= nil then
      return fail(ctx, usage("--body: expected a JSON object"))
    end
    for k, v in pairs(parsed.cli.body) do
      if params[k] == nil then params[k] = v end
    end
  end
  if parsed.cli.max_items and not parsed.cli.all then
    return fail(ctx, usage("--max-items goes with --all"))
  end
  local data, meta
  if parsed.cli.all then
    local g, n = e.name:match("^([^.]+)%.(.+)$")
    local method = n == "list" and "each" or ("each_" .. n)
    local progress = progress_printer(ctx)
    local items = alephant.array()
    for item, ierr in client[g][method](client[g], params, { max_items = parsed.cli.max_items }) do
      if item == false then
        if progress then progress(dash(g), #items, true) end
        client:close()
        return fail(ctx, ierr)
      end
      items[#items + 1] = item
      if progress then progress(dash(g), #items, false) end
    end
    if progress then progress(dash(g), #items, true) end
    data = items
  else
    data, err, meta = client:call(e.name, params)
    if data == nil then
      client:close()
      return fail(ctx, err)
    end
  end
  client:close()
  if meta and meta.degraded then
    local m = type(data) == "table" and data.message
    ctx.stderr:write("alephant: warning: degraded answer", meta.data_source and (" (data_source " ..
      tostring(meta.data_source) .. ")") or "", type(m) == "string" and (": " .. one_line(m)) or "", "\n")
  end
  if ctx.global.field then
    data = select_field(data, ctx.global.field)
    if data == nil then return fail(ctx, usage("--field %s: the result has no such field", ctx.global.field)) end
  end
  local uerr = emit(ctx, data)
  if uerr then return fail(ctx, uerr) end
  return cli.EXIT.ok
end

local function run_report(ctx, name, parsed)
  local client, err = make_client(ctx)
  if not client then return fail(ctx, err) end
  local opts = {}
  for k, v in pairs(parsed.params) do opts[k] = v end
  if name ~= "costs" then opts.progress = progress_printer(ctx) end
  local r
  r, err = REPORTS[name].fn(client, opts)
  client:close()
  if not r then return fail(ctx, err) end
  local uerr = emit_report(ctx, name, r)
  if uerr then return fail(ctx, uerr) end
  return cli.EXIT.ok
end

local function run_endpoints(ctx)
  local rows = {}
  for _, e in ipairs(core.endpoints()) do
    local g, n = e.name:match("^([^.]+)%.(.+)$")
    rows[#rows + 1] = { command = dash(g) .. " " .. dash(n), name = e.name, method = e.method, path = e.path,
      tokens = kinds_text(e.kinds), summary = e.summary }
  end
  if not ctx.columns then ctx.columns = { "command", "method", "path", "tokens", "summary" } end
  local uerr = emit(ctx, ctx.format == "json" and core.endpoints() or rows, { max_cell = 200 })
  if uerr then return fail(ctx, uerr) end
  return cli.EXIT.ok
end

local function stderr_is_tty(getenv)
  local term = getenv("TERM")
  if not term or term == "" or term == "dumb" then return false end
  local r = os.execute("test -t 2")
  return r == true or r == 0
end

local function run(argv, ctx)
  local parsed, perr = cli.parse(argv)
  if not parsed then return fail(ctx, perr) end
  local words, g = parsed.words, parsed.global
  ctx.global = g
  if words[1] == "help" then
    table.remove(words, 1)
    g.help = true
  end
  local f = g.format or "table"
  if f ~= "table" and f ~= "json" and f ~= "csv" then
    return fail(ctx, usage("--format must be table, json or csv, got '%s'", f))
  end
  ctx.format = f
  if g.columns then
    ctx.columns = {}
    for c in g.columns:gmatch("[^,]+") do ctx.columns[#ctx.columns + 1] = c:match("^%s*(.-)%s*$") end
  end
  local out = ctx.stdout
  local w1, w2 = words[1], words[2]
  if g.version or w1 == "version" then
    out:write("alephant-lua ", core.version, "\n")
    return cli.EXIT.ok
  end
  if not w1 then
    if g.help then
      out:write(main_help(), "\n")
      return cli.EXIT.ok
    end
    return fail(ctx, usage("no command; see alephant --help"))
  end
  if w1 == "endpoints" then
    if g.help then
      out:write("alephant endpoints: every catalog entry with its method, path and token kinds\n")
      return cli.EXIT.ok
    end
    if w2 then return fail(ctx, usage("unexpected argument '%s' after alephant endpoints", w2)) end
    return run_endpoints(ctx)
  end
  if w1 == "report" then
    if not w2 then
      if g.help then
        out:write(reports_help(), "\n")
        return cli.EXIT.ok
      end
      return fail(ctx, usage("which report? costs, budgets or idle-keys; see alephant report --help"))
    end
    if not REPORTS[w2] then
      return fail(ctx, usage("unknown report '%s'%s; see alephant report --help", w2, hint(w2, REPORT_ORDER)))
    end
    if words[3] then return fail(ctx, usage("unexpected argument '%s'", words[3])) end
    if g.help then
      out:write(report_help(w2), "\n")
      return cli.EXIT.ok
    end
    return run_report(ctx, w2, parsed)
  end
  local group = groups[undash(w1)]
  if not group then
    return fail(ctx, usage("unknown command '%s'%s; see alephant --help", w1, hint(w1, top_candidates())))
  end
  if not w2 then
    if g.help then
      out:write(group_help(undash(w1)), "\n")
      return cli.EXIT.ok
    end
    return fail(ctx, usage("alephant %s needs a command; see alephant %s --help", w1, w1))
  end
  local e = group.by_name[undash(w2)]
  if not e then
    local names = {}
    for i, n in ipairs(group.names) do names[i] = dash(n) end
    return fail(ctx, usage("alephant %s has no command '%s'%s; see alephant %s --help", w1, w2, hint(w2, names), w1))
  end
  if words[3] then return fail(ctx, usage("unexpected argument '%s'", words[3])) end
  if g.help then
    out:write(command_help(e), "\n")
    return cli.EXIT.ok
  end
  return run_endpoint(ctx, parsed.command, parsed)
end

--- Runs the command line.
-- @tparam {string,...} argv the arguments (`arg` of the script: `argv[1]` is the first)
-- @tparam[opt] table ctx what the command talks to (each defaults to the real one):
--   `stdout`, `stderr` (objects with `write`), `getenv` (like `os.getenv`), `stderr_tty`
--   (boolean: progress on stderr), `new` (a client constructor like `alephant.new`)
-- @treturn integer the exit status (`cli.EXIT`)
function cli.main(argv, ctx)
  ctx = ctx or {}
  local c = {
    stdout = ctx.stdout or io.stdout,
    stderr = ctx.stderr or io.stderr,
    getenv = ctx.getenv or os.getenv,
    new = ctx.new or alephant.new,
  }
  c.utf8 = chart.utf8(c.getenv)
  c.stderr_tty = ctx.stderr_tty
  c.isatty = function() return stderr_is_tty(c.getenv) end
  c.width = math.max(math.min(tonumber(c.getenv("COLUMNS") or "") or 80, 200), 40)
  local ok, code = xpcall(function() return run(argv or {}, c) end, debug.traceback) -- Lua 5.1: no xpcall args
  if not ok then
    -- one line; the traceback with ALEPHANT_DEBUG=1
    local msg = c.getenv("ALEPHANT_DEBUG") == "1" and tostring(code) or one_line(tostring(code):match("^[^\n]*"))
    c.stderr:write("alephant internal error: ", msg, "\n")
    return cli.EXIT.internal
  end
  return code
end

return cli
