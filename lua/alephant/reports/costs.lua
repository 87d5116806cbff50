--- The `costs` report (`alephant.reports.costs`): spend for a window against the one
-- before it, top agents, members, departments and models, and the daily series.
-- @module alephant.reports.costs
local core = require "alephant.core"
local errors = require "alephant.errors"
local dates = require "alephant.reports.dates"
local fields = require "alephant.reports.fields"
local common = require "alephant.reports.common"
local options = require "alephant.reports.options"

local date_of, day_of, today = dates.date_of, dates.day_of, dates.today
local num, pick, usd, list_of, entry = fields.num, fields.pick, fields.usd, fields.list_of, fields.entry
local breakdowns, REQUESTS = fields.breakdowns, fields.REQUESTS
local together = common.together

local ONE_WINDOW = "report costs takes one window: from/to, days or period"
-- The period values are the C core's (`core.enums().period`); this table only says how
-- many days each covers, and every value but billing_cycle must have an entry.
local PERIODS = core.enums().period
local PERIOD_DAYS = { ["24h"] = 1, ["7d"] = 7, ["30d"] = 30 }
for _, p in ipairs(PERIODS) do
  assert(p == "billing_cycle" or PERIOD_DAYS[p], "alephant.reports.costs: no day count for period " .. p)
end

-- The options: their one declaration (`alephant.reports.options`), read by the command line too.
local OPTIONS = options.declare("costs", {
  { name = "from", type = "date", help = "first day of the window" },
  { name = "to", type = "date", help = "last day of the window" },
  { name = "days", type = "integer", min = 1, max = 366, help = "the last N days, today included" },
  { name = "period", type = "enum", enum = "period", values = PERIODS, default = "30d",
    help = "the only choice with a virtual key" },
  { name = "top", type = "integer", min = 1, max = 100, default = 5, help = "rows per breakdown" },
  { name = "now", type = "number", cli = false, help = "seconds since the epoch, for \"today\"" },
})

-- Ranks entries by cost: the top `n`, then "(k others)", then a row named `rest` for
-- the part of `total` no entry of this dimension accounts for (member spend is not
-- agent spend). Shares are of `total` (of the entries' sum if that is larger), so a
-- dimension's shares add up to 100.
local function ranked(entries, total, n, rest)
  table.sort(entries, function(a, b)
    if a.cost ~= b.cost then return a.cost > b.cost end
    return a.name < b.name
  end)
  local sum = 0
  for _, e in ipairs(entries) do sum = sum + e.cost end
  local base = math.max(total, sum)
  local function share(c) return base > 0 and c / base * 100 or 0 end
  local rows = {}
  for i, e in ipairs(entries) do
    if i > n then break end
    rows[#rows + 1] = { kind = "item", rank = i, id = e.id, name = e.name, cost = e.cost,
      share_pct = share(e.cost), requests = e.requests }
  end
  if #entries > n then
    local cost, requests = 0, 0
    for i = n + 1, #entries do
      cost = cost + entries[i].cost
      requests = requests + (entries[i].requests or 0)
    end
    rows[#rows + 1] = { kind = "others", name = ("(%d others)"):format(#entries - n), cost = cost,
      share_pct = share(cost), requests = requests }
  end
  if base - sum >= 0.005 then
    rows[#rows + 1] = { kind = "unattributed", name = rest, cost = base - sum,
      share_pct = share(base - sum) }
  end
  return rows
end

-- Daily entries for every day of the window (days without data count 0).
local function fill_daily(series, from_day, to_day, cents)
  local by_date = {}
  for _, d in ipairs(series) do
    local day = day_of(pick(d, { "date", "day" }))
    if day then
      by_date[day] = {
        cost = cents and (num(pick(d, { "cost_cents", "costCents" })) or 0) / 100 or usd(d),
        requests = num(pick(d, REQUESTS)) or 0,
        tokens = num(pick(d, { "tokens", "totalTokens", "total_tokens" })),
      }
    end
  end
  local out = {}
  for day = from_day, to_day do
    local d = by_date[day] or { cost = 0, requests = 0 }
    out[#out + 1] = { date = date_of(day), cost = d.cost, requests = d.requests, tokens = d.tokens }
  end
  return out
end

local function sum_cost(daily)
  local s = 0
  for _, d in ipairs(daily) do s = s + d.cost end
  return s
end

-- The change from `prev` to `cur` in percent; nil and a reason when prev is 0.
local function change(cur, prev)
  if prev == nil then return nil, "no_prev_window" end
  if prev <= 0 then return nil, "baseline_zero" end
  return (cur - prev) / prev * 100, "computed"
end

local function window_of(opts, now)
  local t = today(now)
  if opts.from ~= nil or opts.to ~= nil then
    local ok, err = core.validate_date_range(opts.from, opts.to)
    if not ok then return nil, err end
    if opts.days or opts.period then
      return nil, errors.new("validation", ONE_WINDOW, { field = "days" })
    end
    return { from = day_of(opts.from), to = day_of(opts.to) }
  end
  if opts.days ~= nil then
    local _, err = options.value(OPTIONS, opts, "days")
    if err then return nil, err end
    if opts.period then
      return nil, errors.new("validation", ONE_WINDOW, { field = "days" })
    end
    return { from = t - opts.days + 1, to = t }
  end
  local period, err = options.value(OPTIONS, opts, "period")
  if not period then return nil, err end
  if period == "billing_cycle" then return { billing = true } end
  return { from = t - PERIOD_DAYS[period] + 1, to = t }
end

local function workspace_costs(client, opts)
  local win, err = window_of(opts, opts.now)
  if not win then return nil, err end
  local degraded = false
  local function call(group, method, params)
    local data, cerr, meta = client[group][method](client[group], params)
    if data ~= nil and meta and meta.degraded then degraded = true end
    return data, cerr
  end
  local costs
  if win.billing then
    -- the server's current billing period, then the same window as any other
    costs, err = call("analytics", "costs", nil)
    if costs == nil then return nil, err end
    local p = type(costs) == "table" and costs.period or nil
    win.from, win.to = day_of(p and p.from), day_of(p and p.to)
    if not win.from or not win.to then
      return nil, errors.new("decode", "analytics.costs did not say which billing period it covers (period.from/to)",
        { endpoint = "analytics.costs" })
    end
  end
  local days = win.to - win.from + 1
  local from, to = date_of(win.from), date_of(win.to)
  local prev_from, prev_to = date_of(win.from - days), date_of(win.from - 1)
  -- the rest is independent: one batch (client:batch)
  local calls = { { "analytics.usage", { from = from, to = to } },
    { "analytics.usage", { from = prev_from, to = prev_to } }, { "analytics.models", { from = from, to = to } } }
  if not costs then table.insert(calls, 1, { "analytics.costs", { from = from, to = to } }) end
  local got, any_degraded = together(client, calls)
  if not got then return nil, any_degraded end
  degraded = degraded or any_degraded
  if not costs then costs = table.remove(got, 1) end
  local usage, prev_usage, models = got[1], got[2], got[3]

  local daily = fill_daily(list_of(usage, { "series", "data", "items" }), win.from, win.to)
  local function total_of(u, series_sum)
    local totals = type(u) == "table" and u.totals
    return totals and num(pick(totals, { "cost", "totalCost" })) or series_sum
  end
  local total = total_of(usage, sum_cost(daily))
  local prev_daily = fill_daily(list_of(prev_usage, { "series", "data", "items" }), win.from - days, win.from - 1)
  local prev_total = total_of(prev_usage, sum_cost(prev_daily))
  local change_pct, reason = change(total, prev_total)
  local b = breakdowns(costs)
  local model_entries = {}
  for _, item in ipairs(list_of(models, { "items", "models", "data" })) do
    model_entries[#model_entries + 1] = entry(item)
  end
  if #model_entries == 0 and b.models then model_entries = b.models end
  local top = opts.top or OPTIONS.by_name.top.default
  return {
    source = "workspace",
    workspace_id = client.workspace_id,
    currency = "USD",
    window = { from = from, to = to, days = days },
    previous = { from = prev_from, to = prev_to, total = prev_total },
    total = total,
    change_pct = change_pct,
    change_reason = reason,
    daily = daily,
    top = {
      agents = b.agents and ranked(b.agents, total, top, "(not by an agent)") or {},
      members = b.members and ranked(b.members, total, top, "(not by a member)") or {},
      departments = b.departments and ranked(b.departments, total, top, "(no department)") or {},
      models = ranked(model_entries, total, top, "(no model reported)"),
    },
    degraded = degraded,
  }
end

local function cockpit_costs(client, opts)
  if opts.from ~= nil or opts.to ~= nil or opts.days ~= nil then
    return nil, errors.new("validation", "report costs with a virtual key takes a period ("
      .. table.concat(PERIODS, ", ") .. "), not from/to or days: the Cockpit API has no date windows",
      { field = opts.from and "from" or opts.to and "to" or "days" })
  end
  local period, err = options.value(OPTIONS, opts, "period")
  if not period then return nil, err end
  -- four independent calls: one batch (client:batch)
  local got, degraded = together(client, { { "cockpit.usage_summary", { period = period } },
    { "cockpit.daily_costs", { period = period } }, { "cockpit.cost_by_model", { period = period } },
    { "cockpit.scope" } })
  if not got then return nil, degraded end
  local summary, daily_data, by_model, scope = got[1], got[2], got[3], got[4]
  local p = summary.period or daily_data.period or {}
  local from_day, to_day = day_of(p.from), day_of(p.to)
  local daily_list = list_of(daily_data, { "data", "items", "series" })
  if not from_day or not to_day then -- no period in the answer: the days it gave
    from_day, to_day = nil, nil
    for _, d in ipairs(daily_list) do
      local day = day_of(d.date)
      if day then
        from_day = math.min(from_day or day, day)
        to_day = math.max(to_day or day, day)
      end
    end
    from_day = from_day or today(opts.now)
    to_day = to_day or from_day
  end
  local days = to_day - from_day + 1
  local daily = fill_daily(daily_list, from_day, to_day, true)
  local cents = num(pick(summary, { "total_cost_cents", "totalCostCents" }))
  local total = cents and cents / 100 or sum_cost(daily)
  local vs = type(summary.vs_previous_period) == "table" and summary.vs_previous_period or {}
  local change_pct = num(pick(vs, { "cost_pct", "costPct" }))
  local prev_total
  if change_pct and change_pct > -100 then prev_total = total / (1 + change_pct / 100) end
  local models = {}
  for _, item in ipairs(list_of(by_model, { "data", "items" })) do models[#models + 1] = entry(item) end
  local entity = type(scope.entity) == "table" and scope.entity or nil
  return {
    source = "cockpit",
    workspace_id = type(scope.workspace) == "table" and scope.workspace.id or nil,
    entity = entity and { type = entity.type, id = entity.id, name = entity.name } or nil,
    period = period,
    currency = "USD",
    window = { from = date_of(from_day), to = date_of(to_day), days = days },
    previous = { from = date_of(from_day - days), to = date_of(from_day - 1), total = prev_total },
    total = total,
    change_pct = change_pct,
    change_reason = change_pct and "computed" or "not_reported",
    daily = daily,
    top = { models = ranked(models, total, opts.top or OPTIONS.by_name.top.default, "(no model reported)") },
    degraded = degraded or summary.degraded == true,
    message = summary.message,
  }
end

--- Spend for a window compared with the window of the same length just before it, the
-- top agents, members, departments and models with their shares, and the daily series.
--
-- With a personal access token or a JWT (workspace routes): `analytics.costs`,
-- `analytics.usage` (this window and the previous one) and `analytics.models`.
-- With a virtual key: the Cockpit routes `usage_summary`, `daily_costs`,
-- `cost_by_model` and `scope`, which cover only the key's own agent or member and take
-- a `period` instead of dates; the previous total is then derived from the server's
-- `vs_previous_period.cost_pct`, and `top` has only `models`.
-- Calls: 4, sent together in one `client:batch` (with `period = "billing_cycle"`,
-- `analytics.costs` first, then the other 3 together).
--
-- @tparam Client client a client
-- @tparam[opt] table opts `from`, `to` (a window of UTC dates, both or neither), or
--   `days` (ending today), or `period` (`24h`, `7d`, `30d`, `billing_cycle`); `top` (rows
--   per dimension); `now` (seconds since the epoch, for "today"). Limits and defaults:
--   `OPTIONS` above (`alephant.reports.options.of("costs")`)
-- @treturn table `{source, workspace_id, currency, window = {from, to, days},
--   previous = {from, to, total}, total, change_pct, change_reason, daily = {{date, cost,
--   requests, tokens}, ...}, top = {agents, members, departments, models}, degraded}`;
--   each `top` list (empty when the API sent no such breakdown) has rows
--   `{kind = "item"|"others"|"unattributed", rank, id, name, cost, share_pct, requests}`
--   whose shares add up to 100 (`unattributed` is the spend the dimension does not
--   cover, e.g. members' spend in the agents list). `change_pct` is nil when the
--   previous window spent nothing (`change_reason = "baseline_zero"`).
-- @return[2] nil
-- @return[2] table error (`validation` before any request for a bad window or `top`)
local function costs(client, opts)
  opts = options.check(OPTIONS, opts)
  local _, err = options.value(OPTIONS, opts, "top")
  if err then return nil, err end
  if client:token_kind() == "virtual_key" then return cockpit_costs(client, opts) end
  return workspace_costs(client, opts)
end


return costs
