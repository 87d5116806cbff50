--- What the `alephant` command line accepts: the commands (one per catalog entry, and the
-- reports of `alephant.cli.report_args`), the global options, how a flag's text becomes a parameter's value, and the
-- parser. Usage errors are tables with `kind = "usage"` whose `tostring` is one line.
-- @module alephant.cli.args
local alephant = require "alephant"
local core = require "alephant.core"
local raw_cli = require "alephant.cli.request"
local report_args = require "alephant.cli.report_args"

local args = {}

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

-- The reports as commands, their flags built from each report's declaration of its options.
local REPORTS, REPORT_ORDER = report_args.REPORTS, report_args.ORDER

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

local function hint(name, candidates, prefix)
  local c = core.closest(name, candidates)
  return c and (" (did you mean '" .. (prefix or "") .. c .. "'?)") or ""
end

-- ------------------------------------------------------------ parameters ----
local TYPE_ARG = { date = "DATE", datetime = "DATETIME", uuid = "UUID", id = "ID", integer = "N", number = "NUMBER",
  enum = "VALUE", enum_list = "VALUE", table = "JSON", any = "TEXT|JSON", string = "TEXT", string_list = "TEXT",
  enum_csv = "A,B,..." }

local function param_arg(p)
  if p.type == "boolean" or p.flag then return "" end
  return " " .. (TYPE_ARG[p.type] or "VALUE")
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
  if p.nullable and text == "null" then return alephant.null end
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

-- ---------------------------------------------------------------- parsing ----
local TOP_WORDS = { "report", "request", "endpoints", "help", "version" }

local function top_candidates()
  local c = {}
  for _, g in ipairs(group_order) do c[#c + 1] = dash(g) end
  for _, w in ipairs(TOP_WORDS) do c[#c + 1] = w end
  return c
end

-- The usage error for words that name no command ("did you mean"), or nil.
local function unknown_words(words)
  local w1, w2 = words[1], words[2]
  if w1 == nil or w1 == "endpoints" or w1 == "help" or w1 == "version" or w1 == "request" then return nil end
  if w1 == "report" then
    if w2 and not REPORTS[w2] then
      return usage("unknown report '%s'%s; see alephant report --help", w2, hint(w2, REPORT_ORDER))
    end
    return nil
  end
  local group = groups[undash(w1)]
  if not group then
    return usage("unknown command '%s'%s; see alephant --help", w1, hint(w1, top_candidates()))
  end
  if w2 and not group.by_name[undash(w2)] then
    local names = {}
    for i, n in ipairs(group.names) do names[i] = dash(n) end
    return usage("alephant %s has no command '%s'%s; see alephant %s --help", w1, w2, hint(w2, names), w1)
  end
  return nil
end

-- The command the words name so far: { kind = "endpoint"|"report", params = {...} } or nil.
local function command_of(words)
  if words[1] == "request" then return { kind = "request", params = raw_cli.params } end
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
function args.parse(argv)
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
        -- a mistyped command before its flags: the command is the mistake, not the flag
        if not command and unknown_words(words) then return nil, unknown_words(words) end
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
        if p.multi then
          target[p.name] = target[p.name] or {}
          table.insert(target[p.name], converted)
        elseif p.type == "enum_list" or p.type == "string_list" then
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

args.dash, args.undash = dash, undash
args.groups, args.group_order = groups, group_order
args.REPORTS, args.REPORT_ORDER = REPORTS, REPORT_ORDER
args.GLOBAL, args.GLOBAL_ORDER, args.TOKEN_NOTE = GLOBAL, GLOBAL_ORDER, TOKEN_NOTE
args.usage, args.one_line, args.hint = usage, one_line, hint
args.param_arg, args.top_candidates, args.unknown_words = param_arg, top_candidates, unknown_words

return args
