--- The `drill_down` report (`alephant.reports.drill_down`): spend from the departments
-- down to one department's members and agents and on to their models, each with its
-- share of the level above.
--
-- The window is the last `days` days (1, 7 or 30, today included): the per-agent and
-- per-member analytics routes take only these.
--
-- Calls: 1 `collector.costs` for the workspace (the department level). With a
-- `department_id`: 1 more `collector.costs` for that department (its agents and
-- members), then 1 `agents.analytics` per agent and 1 `analytics.member` per member that
-- spent in the window (their models). The two costs calls go out together, then all the
-- per-entity calls together (`client:batch`).
-- @module alephant.reports.drill_down
local dates = require "alephant.reports.dates"
local fields = require "alephant.reports.fields"
local common = require "alephant.reports.common"
local options = require "alephant.reports.options"

local date_of, today = dates.date_of, dates.today
local pick, usd, list_of, breakdowns = fields.pick, fields.usd, fields.list_of, fields.breakdowns

-- The options: their one declaration (`alephant.reports.options`), read by the command line too.
-- The days are the ones the per-agent and per-member analytics routes take.
local OPTIONS = options.declare("drill_down", {
  { name = "department_id", type = "uuid", help = "drill into this department" },
  { name = "days", type = "integer", values = { 1, 7, 30 }, default = 30, help = "the last N days" },
  { name = "top", type = "integer", min = 1, max = 50, default = 5, help = "models per agent or member" },
  { name = "now", type = "number", cli = false, help = "seconds since the epoch" },
})

local function share(part, whole) return whole > 0 and part / whole * 100 or 0 end

local function by_cost(a, b)
  if a.cost ~= b.cost then return a.cost > b.cost end
  return tostring(a.name) < tostring(b.name)
end

-- Rows {id, name, cost, requests, share_pct} of a breakdown list, shares of `whole`.
local function rows_of(list, whole)
  local rows = {}
  for _, e in ipairs(list or {}) do
    rows[#rows + 1] = { id = e.id, name = e.name, cost = e.cost, requests = e.requests,
      share_pct = share(e.cost, whole) }
  end
  table.sort(rows, by_cost)
  return rows
end

-- The models of one entity's analytics answer, shares of the entity's spend.
local function models_of(data, n)
  local rows, total = {}, 0
  for _, m in ipairs(list_of(data and data.models, { "models", "items" })) do
    local c = usd(m)
    total = total + c
    rows[#rows + 1] = { id = pick(m, { "model", "id" }), name = tostring(pick(m, { "model", "id", "name" }) or "?"),
      cost = c, requests = fields.num(pick(m, fields.REQUESTS)) }
  end
  for _, r in ipairs(rows) do r.share_pct = share(r.cost, total) end
  table.sort(rows, by_cost)
  for i = #rows, n + 1, -1 do rows[i] = nil end
  return rows
end

--- Departments → one department's members and agents → their models.
-- @tparam Client client a client (PAT or JWT)
-- @tparam[opt] table opts `department_id` (drill into it), `days`, `top` (models per
--   agent or member), `now`; rules and defaults: `OPTIONS` above (`alephant.reports.options.of("drill_down")`)
-- @treturn table `{from, to, days, total, departments = {{id, name, cost, requests,
--   share_pct}}, department = {id, name, cost, share_pct, agents = {{id, name, cost,
--   share_pct, models = {{name, cost, requests, share_pct}}}}, members = {...}} (with
--   department_id), items = {{level, department, kind, entity, model, cost, share_pct}},
--   calls}`. Shares: departments of the workspace, agents and members of their
--   department, models of their agent or member.
-- @return[2] nil
-- @return[2] table error
local function drill_down(client, opts)
  opts = options.check(OPTIONS, opts)
  local days, n, id, err
  days, err = options.value(OPTIONS, opts, "days")
  if days then n, err = options.value(OPTIONS, opts, "top") end
  if n then id, err = options.value(OPTIONS, opts, "department_id") end
  if not n or (opts.department_id and not id) then return nil, err end
  local t = today(opts.now)
  local from, to = date_of(t - days + 1), date_of(t)
  local first = { { "collector.costs", { from = from, to = to } } }
  if opts.department_id then
    first[2] = { "collector.costs", { from = from, to = to, department_id = opts.department_id } }
  end
  local got
  got, err = common.together(client, first)
  if not got then return nil, err end
  local ws, calls = got[1], #first
  local b = breakdowns(ws)
  local total = 0
  for _, e in ipairs(b.models or {}) do total = total + e.cost end
  local dsum = 0
  for _, e in ipairs(b.departments or {}) do dsum = dsum + e.cost end
  total = math.max(total, dsum)
  local r = { from = from, to = to, days = days, total = total, departments = rows_of(b.departments, total) }
  local items = {}
  for _, d in ipairs(r.departments) do
    items[#items + 1] = { level = 1, department = d.name, kind = "department", entity = d.name, cost = d.cost,
      share_pct = d.share_pct }
  end
  if opts.department_id then
    local dep = { id = opts.department_id, cost = 0, share_pct = 0 }
    for _, d in ipairs(r.departments) do
      if d.id == opts.department_id then dep.name, dep.cost, dep.share_pct = d.name, d.cost, d.share_pct end
    end
    local db = breakdowns(got[2])
    dep.agents, dep.members = rows_of(db.agents, dep.cost), rows_of(db.members, dep.cost)
    local per, whose = {}, {}
    for _, kind in ipairs({ "agents", "members" }) do
      for _, e in ipairs(dep[kind]) do
        e.models = {}
        if e.cost > 0 or (e.requests or 0) > 0 then
          per[#per + 1] = kind == "agents" and { "agents.analytics", { agent_id = e.id, days = days } }
            or { "analytics.member", { member_id = e.id, days = days } }
          whose[#per] = e
        end
      end
    end
    local models
    models, err = common.together(client, per)
    if not models then return nil, err end
    calls = calls + #per
    for i, e in ipairs(whose) do e.models = models_of(models[i], n) end
    for _, kind in ipairs({ "agents", "members" }) do
      for _, e in ipairs(dep[kind]) do
        items[#items + 1] = { level = 2, department = dep.name, kind = kind:sub(1, -2), entity = e.name,
          cost = e.cost, share_pct = e.share_pct }
        for _, m in ipairs(e.models) do
          items[#items + 1] = { level = 3, department = dep.name, kind = kind:sub(1, -2), entity = e.name,
            model = m.name, cost = m.cost, share_pct = m.share_pct }
        end
      end
    end
    r.department = dep
  end
  r.items, r.calls = items, calls
  return r
end

return drill_down
