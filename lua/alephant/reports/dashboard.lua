--- The `dashboard` report (`alephant.reports.dashboard`): the workspace on one screen:
-- the overview KPIs of the billing period, the rolling 24 hours (KPIs, top models, top
-- keys) and the 7-day sparklines of every metric.
--
-- Calls: exactly 3 (`analytics.overview`, `analytics.live_24h`, `analytics.sparklines`
-- with `metrics = "all"`), sent together (`client:batch`). Needs a personal access token
-- or a JWT (the core refuses a virtual key before sending).
-- @module alephant.reports.dashboard
local fields = require "alephant.reports.fields"
local common = require "alephant.reports.common"
local options = require "alephant.reports.options"

local num, pick, usd, list_of = fields.num, fields.pick, fields.usd, fields.list_of

-- The options: their one declaration (`alephant.reports.options`), read by the command line too.
local OPTIONS = options.declare("dashboard", {
  { name = "top", type = "integer", min = 1, max = 10, default = 5, help = "rows of each 24-hour top list" },
})

local SPARK_METRICS = { "spend", "requests", "tokens", "success", "latency" }

-- A top list of live-24h with shares of the 24-hour cost.
local function top(list, total, key_fields)
  local rows = {}
  for _, item in ipairs(list_of(list)) do
    local cost = usd(item)
    rows[#rows + 1] = { id = pick(item, { "id", "model" }), name = tostring(pick(item, key_fields) or "?"),
      cost = cost, requests = num(pick(item, fields.REQUESTS)), share_pct = total > 0 and cost / total * 100 or 0 }
  end
  table.sort(rows, function(a, b) return a.cost > b.cost end)
  return rows
end

--- The dashboard.
-- @tparam Client client a client (PAT or JWT)
-- @tparam[opt] table opts `top` (rows of each 24-hour top list; limits and default: `OPTIONS`
--   above, `alephant.reports.options.of("dashboard")`)
-- @treturn table `{overview = {period, total_cost, total_requests, total_tokens,
--   success_rate, avg_latency_ms, active_virtual_keys, total_virtual_keys, total_agents,
--   total_members, total_departments}, live = {from, to, cost, requests, tokens,
--   success_rate, avg_latency_ms, top_models = {{name, cost, requests, share_pct}},
--   top_keys = {...}}, sparklines = {from, to, spend = {...}, requests, tokens, success,
--   latency}, items = {{section, metric, value}}, calls = 3}`
-- @return[2] nil
-- @return[2] table error
local function dashboard(client, opts)
  opts = options.check(OPTIONS, opts)
  local n, err = options.value(OPTIONS, opts, "top")
  if not n then return nil, err end
  local got
  got, err = common.together(client, { { "analytics.overview" }, { "analytics.live_24h", { limit = n } },
    { "analytics.sparklines", { metrics = "all" } } })
  if not got then return nil, err end
  local overview, live, spark = got[1], got[2], got[3]

  local period = type(overview.period) == "table" and overview.period or {}
  local o = {
    from = period.from, to = period.to,
    total_cost = usd({ cost = pick(overview, { "totalCost", "total_cost", "cost" }),
      costCents = pick(overview, { "totalCostCents", "total_cost_cents" }) }),
    total_requests = num(pick(overview, { "totalRequests", "total_requests", "requests" })),
    total_tokens = num(pick(overview, { "totalTokens", "total_tokens", "tokens" })),
    success_rate = num(pick(overview, { "successRate", "success_rate" })),
    avg_latency_ms = num(pick(overview, { "avgLatencyMs", "avg_latency_ms" })),
    active_virtual_keys = num(pick(overview, { "activeVirtualKeys", "active_virtual_keys" })),
    total_virtual_keys = num(pick(overview, { "totalVirtualKeys", "total_virtual_keys" })),
    total_agents = num(pick(overview, { "totalAgents", "total_agents" })),
    total_members = num(pick(overview, { "totalMembers", "total_members" })),
    total_departments = num(pick(overview, { "totalDepartments", "total_departments" })),
  }
  local summary = type(live.summary) == "table" and live.summary or live
  local window = type(live.window) == "table" and live.window or {}
  local l = {
    from = window.from, to = window.to, cost = usd(summary),
    requests = num(pick(summary, fields.REQUESTS)), tokens = num(pick(summary, { "tokens", "totalTokens" })),
    success_rate = num(pick(summary, { "successRate", "success_rate" })),
    avg_latency_ms = num(pick(summary, { "avgLatencyMs", "avg_latency_ms" })),
  }
  l.top_models = top(pick(live, { "topModels", "top_models" }), l.cost, { "model", "name", "id" })
  l.top_keys = top(pick(live, { "topKeys", "top_keys" }), l.cost, { "label", "name", "id" })
  local sp_period = type(spark.period) == "table" and spark.period or {}
  local s = { from = sp_period.from, to = sp_period.to }
  for _, m in ipairs(SPARK_METRICS) do
    local values = {}
    for i, v in ipairs(type(spark[m]) == "table" and spark[m] or {}) do values[i] = num(v) or 0 end
    s[m] = values
  end
  local items = {}
  for _, k in ipairs({ "total_cost", "total_requests", "total_tokens", "success_rate", "avg_latency_ms",
    "active_virtual_keys", "total_agents", "total_members", "total_departments" }) do
    items[#items + 1] = { section = "overview", metric = k, value = o[k] }
  end
  for _, k in ipairs({ "cost", "requests", "tokens", "success_rate", "avg_latency_ms" }) do
    items[#items + 1] = { section = "live_24h", metric = k, value = l[k] }
  end
  return { overview = o, live = l, sparklines = s, items = items, calls = 3 }
end

return dashboard
