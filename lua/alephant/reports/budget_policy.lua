--- The budget-control policy (`alephant.reports.budget_policy`): `show` reads it,
-- `set` changes it with a read-modify-write that survives a concurrent edit.
--
-- `set` reads the policy (`policies.budget_control`), applies the changes to the
-- config it got, and writes the whole config back (`policies.set_budget_control`, PUT),
-- with the `version` it read in the body when the policy carries one (the public docs
-- show no version: then only `config` is sent, as the MCP server does; not an
-- `If-Match` header, which an nginx in front answers with 412 by itself). When the server
-- answers 409 (someone changed the policy in between), it reads again, re-applies the
-- same changes to the new config and writes again, up to `attempts` times (3 by
-- default). Changes are applied on top of what is there: fields not named are kept.
-- Writing needs a token with the admin scope.
--
-- Calls: `show` 1; `set` 2 per attempt (a read and a write): 2 without a conflict,
-- at most 2 × `attempts`.
-- @module alephant.reports.budget_policy
local core = require "alephant.core"
local errors = require "alephant.errors"
local fields = require "alephant.reports.fields"
local options = require "alephant.reports.options"

local budget_policy = {}

-- Lua option name -> the config's wire name.
local WIRE = { amount = "amount", thresholds = "thresholds", exceeded_action = "exceededAction", period = "period",
  currency = "currency" }

-- The options of `set` (`show` takes none): their one declaration (`alephant.reports.options`),
-- read by the command line too. Amount and thresholds have their own messages, below.
local SET = options.declare("budget_policy_set", {
  { name = "amount", type = "number", help = "the budget in USD" },
  { name = "thresholds", type = "number_list", help = "alert percentages, e.g. 50,80,100" },
  { name = "exceeded_action", type = "string", min = 1, max = 64, help = "e.g. alert-only or pause" },
  { name = "period", type = "string", min = 1, max = 64, help = "e.g. monthly" },
  { name = "currency", type = "string", min = 1, max = 64, help = "e.g. USD" },
  { name = "changes", type = "table", cli = false, help = "other config fields, wire names, sent as given" },
  { name = "attempts", type = "integer", min = 1, max = 10, default = 3, help = "tries on 409" },
})
local SHOW = options.declare("budget_policy", {})

local function config_of(data)
  local c = type(data) == "table" and (data.config or data) or {}
  local out = {}
  for k, v in pairs(c) do out[k] = v end
  return out
end

local function fail(field, message) return nil, errors.new("validation", message, { field = field }) end

-- The changes as wire fields, checked: { [wire] = value }.
local function changes_of(opts)
  local ch = {}
  if opts.amount ~= nil then
    if not (opts.amount >= 0 and opts.amount < math.huge) then
      return fail("amount", "amount must be a non-negative number (USD)")
    end
    ch.amount = opts.amount
  end
  if opts.thresholds ~= nil then
    local list = {}
    for i, v in ipairs(opts.thresholds) do
      if type(v) ~= "number" or not (v >= 0 and v <= 100) then
        return fail("thresholds", "thresholds must be percentages from 0 to 100")
      end
      list[i] = v
    end
    if #list == 0 then return fail("thresholds", "thresholds must list at least one percentage") end
    table.sort(list)
    ch.thresholds = core.array(list)
  end
  for _, k in ipairs({ "exceeded_action", "period", "currency" }) do
    if opts[k] ~= nil then
      local _, err = options.value(SET, opts, k)
      if err then return nil, err end
      ch[WIRE[k]] = opts[k]
    end
  end
  for k, v in pairs(opts.changes or {}) do
    if type(k) ~= "string" or k == "" then return fail("changes", "changes: field names must be strings") end
    ch[k] = v
  end
  if next(ch) == nil then
    return fail("amount", "nothing to change: give amount, thresholds, exceeded_action, period, currency or changes")
  end
  return ch
end

local function summary(data)
  local c = config_of(data)
  return { config = c, version = fields.num(type(data) == "table" and data.version or nil),
    updated_at = type(data) == "table" and fields.pick(data, { "updatedAt", "updated_at" }) or nil }
end

--- The current policy.
-- @tparam Client client a client (PAT or JWT)
-- @tparam[opt] table opts none yet (an empty table or nil)
-- @treturn table `{config, version, updated_at, items = {{field, value}}, calls = 1}`
-- @return[2] nil
-- @return[2] table error
function budget_policy.show(client, opts)
  options.check(SHOW, opts)
  local data, err = client.policies:budget_control()
  if data == nil then return nil, err end
  local r = summary(data)
  r.items = {}
  local names = {}
  for k in pairs(r.config) do names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do r.items[#r.items + 1] = { field = k, value = r.config[k] } end
  r.calls = 1
  return r
end

local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  if #a ~= #b then return false end
  for i = 1, #a do
    if a[i] ~= b[i] then return false end
  end
  return true
end

--- Changes the policy (read-modify-write, retried on 409).
-- @tparam Client client a client with the admin scope
-- @tparam table opts `amount` (USD), `thresholds` (percentages 0..100), `exceeded_action`,
--   `period`, `currency`, `changes` (other config fields, wire names, sent as given),
--   `attempts`; limits and defaults: `budget_policy.OPTIONS`
-- @treturn table `{before, after, version, attempts, conflicts, items = {{field, before,
--   after}}, calls}`
-- @return[2] nil
-- @return[2] table error (the last 409 when every attempt met a concurrent edit)
function budget_policy.set(client, opts)
  opts = options.check(SET, opts)
  local attempts, err = options.value(SET, opts, "attempts")
  if not attempts then return nil, err end
  local ch
  ch, err = changes_of(opts)
  if not ch then return nil, err end
  local calls, conflicts = 0, 0
  for attempt = 1, attempts do
    local current
    current, err = client.policies:budget_control()
    calls = calls + 1
    if current == nil then return nil, err end
    local before = summary(current)
    local config = config_of(current)
    for k, v in pairs(ch) do config[k] = v end
    if type(config.thresholds) == "table" then config.thresholds = core.array(config.thresholds) end
    local call_opts = before.version and { extra = { version = before.version } } or nil
    local written
    written, err = client.policies:set_budget_control({ config = config }, call_opts)
    calls = calls + 1
    if written ~= nil then
      local after = summary(written)
      local items = {}
      local names = {}
      for k in pairs(ch) do names[#names + 1] = k end
      table.sort(names)
      for _, k in ipairs(names) do
        items[#items + 1] = { field = k, before = before.config[k], after = after.config[k],
          changed = not same(before.config[k], after.config[k]) }
      end
      return { before = before.config, after = after.config, version = after.version, attempts = attempt,
        conflicts = conflicts, items = items, calls = calls }
    end
    if err.status ~= 409 then return nil, err end
    conflicts = conflicts + 1
  end
  err.message = err.message .. (" (gave up after %d attempts, each met a concurrent edit)"):format(attempts)
  return nil, err
end

budget_policy.OPTIONS = SET

return budget_policy
