--- Reports that answer questions in one call: what did we spend and on what
-- (`costs`), who is near a budget (`budgets`), which keys sit idle (`idle_keys`).
-- Each takes a client and options and returns a plain table (or `nil, err` like any
-- call); nothing is printed. The `alephant report ...` command renders them.
--
--     local reports = require "alephant.reports"
--     local r = assert(reports.costs(client, { from = "2026-11-01", to = "2026-11-27" }))
--     print(r.total, r.change_pct, r.top.agents[1].name)
--
-- Money is in USD (Lua numbers), percentages are 0..100 (`*_pct`), dates are UTC
-- calendar days `YYYY-MM-DD`. Field names of the API vary (reference section 3.4: `id`
-- or `entityId`, `name` or `label`, `cost` or `totalCost`); every one is read defensively.
-- @module alephant.reports
local core = require "alephant.core"
local errors = require "alephant.errors"

local reports = {}

-- ---------------------------------------------------------------- dates ----
-- Day numbers (days since 1970-01-01) without the local time zone (H. Hinnant's algorithm).
-- Floor division (no // operator on LuaJIT).
local function idiv(a, b) return math.floor(a / b) end

local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = idiv((y >= 0 and y or y - 399), 400)
  local yoe = y - era * 400
  local doy = idiv(153 * (m + (m > 2 and -3 or 9)) + 2, 5) + d - 1
  local doe = yoe * 365 + idiv(yoe, 4) - idiv(yoe, 100) + doy
  return era * 146097 + doe - 719468
end

local function date_of(z)
  z = z + 719468
  local era = idiv((z >= 0 and z or z - 146096), 146097)
  local doe = z - era * 146097
  local yoe = idiv(doe - idiv(doe, 1460) + idiv(doe, 36524) - idiv(doe, 146096), 365)
  local doy = doe - (365 * yoe + idiv(yoe, 4) - idiv(yoe, 100))
  local mp = idiv((5 * doy + 2), 153)
  local d = doy - idiv((153 * mp + 2), 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return string.format("%04d-%02d-%02d", y, m, d)
end

-- The day of "YYYY-MM-DD..." (a date or an ISO datetime), or nil.
local function day_of(s)
  if type(s) ~= "string" then return nil end
  local y, m, d = s:match("^(%d%d%d%d)-(%d%d)-(%d%d)")
  if not y then return nil end
  return days_from_civil(tonumber(y), tonumber(m), tonumber(d))
end

local function today(now)
  local t = os.date("!*t", now or os.time())
  return days_from_civil(t.year, t.month, t.day)
end

-- ------------------------------------------------------- defensive reads ----
local function num(v)
  if type(v) == "number" and v == v then return v end
  if type(v) == "string" then return tonumber(v) end
  return nil
end

-- The first of `keys` that `t` has (JSON null counts as absent).
local function pick(t, keys)
  if type(t) ~= "table" then return nil end
  for _, k in ipairs(keys) do
    local v = t[k]
    if v ~= nil and v ~= core.null then return v end
  end
  return nil
end

local ID = { "id", "entityId", "entity_id" }
local NAME = { "name", "label", "displayName", "display_name", "model", "entityName" }
local REQUESTS = { "requests", "totalRequests", "requestCount", "request_count", "total_requests" }
local LAST = { "lastUsed", "lastRequestAt", "last_used", "lastUsedAt", "last_used_at" }

-- USD of an item: cost|totalCost|spend (USD), else cents.
local function usd(item)
  local c = num(pick(item, { "cost", "totalCost", "total_cost", "spend" }))
  if c then return c end
  local cents = num(pick(item, { "costCents", "cost_cents", "totalCostCents", "total_cost_cents" }))
  return cents and cents / 100 or 0
end

-- A list inside a payload: the payload itself, or the list under a usual key.
local function list_of(data, keys)
  if type(data) ~= "table" then return {} end
  if data[1] ~= nil then return data end
  for _, k in ipairs(keys or { "items", "data", "rows" }) do
    if type(data[k]) == "table" then return data[k] end
  end
  return {}
end

local function entry(item)
  local id = pick(item, ID)
  return {
    id = id ~= nil and tostring(id) or nil,
    name = tostring(pick(item, NAME) or id or "?"),
    cost = usd(item),
    requests = num(pick(item, REQUESTS)),
    last_used = pick(item, LAST),
  }
end

local DIMENSION = { agent = "agents", agents = "agents", member = "members", members = "members",
  department = "departments", departments = "departments", model = "models", models = "models",
  master_key = "master_keys", master_keys = "master_keys" }

-- analytics.costs breakdowns by dimension: { agents = {entry...}, ... }. Either a list
-- of {dimension, items} or an object keyed by dimension.
local function breakdowns(data)
  local out = {}
  local b = type(data) == "table" and (data.breakdown or data.breakdowns)
  if type(b) ~= "table" then return out end
  local function add(dim, items)
    local key = DIMENSION[dim]
    if not key then return end
    out[key] = out[key] or {}
    for _, item in ipairs(list_of(items)) do out[key][#out[key] + 1] = entry(item) end
  end
  if b[1] ~= nil then
    for _, group in ipairs(b) do
      if type(group) == "table" then add(pick(group, { "dimension", "name", "type" }), group.items or group.data) end
    end
  else
    for dim, items in pairs(b) do add(dim, items) end
  end
  return out
end

-- -------------------------------------------------------------- options ----
local function check_opts(fn, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error(("alephant.reports.%s: options must be a table"):format(fn), 3) end
  for k, v in pairs(opts) do
    local want = known[k]
    if not want then
      local names = {}
      for n in pairs(known) do names[#names + 1] = n end
      table.sort(names)
      error(("alephant.reports.%s: unknown option '%s' (known: %s)"):format(fn, tostring(k),
        table.concat(names, ", ")), 3)
    end
    if type(v) ~= want then error(("alephant.reports.%s: option '%s' must be a %s"):format(fn, k, want), 3) end
  end
  return opts
end

local function check(ok, err)
  if ok then return true end
  return nil, err
end

local ONE_WINDOW = "report costs takes one window: from/to, days or period"
local PERIOD_DAYS = { ["24h"] = 1, ["7d"] = 7, ["30d"] = 30 }

-- Scans a list endpoint, page after page (200 a page), reporting progress.
local function scan(client, group, params, what, progress)
  local out = {}
  local p = { page_size = 200 }
  for k, v in pairs(params or {}) do p[k] = v end
  for item, err in client[group]:each(p) do
    if item == false then return nil, err end
    out[#out + 1] = item
    if progress then progress(what, #out, false) end
  end
  if progress then progress(what, #out, true) end
  return out
end

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

-- ---------------------------------------------------------------- costs ----
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
    local ok, err = core.validate_integer(opts.days, "days", 1, 366)
    if not ok then return nil, err end
    if opts.period then
      return nil, errors.new("validation", ONE_WINDOW, { field = "days" })
    end
    return { from = t - opts.days + 1, to = t }
  end
  local period = opts.period or "30d"
  if period == "billing_cycle" then return { billing = true } end
  if not PERIOD_DAYS[period] then
    return nil, errors.new("validation",
      ("period must be one of 24h, 7d, 30d, billing_cycle, got \"%s\""):format(period), { field = "period" })
  end
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
  if not costs then
    costs, err = call("analytics", "costs", { from = from, to = to })
    if costs == nil then return nil, err end
  end
  local usage, prev_usage, models
  usage, err = call("analytics", "usage", { from = from, to = to })
  if usage == nil then return nil, err end
  prev_usage, err = call("analytics", "usage", { from = prev_from, to = prev_to })
  if prev_usage == nil then return nil, err end
  models, err = call("analytics", "models", { from = from, to = to })
  if models == nil then return nil, err end

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
  local top = opts.top or 5
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
    return nil, errors.new("validation", "report costs with a virtual key takes a period (24h, 7d, 30d, "
      .. "billing_cycle), not from/to or days: the Cockpit API has no date windows", { field = opts.from and "from" or
      opts.to and "to" or "days" })
  end
  local period = opts.period or "30d"
  local ok, err = check(core.validate_enum("period", period, "period"))
  if not ok then return nil, err end
  local summary, daily_data, by_model, scope, meta
  summary, err, meta = client.cockpit:usage_summary{ period = period }
  if summary == nil then return nil, err end
  local degraded = meta and meta.degraded or false
  daily_data, err = client.cockpit:daily_costs{ period = period }
  if daily_data == nil then return nil, err end
  by_model, err = client.cockpit:cost_by_model{ period = period }
  if by_model == nil then return nil, err end
  scope, err = client.cockpit:scope()
  if scope == nil then return nil, err end
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
    top = { models = ranked(models, total, opts.top or 5, "(no model reported)") },
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
--
-- @tparam Client client a client
-- @tparam[opt] table opts `from`, `to` (a window of UTC dates, both or neither), or
--   `days` (1..366, ending today), or `period` (`24h`, `7d`, `30d` (default),
--   `billing_cycle`); `top` (rows per dimension, default 5); `now` (seconds since the
--   epoch, for "today")
-- @treturn table `{source, workspace_id, currency, window = {from, to, days},
--   previous = {from, to, total}, total, change_pct, change_reason, daily = {{date, cost,
--   requests, tokens}, ...}, top = {agents, members, departments, models}, degraded}`;
--   each `top` list (empty when the API sent no such breakdown) has rows
--   `{kind = "item"|"others"|"unattributed", rank, id, name, cost, share_pct, requests}`
--   whose shares add up to 100 (`unattributed` is the spend the dimension does not
--   cover, e.g. members' spend in the agents list). `change_pct` is nil when the
--   previous window spent nothing (`change_reason = "baseline_zero"`).
-- @return[2] nil
-- @return[2] table error (`validation` before any request for a bad window)
function reports.costs(client, opts)
  opts = check_opts("costs", opts, { from = "string", to = "string", days = "number", period = "string",
    top = "number", now = "number" })
  if opts.top then
    local ok, err = core.validate_integer(opts.top, "top", 1, 100)
    if not ok then error("alephant.reports.costs: " .. err.message, 2) end
  end
  if client:token_kind() == "virtual_key" then return cockpit_costs(client, opts) end
  return workspace_costs(client, opts)
end

-- -------------------------------------------------------------- budgets ----
local function budget_row(kind, item, spent, budget, extra)
  local row = { kind = kind, id = item.id, name = item.name, spent = spent, budget = budget,
    used_pct = budget > 0 and spent / budget * 100 or nil }
  for k, v in pairs(extra or {}) do row[k] = v end
  return row
end

local function cents_or_usd(item, cents_keys, usd_keys)
  local c = num(pick(item, cents_keys))
  if c then return c / 100 end
  return num(pick(item, usd_keys))
end

local function workspace_budgets(client, opts)
  local progress = opts.progress
  local rows, checked = {}, 0
  local function consider(row)
    if row.budget and row.budget > 0 then
      checked = checked + 1
      rows[#rows + 1] = row
    end
  end

  local keys, err = scan(client, "virtual_keys", nil, "virtual keys", progress)
  if not keys then return nil, err end
  for _, k in ipairs(keys) do
    local status = pick(k, { "status" })
    if status ~= "revoked" and status ~= "expired" then
      local e = entry(k)
      e.name = tostring(pick(k, { "label", "name", "keyPrefix", "key_prefix" }) or e.id)
      local budget = cents_or_usd(k, { "budgetCents", "budget_cents" }, { "budget" })
      local spent = cents_or_usd(k, { "spentCents", "spent_cents" }, { "spent" }) or 0
      if budget then
        consider(budget_row("virtual_key", e, spent, budget, { status = status,
          window = pick(k, { "budgetWindow", "budget_window" }), action = pick(k, { "budgetAction", "budget_action" }),
          basis = "lifetime" }))
      end
    end
  end

  -- spend of agents, members and departments over the current billing period
  local costs
  costs, err = client.analytics:costs()
  if costs == nil then return nil, err end
  local period = type(costs) == "table" and costs.period or nil
  local spend = {}
  for _, list in pairs(breakdowns(costs)) do
    for _, e in ipairs(list) do
      if e.id then spend[e.id] = e.cost end
    end
  end
  local sources = {
    { group = "members", kind = "member", what = "members", cents = { "monthlyBudgetCents", "monthly_budget_cents",
      "budgetCents", "budget_cents" } },
    { group = "agents", kind = "agent", what = "agents", cents = { "budgetCents", "budget_cents" } },
    { group = "departments", kind = "department", what = "departments", cents = { "budgetCents", "budget_cents" } },
  }
  for _, s in ipairs(sources) do
    local items
    items, err = scan(client, s.group, nil, s.what, progress)
    if not items then return nil, err end
    for _, item in ipairs(items) do
      local e = entry(item)
      local budget = cents_or_usd(item, s.cents, { "budget", "monthlyBudget" })
      if budget then
        local spent = e.id and spend[e.id] or num(pick(item, { "periodCost", "period_cost" })) or 0
        consider(budget_row(s.kind, e, spent, budget, { status = pick(item, { "status" }),
          action = pick(item, { "budgetAction", "budget_action" }), basis = "billing_period" }))
      end
    end
  end

  local ws
  ws, err = client.analytics:budget_status()
  if ws == nil then return nil, err end
  if type(ws) == "table" then
    local budget = num(pick(ws, { "budget" })) or cents_or_usd(ws, { "budgetCents", "budget_cents" }, {})
    local spent = num(pick(ws, { "spent" })) or cents_or_usd(ws, { "spentCents", "spent_cents" }, {}) or 0
    if budget then
      consider(budget_row("workspace", { id = client.workspace_id, name = "(workspace)" }, spent, budget,
        { action = pick(ws, { "exceededAction", "exceeded_action" }), status = pick(ws, { "status" }),
          basis = "billing_period" }))
    end
    period = period or ws.period
  end
  return rows, checked, period
end

local function cockpit_budgets(client, opts)
  local params = opts.period and { period = opts.period } or nil
  local status, err = client.cockpit:budget_status(params)
  if status == nil then return nil, err end
  local scope
  scope, err = client.cockpit:scope()
  if scope == nil then return nil, err end
  local rows, checked = {}, 0
  local key = type(scope.virtual_key) == "table" and scope.virtual_key or {}
  local entity = type(scope.entity) == "table" and scope.entity or nil
  local function add(kind, who, b, extra)
    if type(b) ~= "table" then return end
    local budget = cents_or_usd(b, { "budget_cents", "budgetCents" }, { "budget" })
    if not budget or budget <= 0 then return end
    checked = checked + 1
    local spent = cents_or_usd(b, { "spent_cents", "spentCents" }, { "spent" }) or 0
    rows[#rows + 1] = budget_row(kind, who, spent, budget, extra)
  end
  local vkb = status.virtual_key_budget
  add("virtual_key", { id = key.id, name = key.label or key.prefix }, vkb, type(vkb) == "table" and {
    window = vkb.budget_window, action = vkb.budget_action, resets_at = vkb.resets_at, basis = "period" } or nil)
  if entity then
    add(entity.type or "entity", { id = entity.id, name = entity.name }, status.entity_budget, { basis = "period" })
  end
  return rows, checked, status.period
end

--- Virtual keys and entities (agents, members, departments, the workspace) whose spend
-- is at or above a threshold of their budget, the most used first.
--
-- With a personal access token or a JWT: every virtual key from `virtual_keys.list`
-- (`spentCents` against `budgetCents`; the API reports a key's lifetime spend, so
-- `basis = "lifetime"`; revoked and expired keys are skipped), members, agents and
-- departments (their spend in the current billing period from `analytics.costs`) and
-- the workspace (`analytics.budget_status`). With a virtual key: the key and its entity
-- from `cockpit.budget_status`. Entities without a budget are not counted.
--
-- @tparam Client client a client
-- @tparam[opt] table opts `threshold` (a fraction of the budget, default 0.8),
--   `period` (virtual keys only: the Cockpit period of the spend), `progress`
--   (function(what, count, done) called while lists are scanned)
-- @treturn table `{threshold, period, checked, items = {{kind, id, name, spent, budget,
--   used_pct, window, action, status, basis}, ...}}`
-- @return[2] nil
-- @return[2] table error
function reports.budgets(client, opts)
  opts = check_opts("budgets", opts, { threshold = "number", period = "string", progress = "function" })
  local threshold = opts.threshold or 0.8
  if threshold ~= threshold or threshold < 0 or threshold > 100 then
    return nil, errors.new("validation", "threshold must be a fraction of the budget between 0 and 100 (0.8 = 80%)",
      { field = "threshold" })
  end
  local vk = client:token_kind() == "virtual_key"
  if opts.period and not vk then
    return nil, errors.new("validation", "period applies to a virtual key's budgets only; workspace budgets use "
      .. "the current billing period", { field = "period" })
  end
  local rows, checked, period = (vk and cockpit_budgets or workspace_budgets)(client, opts)
  if not rows then return nil, checked end
  local items = {}
  for _, r in ipairs(rows) do
    if r.used_pct and r.used_pct >= threshold * 100 then items[#items + 1] = r end
  end
  table.sort(items, function(a, b)
    if a.used_pct ~= b.used_pct then return a.used_pct > b.used_pct end
    return tostring(a.name) < tostring(b.name)
  end)
  return {
    source = vk and "cockpit" or "workspace",
    threshold = threshold,
    period = type(period) == "table" and { from = period.from, to = period.to } or nil,
    checked = checked,
    items = items,
  }
end

-- ------------------------------------------------------------ idle keys ----
--- Active virtual keys with no usage in the last `days` days.
--
-- A key's own `lastUsedAt` (or `last_used_at`) decides when the API sends it. When it
-- does not, the key's agent or member decides: idle when that entity has no requests
-- and no cost in the window (`analytics.costs`), since the API has no per-key usage
-- (reference section 7); `basis` says which rule applied (`last_used_at`, `entity`, or
-- `none` for an unbound key that was never seen in use). Needs a personal access token
-- or a JWT: a virtual key cannot list the workspace's keys.
--
-- @tparam Client client a client
-- @tparam[opt] table opts `days` (1..3650, default 30), `progress`
--   (function(what, count, done)), `now` (seconds since the epoch)
-- @treturn table `{days, from, to, checked, items = {{id, label, entity_type,
--   entity_id, entity_name, last_used, idle_days, basis, created_at}, ...}}`; keys
--   whose last use is unknown come first, then the longest idle
-- @return[2] nil
-- @return[2] table error (`auth`, before any request, for a virtual key)
function reports.idle_keys(client, opts)
  opts = check_opts("idle_keys", opts, { days = "number", progress = "function", now = "number" })
  local days = opts.days or 30
  local ok, err = core.validate_integer(days, "days", 1, 3650)
  if not ok then return nil, err end
  if client:token_kind() == "virtual_key" then
    return nil, errors.new("auth", "report idle-keys lists the workspace's virtual keys: it needs a personal "
      .. "access token or a JWT (a virtual key sees only itself)", { field = "token" })
  end
  local t = today(opts.now)
  local from_day = t - days + 1
  local from, to = date_of(from_day), date_of(t)
  local costs
  costs, err = client.analytics:costs{ from = from, to = to }
  if costs == nil then return nil, err end
  local active = {}
  for _, list in pairs(breakdowns(costs)) do
    for _, e in ipairs(list) do
      if e.id and (e.cost > 0 or (e.requests or 0) > 0) then active[e.id] = true end
    end
  end
  local keys
  keys, err = scan(client, "virtual_keys", { status = "active" }, "virtual keys", opts.progress)
  if not keys then return nil, err end
  local items, checked = {}, 0
  for _, k in ipairs(keys) do
    if pick(k, { "status" }) == "active" then
      checked = checked + 1
      local last = pick(k, { "lastUsedAt", "last_used_at" })
      local entity_id = pick(k, { "entityId", "entity_id" })
      local row = { id = pick(k, ID), label = pick(k, { "label", "name", "keyPrefix" }),
        entity_type = pick(k, { "entityType", "entity_type" }), entity_id = entity_id,
        entity_name = pick(k, { "entityName", "entity_name" }), created_at = pick(k, { "createdAt", "created_at" }) }
      local idle
      local last_day = day_of(last)
      if last_day then
        row.basis, row.last_used = "last_used_at", date_of(last_day)
        row.idle_days = t - last_day
        idle = last_day < from_day
      elseif entity_id then
        row.basis = "entity"
        idle = not active[tostring(entity_id)]
      else
        row.basis = "none"
        idle = true
      end
      if idle then items[#items + 1] = row end
    end
  end
  table.sort(items, function(a, b)
    if (a.idle_days or math.huge) ~= (b.idle_days or math.huge) then
      return (a.idle_days or math.huge) > (b.idle_days or math.huge)
    end
    return tostring(a.label) < tostring(b.label)
  end)
  return { days = days, from = from, to = to, checked = checked, items = items }
end

-- Exposed for the specs and the command line.
reports._date_of, reports._day_of = date_of, day_of

return reports
