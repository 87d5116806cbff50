--- The options of the reports, each declared once by its report module and read from
-- that declaration by the report (names and Lua types, defaults, limits) and by the
-- command line (flags, help).
--
-- A declaration is a list, in help order, of `{name, type, min, max, values, enum,
-- default, help, group, percent, cli}`:
--
-- - `type`: `integer`, `number`, `string` (`min`/`max` are its length), `date`, `uuid`,
--   `enum` (`enum` names the core's vocabulary, `values` lists it), `number_list`
--   (a table of numbers), `function`;
-- - `min`, `max` (integers: a range) or `values` (integers: one of them);
-- - `default`: the value when the option is not given (and the help says so);
-- - `group`: options of one group exclude each other (an agent, a member or a department);
-- - `percent`: the command line also takes `80%` for 0.8;
-- - `cli = false`: an option of the library only (`now`, `progress`, `changes`).
--
-- The rules are checked by the core's validators (`core.validate_integer`,
-- `validate_integer_in`, `validate_length`, `validate_enum`, `validate_uuid`), so the
-- messages are theirs. A report checks an option where its logic needs it
-- (`options.value`), in the order it always has.
-- @module alephant.reports.options
local core = require "alephant.core"

local options = {}

local LUA_TYPE = { integer = "number", number = "number", string = "string", date = "string", uuid = "string",
  enum = "string", number_list = "table", table = "table", ["function"] = "function" }

local declared = {}

--- Declares the options of a report; returns the declaration (also `by_name`).
-- @tparam string report the report's Lua name (`costs`, `idle_keys`, ...), for messages
-- @tparam table list the options, in help order
function options.declare(report, list)
  assert(not declared[report], "alephant.reports.options: " .. report .. " declared twice")
  local by_name = {}
  for _, o in ipairs(list) do
    assert(type(o.name) == "string" and LUA_TYPE[o.type], "alephant.reports.options: bad option in " .. report)
    assert(not by_name[o.name], "alephant.reports.options: " .. report .. " declares " .. o.name .. " twice")
    by_name[o.name] = o
  end
  local d = { report = report, by_name = by_name }
  for i, o in ipairs(list) do d[i] = o end
  declared[report] = d
  return d
end

--- The declaration of a report (by its Lua name: `costs`, `idle_keys`, `budget_policy_set`,
-- ...), or nil. Loads the reports the first time.
function options.of(report)
  if declared[report] == nil then require "alephant.reports" end
  return declared[report]
end

--- Checks the names and Lua types of a report's options (programmer errors raise,
-- naming the report and the caller's line): the options, or `{}` for nil.
function options.check(decl, opts)
  if opts == nil then return {} end
  local fn = decl.report
  if type(opts) ~= "table" then error(("alephant.reports.%s: options must be a table"):format(fn), 3) end
  for k, v in pairs(opts) do
    local o = decl.by_name[k]
    if not o then
      local names = {}
      for n in pairs(decl.by_name) do names[#names + 1] = n end
      table.sort(names)
      error(("alephant.reports.%s: unknown option '%s' (known: %s)"):format(fn, tostring(k),
        table.concat(names, ", ")), 3)
    end
    local want = LUA_TYPE[o.type]
    if type(v) ~= want then error(("alephant.reports.%s: option '%s' must be a %s"):format(fn, k, want), 3) end
  end
  return opts
end

-- The rule of one option applied to a value: true, or nil and the core's error.
local function apply(o, v)
  if o.type == "integer" then
    if o.values then return core.validate_integer_in(v, o.name, o.values) end
    return core.validate_integer(v, o.name, o.min, o.max)
  elseif o.type == "string" and (o.min or o.max) then
    return core.validate_length(v, o.name, o.min, o.max)
  elseif o.type == "enum" and o.enum then
    return core.validate_enum(o.enum, v, o.name)
  elseif o.type == "uuid" then
    return core.validate_uuid(v, o.name)
  end
  return true
end

--- One option's value, its default when not given, checked against its rule.
-- @treturn any the value (nil when not given and without a default)
-- @return[2] nil
-- @return[2] table the validation error (the core's message)
function options.value(decl, opts, name)
  local o = assert(decl.by_name[name], name)
  local v = opts[name]
  if v == nil then v = o.default end
  if v == nil then return nil end
  local ok, err = apply(o, v)
  if not ok then return nil, err end
  return v
end

options.LUA_TYPE = LUA_TYPE

--- The options that pick one agent, member or department (at most one of them).
options.SCOPE = {
  { name = "agent_id", type = "uuid", group = 1, help = "one agent" },
  { name = "member_id", type = "uuid", group = 1, help = "one member" },
  { name = "department_id", type = "uuid", group = 1, help = "one department" },
}

return options
