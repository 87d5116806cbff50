--- The `compare` report (`alephant.reports.compare`): the workspace, or one agent,
-- member or department, over two periods side by side, with the change of each metric.
--
-- Calls: 2 `analytics.usage` (one per period, with the scope), plus 2 `analytics.models`
-- when the comparison is workspace-wide (the models side by side; that route takes no
-- scope), all sent together (`client:batch`).
-- @module alephant.reports.compare
local core = require "alephant.core"
local errors = require "alephant.errors"
local dates = require "alephant.reports.dates"
local fields = require "alephant.reports.fields"
local common = require "alephant.reports.common"
local options = require "alephant.reports.options"

local date_of, day_of, today = dates.date_of, dates.day_of, dates.today
local num, pick, usd, list_of = fields.num, fields.pick, fields.usd, fields.list_of

-- Totals and the daily series of an analytics.usage answer.
local function totals(usage)
  local t = { cost = 0, requests = 0, tokens = 0, errors = 0 }
  local daily = {}
  for _, row in ipairs(list_of(usage.series or usage, { "series", "items", "data" })) do
    local c = usd(row)
    t.cost = t.cost + c
    t.requests = t.requests + (num(pick(row, fields.REQUESTS)) or 0)
    t.tokens = t.tokens + (num(pick(row, { "tokens", "totalTokens" })) or 0)
    t.errors = t.errors + (num(pick(row, { "errors", "errorCount", "error_count" })) or 0)
    daily[#daily + 1] = { date = pick(row, { "date", "day" }), cost = c }
  end
  t.cost_per_request = t.requests > 0 and t.cost / t.requests or nil
  t.error_rate_pct = t.requests > 0 and t.errors / t.requests * 100 or nil
  return t, daily
end

local function change(cur, prev)
  if cur == nil or prev == nil then return nil, nil end
  return cur - prev, prev ~= 0 and (cur - prev) / math.abs(prev) * 100 or nil
end

-- The options: their one declaration (`alephant.reports.options`), read by the command line too.
local OPTIONS = {
  { name = "from", type = "date", help = "first day of the period (default: the last 7 days)" },
  { name = "to", type = "date", help = "last day of the period" },
  { name = "previous_from", type = "date", help = "first day to compare with (default: as many days before)" },
  { name = "previous_to", type = "date", help = "last day to compare with" },
}
for _, o in ipairs(options.SCOPE) do OPTIONS[#OPTIONS + 1] = o end
OPTIONS[#OPTIONS + 1] = { name = "now", type = "number", cli = false, help = "seconds since the epoch" }
OPTIONS = options.declare("compare", OPTIONS)

local METRICS = { "cost", "requests", "tokens", "errors", "error_rate_pct", "cost_per_request" }

--- Two periods side by side.
-- @tparam Client client a client (PAT or JWT)
-- @tparam[opt] table opts `from`, `to` (the period, dates; default the last 7 days), `previous_from`,
--   `previous_to` (the period to compare with; default: as many days just before),
--   one of `agent_id`, `member_id`, `department_id`
-- @treturn table `{scope = {kind, id}, current = {from, to, days}, previous = {...},
--   items = {{metric, current, previous, delta, delta_pct}}, daily = {current = {{date,
--   cost}}, previous = {...}}, models = {{name, current, previous, delta, delta_pct}}
--   (workspace only), calls}`
-- @return[2] nil
-- @return[2] table error (`validation` before any request for a bad window or scope)
local function compare(client, opts)
  opts = options.check(OPTIONS, opts)
  local from, to = opts.from, opts.to
  if from == nil and to == nil then
    local t = today(opts.now)
    from, to = date_of(t - 6), date_of(t)
  end
  local ok, err = core.validate_date_range(from, to, "from", "to")
  if not ok then return nil, err end
  local a, b = day_of(from), day_of(to)
  local len = b - a + 1
  local pfrom, pto = opts.previous_from, opts.previous_to
  if pfrom == nil and pto == nil then pfrom, pto = date_of(a - len), date_of(a - 1) end
  ok, err = core.validate_date_range(pfrom, pto, "previous_from", "previous_to")
  if not ok then return nil, err end
  if pfrom == nil then
    return nil, errors.new("validation", "previous_from and previous_to go together", { field = "previous_from" })
  end
  local scope = { kind = "workspace" }
  for _, k in ipairs({ "agent", "member", "department" }) do
    if opts[k .. "_id"] then scope = { kind = k, id = opts[k .. "_id"] } end
  end
  local function usage(f, t2)
    return { "analytics.usage", { from = f, to = t2, agent_id = opts.agent_id, member_id = opts.member_id,
      department_id = opts.department_id } }
  end
  local calls = { usage(from, to), usage(pfrom, pto) }
  if scope.kind == "workspace" then
    calls[3] = { "analytics.models", { from = from, to = to } }
    calls[4] = { "analytics.models", { from = pfrom, to = pto } }
  end
  local got
  got, err = common.together(client, calls)
  if not got then return nil, err end
  local cur_u, prev_u = got[1], got[2]
  local cur, cur_daily = totals(cur_u)
  local prev, prev_daily = totals(prev_u)
  local items = {}
  for _, m in ipairs(METRICS) do
    local d, dp = change(cur[m], prev[m])
    items[#items + 1] = { metric = m, current = cur[m], previous = prev[m], delta = d, delta_pct = dp }
  end
  local models
  if scope.kind == "workspace" then
    local cm, pm = got[3], got[4]
    local by = {}
    local function add(data, key)
      for _, e in ipairs(list_of(data, { "models", "items", "data" })) do
        local name = tostring(pick(e, { "model", "id", "name" }) or "?")
        by[name] = by[name] or { name = name, current = 0, previous = 0 }
        by[name][key] = by[name][key] + usd(e)
      end
    end
    add(cm, "current")
    add(pm, "previous")
    models = {}
    for _, row in pairs(by) do
      row.delta, row.delta_pct = change(row.current, row.previous)
      models[#models + 1] = row
    end
    table.sort(models, function(x, y)
      if x.current ~= y.current then return x.current > y.current end
      return x.name < y.name
    end)
  end
  local pa, pb = day_of(pfrom), day_of(pto)
  return { scope = scope, current = { from = from, to = to, days = len },
    previous = { from = pfrom, to = pto, days = pb - pa + 1 }, items = items,
    daily = { current = cur_daily, previous = prev_daily }, models = models, calls = #calls }
end

return compare
