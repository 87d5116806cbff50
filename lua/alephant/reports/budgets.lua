--- The `budgets` report (`alephant.reports.budgets`): virtual keys and entities at or
-- above a threshold of their budget.
-- @module alephant.reports.budgets
local core = require "alephant.core"
local errors = require "alephant.errors"
local fields = require "alephant.reports.fields"
local common = require "alephant.reports.common"
local options = require "alephant.reports.options"

local num, pick, entry, breakdowns, cents_or_usd = fields.num, fields.pick, fields.entry, fields.breakdowns,
  fields.cents_or_usd
local scan = common.scan

-- The options: their one declaration (`alephant.reports.options`), read by the command line too.
-- The threshold's range has its own message (a fraction, or a percentage on the command line).
local OPTIONS = options.declare("budgets", {
  { name = "threshold", type = "number", percent = true, default = 0.8, help = "fraction of the budget: 0.8 or 80%" },
  { name = "period", type = "enum", values = core.enums().period,
    help = "virtual keys only: the Cockpit period of the spend" },
  { name = "progress", type = "function", help = "function(what, count, done), called while lists are scanned" },
})

local function budget_row(kind, item, spent, budget, extra)
  local row = { kind = kind, id = item.id, name = item.name, spent = spent, budget = budget,
    used_pct = budget > 0 and spent / budget * 100 or nil }
  for k, v in pairs(extra or {}) do row[k] = v end
  return row
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
-- @tparam[opt] table opts `threshold` (a fraction of the budget), `period` (virtual keys
--   only: the Cockpit period of the spend), `progress` (function(what, count, done) called
--   while lists are scanned); defaults: `OPTIONS` above (`alephant.reports.options.of("budgets")`)
-- @treturn table `{threshold, period, checked, items = {{kind, id, name, spent, budget,
--   used_pct, window, action, status, basis}, ...}}`
-- @return[2] nil
-- @return[2] table error
local function budgets(client, opts)
  opts = options.check(OPTIONS, opts)
  local threshold = options.value(OPTIONS, opts, "threshold")
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

return budgets
