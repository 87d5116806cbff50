--- The command-line side of the newer reports (`alephant report dashboard|anomalies|
-- compare|drill-down|idle|budget-policy`): their options in the catalog's parameter
-- vocabulary, a summary, a note with the calls each makes, and `adapt`, which picks the
-- report function and turns flags into its options. `alephant.cli.args` adds them to its
-- table of reports; `alephant.cli.report_views` draws them.
-- @module alephant.cli.report_args
local reports = require "alephant.reports"

local M = {}

local SCOPE = {
  { name = "agent_id", type = "uuid", help = "one agent" },
  { name = "member_id", type = "uuid", help = "one member" },
  { name = "department_id", type = "uuid", help = "one department" },
}

local function with_scope(list)
  local out = {}
  for _, p in ipairs(list) do out[#out + 1] = p end
  for _, p in ipairs(SCOPE) do out[#out + 1] = { name = p.name, type = p.type, group = 1, help = p.help } end
  return out
end

M.REPORTS = {
  dashboard = {
    summary = "The workspace on one screen: overview, the last 24 hours, 7-day sparklines",
    fn = reports.dashboard,
    params = {
      { name = "top", type = "integer", min = 1, max = 10, help = "rows of each 24-hour top list (default 5)" },
    },
    note = "Needs a PAT or JWT. 3 calls: analytics.overview, analytics.live_24h, analytics.sparklines.",
  },
  anomalies = {
    summary = "Days whose spend departs from the trailing baseline (robust z-score), with severity and drivers",
    fn = reports.anomalies,
    params = with_scope({
      { name = "days", type = "integer", min = 1, max = 366, help = "the window, today included (default 30)" },
      { name = "baseline", type = "integer", min = 3, max = 90, help = "trailing days per score (default 14)" },
      { name = "threshold", type = "number", help = "score that makes an anomaly (default 3.5)" },
      { name = "explain", type = "integer", min = 0, max = 31,
        help = "anomalies whose drivers are fetched (default 5)" },
      { name = "top", type = "integer", min = 1, max = 20, help = "drivers per list (default 3)" },
    }),
    note = "score = (spend - median) / (1.4826 * MAD) of the baseline days; |score| >= threshold is an anomaly\n"
      .. "(high at 2x the threshold, medium at 1.5x). Calls: 1 analytics.usage, then 1 per explained day\n"
      .. "(analytics.costs; collector.costs for a department; collector.logs pages for an agent or member).",
  },
  compare = {
    summary = "The workspace or one agent, member or department over two periods, side by side",
    fn = reports.compare,
    params = with_scope({
      { name = "from", type = "date", help = "first day of the period (default: the last 7 days)" },
      { name = "to", type = "date", help = "last day of the period" },
      { name = "previous_from", type = "date", help = "first day to compare with (default: as many days before)" },
      { name = "previous_to", type = "date", help = "last day to compare with" },
    }),
    note = "Calls: 2 analytics.usage; workspace-wide also 2 analytics.models (the models side by side).",
  },
  ["drill-down"] = {
    summary = "Spend by department, then one department's members and agents, then their models",
    fn = reports.drill_down,
    params = {
      { name = "department_id", type = "uuid", help = "drill into this department" },
      { name = "days", type = "integer", values = { 1, 7, 30 }, help = "the last N days (default 30)" },
      { name = "top", type = "integer", min = 1, max = 50, help = "models per agent or member (default 5)" },
    },
    note = "Calls: 1 collector.costs; with --department-id 1 more, plus 1 agents.analytics per agent and\n"
      .. "1 analytics.member per member that spent in the window.",
  },
  idle = {
    summary = "Active agents and active virtual keys with no traffic in the last N days",
    fn = reports.idle,
    progress = true,
    params = { { name = "days", type = "integer", min = 1, max = 3650, help = "default 30" } },
    note = "Needs a PAT or JWT. Calls: 1 analytics.costs, then the agents and the keys, 200 a page.",
  },
  ["budget-policy"] = {
    summary = "The budget-control policy; `budget-policy set` changes it (read-modify-write, retried on 409)",
    fn = reports.budget_policy,
    actions = { set = reports.budget_policy_set },
    params = {
      { name = "amount", type = "number", help = "set: the budget in USD" },
      { name = "thresholds", type = "string", help = "set: alert percentages, e.g. 50,80,100" },
      { name = "exceeded_action", type = "string", help = "set: e.g. alert-only or pause" },
      { name = "period", type = "string", help = "set: e.g. monthly" },
      { name = "currency", type = "string", help = "set: e.g. USD" },
      { name = "attempts", type = "integer", min = 1, max = 10, help = "set: tries on 409 (default 3)" },
    },
    note = "alephant report budget-policy         the policy (1 call)\n"
      .. "alephant report budget-policy set ...  read, change, write back (with the version read); on 409 read\n"
      .. "                                       again and re-apply (2 calls per attempt). Writing needs the\n"
      .. "                                       admin scope.",
  },
}
M.ORDER = { "dashboard", "anomalies", "compare", "drill-down", "idle", "budget-policy" }

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
