--- The reports as commands (`alephant report <name>`): a summary, the report function,
-- the options as flags, a note with the calls each makes, and `adapt`, which picks the
-- report function and turns flags into its options. The flags and their help are built
-- from each report's own declaration of its options (`alephant.reports.options`): no
-- limit, default or allowed value is written here. `alephant.cli.args` parses them;
-- `alephant.cli.report_views` draws the newer ones.
-- @module alephant.cli.report_args
local reports = require "alephant.reports"
local options = require "alephant.reports.options"

local M = {}

local function num_text(v)
  if type(v) == "number" and v == math.floor(v) and math.abs(v) < 2 ^ 53 then return ("%d"):format(v) end
  return tostring(v)
end

-- The command-line types of the declaration's types (a number list is typed as text: `adapt` reads it).
local CLI_TYPE = { number_list = "string" }

--- The flags of a report, in the catalog's parameter vocabulary (`{name, type, min, max,
-- values, group, percent, help}`), from the report's declaration (by its Lua name); `prefix`
-- starts each help text (`set: `).
function M.params_of(report, prefix)
  local decl = assert(options.of(report), report)
  local params = {}
  for _, o in ipairs(decl) do
    if o.cli ~= false and o.type ~= "function" and o.type ~= "table" then
      local help = o.help
      if o.default ~= nil then
        local d = "default " .. num_text(o.default)
        help = help and (help .. " (" .. d .. ")") or d
      end
      params[#params + 1] = { name = o.name, type = CLI_TYPE[o.type] or o.type, min = o.min, max = o.max,
        values = o.values, group = o.group, percent = o.percent,
        help = help and prefix and (prefix .. help) or help }
    end
  end
  return params
end

-- Each report by its command name: `lua` is its name in `alephant.reports` (`set`, the
-- name of its `set` action there). The rest follows below: `fn`, `actions`, `options` (the
-- declaration the flags come from: set's for budget-policy), `params`, and `progress` (the
-- command passes a progress printer when the report declares a `progress` option).
M.REPORTS = {
  costs = {
    summary = "Spend for a window vs the previous one; top agents, members, departments, models; daily chart",
    lua = "costs",
    note = "With a PAT or JWT: analytics.costs, analytics.usage (this and the previous window), analytics.models.\n"
      .. "With a virtual key: the Cockpit routes for the key's own agent or member (period only).",
  },
  budgets = {
    summary = "Virtual keys and entities at or above a threshold of their budget",
    lua = "budgets",
    note = "With a PAT or JWT: every virtual key (lifetime spend, as the API reports it), members, agents and\n"
      .. "departments (current billing period) and the workspace. With a virtual key: the key and its entity.",
  },
  ["idle-keys"] = {
    summary = "Active virtual keys with no usage in the last N days",
    lua = "idle_keys",
    note = "Needs a PAT or JWT. A key's lastUsedAt decides; without it, its agent or member's usage in the window.",
  },
  dashboard = {
    summary = "The workspace on one screen: overview, the last 24 hours, 7-day sparklines",
    lua = "dashboard",
    note = "Needs a PAT or JWT. 3 calls: analytics.overview, analytics.live_24h, analytics.sparklines.",
  },
  anomalies = {
    summary = "Days whose spend departs from the trailing baseline (robust z-score), with severity and drivers",
    lua = "anomalies",
    note = "score = (spend - median) / (1.4826 * MAD) of the baseline days; |score| >= threshold is an anomaly\n"
      .. "(high at 2x the threshold, medium at 1.5x). Calls: 1 analytics.usage, then 1 per explained day\n"
      .. "(analytics.costs; collector.costs for a department; collector.logs pages for an agent or member).",
  },
  compare = {
    summary = "The workspace or one agent, member or department over two periods, side by side",
    lua = "compare",
    note = "Calls: 2 analytics.usage; workspace-wide also 2 analytics.models (the models side by side).",
  },
  ["drill-down"] = {
    summary = "Spend by department, then one department's members and agents, then their models",
    lua = "drill_down",
    note = "Calls: 1 collector.costs; with --department-id 1 more, plus 1 agents.analytics per agent and\n"
      .. "1 analytics.member per member that spent in the window.",
  },
  idle = {
    summary = "Active agents and active virtual keys with no traffic in the last N days",
    lua = "idle",
    note = "Needs a PAT or JWT. Calls: 1 analytics.costs, then the agents and the keys, 200 a page.",
  },
  ["budget-policy"] = {
    summary = "The budget-control policy; `budget-policy set` changes it (read-modify-write, retried on 409)",
    lua = "budget_policy",
    set = "budget_policy_set",
    note = "alephant report budget-policy         the policy (1 call)\n"
      .. "alephant report budget-policy set ...  read, change, write back (with the version read); on 409 read\n"
      .. "                                       again and re-apply (2 calls per attempt). Writing needs the\n"
      .. "                                       admin scope.",
  },
}
for _, spec in pairs(M.REPORTS) do
  spec.fn = assert(reports[spec.lua], spec.lua)
  spec.actions = spec.set and { set = assert(reports[spec.set], spec.set) } or nil
  spec.options = spec.set or spec.lua
  spec.params = M.params_of(spec.options, spec.set and "set: ")
  spec.progress = options.of(spec.options).by_name.progress ~= nil
end
M.ORDER = { "costs", "budgets", "idle-keys", "dashboard", "anomalies", "compare", "drill-down", "idle",
  "budget-policy" }

--- The function and options of a report command, from the words after `report <name>`
-- and the parsed options: fn, opts; or nil, message (a usage error).
function M.adapt(name, action, opts)
  local spec = M.REPORTS[name]
  if not spec then return nil, "unknown report" end
  local fn = spec.fn
  if action then
    fn = spec.actions and spec.actions[action]
    if not fn then return nil, ("report %s takes no '%s'"):format(name, action) end
  elseif spec.actions and next(opts) ~= nil then
    return nil, ("report %s shows the policy and takes no options; to change it: alephant report %s set ...")
      :format(name, name)
  end
  if name == "budget-policy" and opts.thresholds then
    local list = {}
    for item in opts.thresholds:gmatch("[^,]+") do
      local v = tonumber(item)
      if not v then return nil, ("--thresholds: expected numbers separated by commas, got '%s'"):format(item) end
      list[#list + 1] = v
    end
    opts.thresholds = list
  end
  return fn, opts
end

return M
