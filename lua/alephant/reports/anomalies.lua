--- The `anomalies` report (`alephant.reports.anomalies`): days whose spend departs from
-- its trailing baseline, for the workspace or one agent, member or department, with a
-- severity and what drove each day.
--
-- Method (robust z-score, Iglewicz and Hoaglin): for each day of the window, the
-- baseline is the `baseline` days just before it (14 by default; days without usage
-- count as 0). With `m` the median of the baseline and `MAD` the median of the absolute
-- deviations from `m`, the day's score is `(spend - m) / (1.4826 * MAD)`; 1.4826 makes
-- the MAD estimate a standard deviation for normal data. The scale never falls below 5%
-- of `m` nor one cent, so a flat baseline does not turn every small change into an
-- infinite score. A day is an anomaly when `|score| >= threshold` (3.5 by default, the
-- usual cut-off for this score); its severity is `high` at twice the threshold or more,
-- `medium` at 1.5 times, `low` below; `direction` is `spike` or `drop`.
--
-- Calls: 1 `analytics.usage` for the window and its baseline, then, for the
-- `explain` most severe anomalies (5 by default, 0 for none), one call each for what
-- drove the day: `analytics.costs` of that day (workspace), `collector.costs` of that
-- day with `department_id` (a department), or `collector.logs` of that day for the agent
-- or member, page after page (200 rows a page). The workspace's and a department's
-- explaining calls go out together (`client:batch`); the log pages one after another.
-- @module alephant.reports.anomalies
local errors = require "alephant.errors"
local dates = require "alephant.reports.dates"
local fields = require "alephant.reports.fields"
local common = require "alephant.reports.common"
local options = require "alephant.reports.options"

local date_of, day_of, today = dates.date_of, dates.day_of, dates.today
local pick, usd, list_of, breakdowns = fields.pick, fields.usd, fields.list_of, fields.breakdowns

local anomalies = {}

-- The options: their one declaration (`alephant.reports.options`), read by the command line too.
-- The threshold's rule (a positive number) has its own message, below.
local OPTIONS = {
  { name = "days", type = "integer", min = 1, max = 366, default = 30, help = "the window, today included" },
  { name = "baseline", type = "integer", min = 3, max = 90, default = 14, help = "trailing days per score" },
  { name = "threshold", type = "number", default = 3.5, help = "score that makes an anomaly" },
  { name = "explain", type = "integer", min = 0, max = 31, default = 5,
    help = "anomalies whose drivers are fetched" },
  { name = "top", type = "integer", min = 1, max = 20, default = 3, help = "drivers per list" },
}
for _, o in ipairs(options.SCOPE) do OPTIONS[#OPTIONS + 1] = o end
OPTIONS[#OPTIONS + 1] = { name = "now", type = "number", cli = false, help = "seconds since the epoch" }
OPTIONS = options.declare("anomalies", OPTIONS)
anomalies.OPTIONS = OPTIONS

local function median(values)
  local s = {}
  for i, v in ipairs(values) do s[i] = v end
  table.sort(s)
  local n = #s
  if n == 0 then return 0 end
  if n % 2 == 1 then return s[(n + 1) / 2] end
  return (s[n / 2] + s[n / 2 + 1]) / 2
end

--- The score of `x` against `baseline` values: score, median, scale (see the module).
function anomalies.score(x, baseline)
  local m = median(baseline)
  local dev = {}
  for i, v in ipairs(baseline) do dev[i] = math.abs(v - m) end
  local scale = math.max(1.4826 * median(dev), 0.05 * math.abs(m), 0.01)
  return (x - m) / scale, m, scale
end

--- The severity of a score for a threshold: `"high"`, `"medium"`, `"low"` or nil.
function anomalies.severity(score, threshold)
  local a = math.abs(score)
  if a >= 2 * threshold then return "high" end
  if a >= 1.5 * threshold then return "medium" end
  if a >= threshold then return "low" end
  return nil
end

-- Ranks {name -> {cost, requests}} into the top n rows with shares of the day's total.
local function ranked(by_name, total, n)
  local rows = {}
  for name, v in pairs(by_name) do
    rows[#rows + 1] = { name = name, cost = v.cost, requests = v.requests,
      share_pct = total > 0 and v.cost / total * 100 or 0 }
  end
  table.sort(rows, function(a, b)
    if a.cost ~= b.cost then return a.cost > b.cost end
    return a.name < b.name
  end)
  for i = #rows, n + 1, -1 do rows[i] = nil end
  return rows
end

local function from_breakdown(list, total, n)
  local by = {}
  for _, e in ipairs(list or {}) do by[e.name] = { cost = e.cost, requests = e.requests } end
  return ranked(by, total, n)
end

-- The call that explains one day of the workspace or a department.
local function day_call(scope, day)
  local d = date_of(day)
  if scope.kind == "department" then return { "collector.costs", { from = d, to = d, department_id = scope.id } } end
  return { "analytics.costs", { from = d, to = d } }
end

-- What drove a day from its costs breakdown: { models = {...}, agents = {...} }.
local function from_costs(data, spend, n)
  local b = breakdowns(data)
  return { models = from_breakdown(b.models, spend, n), agents = from_breakdown(b.agents, spend, n) }
end

-- What drove one day of an agent or member, from its request logs: { models = {...},
-- agents = {...} (a member's) }, and the number of calls it took.
local function drivers(client, scope, day, spend, n)
  local d = date_of(day)
  local by_model, by_agent, rows = {}, {}, 0
  local params = { from = d, to = d, limit = 200, [scope.kind .. "_id"] = scope.id }
  for row, rerr in client.collector:each_logs(params) do
    if row == false then return nil, rerr end
    rows = rows + 1
    local cost = usd(row)
    local model = tostring(pick(row, { "model", "modelId" }) or "?")
    by_model[model] = by_model[model] or { cost = 0, requests = 0 }
    by_model[model].cost = by_model[model].cost + cost
    by_model[model].requests = by_model[model].requests + 1
    local agent = pick(row, { "agent_id", "agentId" })
    if agent and scope.kind == "member" then
      by_agent[agent] = by_agent[agent] or { cost = 0, requests = 0 }
      by_agent[agent].cost = by_agent[agent].cost + cost
      by_agent[agent].requests = by_agent[agent].requests + 1
    end
  end
  local agents = scope.kind == "member" and ranked(by_agent, spend, n) or nil
  return { models = ranked(by_model, spend, n), agents = agents }, math.floor(rows / 200) + 1
end

--- Days of unusual spend.
-- @tparam Client client a client (PAT or JWT)
-- @tparam[opt] table opts `days` (the window, today included), `baseline` (trailing
--   days), `threshold` (score, > 0), one of `agent_id`, `member_id`, `department_id`,
--   `explain` (anomalies whose drivers are fetched, 0 for none), `top` (drivers per
--   list), `now` (seconds since the epoch); limits and defaults: `anomalies.OPTIONS`
-- @treturn table `{from, to, days, baseline, threshold, method, scope = {kind, id},
--   series = {{date, cost}}, items = {{date, cost, expected, delta, delta_pct, score,
--   severity, direction, drivers = {models = {{name, cost, requests, share_pct}},
--   agents = {...}}}}, calls}`; items in date order
-- @return[2] nil
-- @return[2] table error (`validation` before any request for bad options)
function anomalies.report(client, opts)
  opts = options.check(OPTIONS, opts)
  local days, base, explain, n, err
  days, err = options.value(OPTIONS, opts, "days")
  if days then base, err = options.value(OPTIONS, opts, "baseline") end
  if base then explain, err = options.value(OPTIONS, opts, "explain") end
  if explain then n, err = options.value(OPTIONS, opts, "top") end
  if not n then return nil, err end
  local threshold = options.value(OPTIONS, opts, "threshold")
  if not (threshold > 0 and threshold < math.huge) then
    return nil, errors.new("validation", "threshold must be a positive number", { field = "threshold" })
  end
  local scope = { kind = "workspace" }
  for _, k in ipairs({ "agent", "member", "department" }) do
    if opts[k .. "_id"] then scope = { kind = k, id = opts[k .. "_id"] } end
  end
  local t = today(opts.now)
  local from_day, first_day = t - days + 1, t - days + 1 - base
  local params = { from = date_of(first_day), to = date_of(t), agent_id = opts.agent_id,
    member_id = opts.member_id, department_id = opts.department_id }
  local usage
  usage, err = client.analytics:usage(params)
  if usage == nil then return nil, err end
  local calls = 1
  local by_day = {}
  for _, row in ipairs(list_of(usage.series or usage, { "series", "items", "data" })) do
    local d = day_of(pick(row, { "date", "day" }))
    if d then by_day[d] = (by_day[d] or 0) + usd(row) end
  end
  local series, items = {}, {}
  for d = from_day, t do
    local x = by_day[d] or 0
    series[#series + 1] = { date = date_of(d), cost = x }
    local window = {}
    for b = d - base, d - 1 do window[#window + 1] = by_day[b] or 0 end
    local score, m = anomalies.score(x, window)
    local sev = anomalies.severity(score, threshold)
    if sev then
      items[#items + 1] = { date = date_of(d), day = d, cost = x, expected = m, delta = x - m,
        delta_pct = m > 0 and (x - m) / m * 100 or nil, score = score, severity = sev,
        direction = score > 0 and "spike" or "drop" }
    end
  end
  -- explain the most severe first, then report in date order
  local order = {}
  for i, it in ipairs(items) do order[i] = it end
  table.sort(order, function(a, b) return math.abs(a.score) > math.abs(b.score) end)
  local count = math.min(explain, #order)
  if scope.kind == "agent" or scope.kind == "member" then
    for i = 1, count do
      local it = order[i]
      local dr, used = drivers(client, scope, it.day, it.cost, n)
      if dr == nil then return nil, used end
      it.drivers = dr
      calls = calls + used
    end
  elseif count > 0 then
    local batch = {}
    for i = 1, count do batch[i] = day_call(scope, order[i].day) end
    local got
    got, err = common.together(client, batch)
    if not got then return nil, err end
    for i = 1, count do order[i].drivers = from_costs(got[i], order[i].cost, n) end
    calls = calls + count
  end
  for _, it in ipairs(items) do it.day = nil end
  return { from = date_of(from_day), to = date_of(t), days = days, baseline = base, threshold = threshold,
    method = "robust z-score: (spend - median) / (1.4826 * MAD) over the trailing baseline", scope = scope,
    series = series, items = items, calls = calls }
end

return anomalies
