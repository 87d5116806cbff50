-- Shared building blocks: periods, parameter validation, resource views and the
-- aggregations used by the SaaS, Cockpit and Analytics handlers.
local json = require("alephant_emu.json")
local util = require("alephant_emu.util")
local store = require("alephant_emu.store")
local series = require("alephant_emu.series")

local null = json.null
local floor = math.floor
local M = {}

function M.today() return series.today() end

local function nz(v)
  if v == nil then return null end
  return v
end
M.nz = nz

---------------------------------------------------------------------------
-- Periods
---------------------------------------------------------------------------
-- Current billing cycle of a workspace: from the last anchor day (day of month)
-- up to the day before the next one.  Returns start_day, end_day.
function M.billing_cycle(ws)
  local w = store.workspace(ws)
  local anchor = (w and w.subscription and w.subscription.anchor_day) or 1
  local today = M.today()
  local y, m, d = util.civil_from_days(today)
  local function at(yy, mm)
    while mm < 1 do mm = mm + 12; yy = yy - 1 end
    while mm > 12 do mm = mm - 12; yy = yy + 1 end
    return util.days_from_civil(yy, mm, math.min(anchor, util.days_in_month(yy, mm)))
  end
  local start
  if d >= math.min(anchor, util.days_in_month(y, m)) then
    start = at(y, m)
  else
    start = at(y, m - 1)
  end
  local sy, sm = util.civil_from_days(start)
  local next_start = at(sy, sm + 1)
  return start, next_start - 1
end

M.PERIODS = { ["24h"] = 1, ["7d"] = 7, ["30d"] = 30, ["90d"] = 90 }

-- Cockpit period key -> { key, from, to } (day numbers) or nil.
function M.period(key, ws)
  local today = M.today()
  if key == "billing_cycle" then
    local s = M.billing_cycle(ws)
    return { key = key, from = s, to = today }
  end
  local n = M.PERIODS[key]
  if not n then return nil end
  return { key = key, from = today - n + 1, to = today }
end

function M.period_json(p)
  return { key = p.key, from = util.fmt_day(p.from), to = util.fmt_day(p.to) }
end

-- SaaS / Analytics-saas date pair.  Returns from, to (days) or nil, message.
-- Neither given -> current billing cycle (start .. end).
function M.date_pair(args, ws, required)
  local a, b = args.dateFrom, args.dateTo
  if type(a) == "table" or type(b) == "table" then return nil, nil, "dateFrom/dateTo given more than once" end
  if a == true or a == "" then a = nil end
  if b == true or b == "" then b = nil end
  if a == nil and b == nil then
    if required then return nil, nil, "dateFrom and dateTo are required" end
    local s, e = M.billing_cycle(ws)
    return s, e
  end
  if a == nil or b == nil then
    return nil, nil, "dateFrom and dateTo must be sent together"
  end
  local fa, fb = util.parse_day(a), util.parse_day(b)
  if not fa then return nil, nil, "dateFrom must be a valid date in YYYY-MM-DD format" end
  if not fb then return nil, nil, "dateTo must be a valid date in YYYY-MM-DD format" end
  if fa > fb then return nil, nil, "dateFrom must not be after dateTo" end
  return fa, fb
end

-- page/pageSize -> page, size or nil, message
function M.page_args(args, default_size)
  local page, size = 1, default_size or 50
  if args.page ~= nil then
    page = util.to_int(args.page)
    if not page or page < 1 then return nil, nil, "page must be an integer >= 1" end
  end
  if args.pageSize ~= nil then
    size = util.to_int(args.pageSize)
    if not size or size < 1 or size > 200 then return nil, nil, "pageSize must be an integer between 1 and 200" end
  end
  return page, size
end

function M.paginate(items, page, size)
  local out = {}
  for i = (page - 1) * size + 1, math.min(page * size, #items) do out[#out + 1] = items[i] end
  return out
end

-- At most one of agentId / memberId / departmentId; each a UUID.
-- Returns filter table or nil, message, which ("multiple"|"agentId"|...).
function M.scope_args(args, allowed)
  allowed = allowed or { "agentId", "memberId", "departmentId" }
  local f, given = {}, {}
  for _, k in ipairs(allowed) do
    local v = args[k]
    if v ~= nil and v ~= "" then
      if type(v) ~= "string" or not util.is_uuid(v) then
        return nil, k .. " must be a UUID", k
      end
      given[#given + 1] = k
      f[k] = v:lower()
    end
  end
  if #given > 1 then
    return nil, "Only one of " .. table.concat(allowed, ", ") .. " may be given (got " ..
      table.concat(given, ", ") .. ")", "multiple"
  end
  return { agent_id = f.agentId, member_id = f.memberId, department_id = f.departmentId,
    scope = given[1], scope_id = given[1] and f[given[1]] }
end

---------------------------------------------------------------------------
-- Names and views
---------------------------------------------------------------------------
function M.entity(etype, id)
  if etype == "agent" then return store.get("agents", id) end
  if etype == "member" then return store.get("members", id) end
  return nil
end

function M.entity_name(etype, id)
  local e = M.entity(etype, id)
  return e and e.display_name or nil
end

function M.dept_name(id)
  local d = type(id) == "string" and store.get("departments", id)
  return d and d.display_name or nil
end

function M.vk_status(vk)
  if vk.status == "active" and type(vk.expires_at) == "string" then
    local t = util.parse_iso(vk.expires_at)
    if t and t <= ngx.time() then return "expired" end
  end
  return vk.status
end

local function cents_of_entity(etype, id, from, to)
  if etype ~= "agent" and etype ~= "member" then return 0 end
  local t = series.totals(series.cells({ entity_type = etype, entity_id = id, from = from, to = to }))
  return t.cost_cents
end

function M.vk_view(vk)
  local spent = 0
  if type(vk.entity_type) == "string" then
    spent = cents_of_entity(vk.entity_type, vk.entity_id)
  end
  return {
    id = vk.id, label = vk.label, keyPrefix = vk.key_prefix, masterKeyId = nz(vk.master_key_id),
    entityType = nz(vk.entity_type), entityId = nz(vk.entity_id),
    entityName = nz(type(vk.entity_type) == "string" and M.entity_name(vk.entity_type, vk.entity_id) or nil),
    status = M.vk_status(vk), expiresAt = nz(vk.expires_at),
    budgetCents = nz(vk.budget_cents),
    budget = type(vk.budget_cents) == "number" and vk.budget_cents / 100 or null,
    budgetAction = nz(vk.budget_action), budgetWindow = nz(vk.budget_window),
    rateLimitRpm = nz(vk.rate_limit_rpm), allowedModels = json.array(util.copy(vk.allowed_models or {})),
    blockedModels = json.array(util.copy(vk.blocked_models or {})), rateLimitRph = nz(vk.rate_limit_rph),
    spentCents = spent, createdAt = vk.created_at, updatedAt = nz(vk.updated_at or vk.created_at),
    lastUsedAt = nz(vk.last_used_at),
  }
end

function M.agent_view(a, with_cost)
  local v = {
    id = a.id, name = a.display_name, departmentId = nz(a.department_id),
    departmentName = nz(M.dept_name(a.department_id)), status = a.status, environment = a.environment,
    source = a.source, providerId = nz(a.provider_id), modelId = nz(a.model_id),
    budgetCents = nz(a.budget_cents), description = nz(a.description), about = nz(a.about),
    createdAt = a.created_at,
  }
  if with_cost then
    local s, e = M.billing_cycle(a.workspace_id)
    local t = series.totals(series.cells({ entity_type = "agent", entity_id = a.id, from = s, to = e }))
    v.periodCost = t.cost_usd
    v.periodRequests = t.requests
    local all = series.totals(series.cells({ entity_type = "agent", entity_id = a.id }))
    v.lastRequestAt = all.last_day and util.fmt_day(all.last_day) or null
  end
  return v
end

function M.member_view(m)
  local s, e = M.billing_cycle(m.workspace_id)
  local t = series.totals(series.cells({ entity_type = "member", entity_id = m.id, from = s, to = e }))
  return {
    id = m.id, name = m.display_name, email = m.email, departmentId = nz(m.department_id),
    departmentName = nz(M.dept_name(m.department_id)), role = m.role_label, status = m.status,
    monthlyBudgetCents = nz(m.monthly_budget_cents), userId = nz(m.user_id), createdAt = m.created_at,
    periodCost = t.cost_usd, periodRequests = t.requests,
  }
end

function M.dept_view(d)
  local agents, members = 0, 0
  for _, a in ipairs(store.list("agents", d.workspace_id)) do
    if a.department_id == d.id then agents = agents + 1 end
  end
  for _, m in ipairs(store.list("members", d.workspace_id)) do
    if m.department_id == d.id then members = members + 1 end
  end
  return {
    id = d.id, name = d.display_name, description = nz(d.description), managerId = nz(d.manager_id),
    budgetCents = nz(d.budget_cents), budgetAction = nz(d.budget_action), agentCount = agents,
    memberCount = members, createdAt = d.created_at,
  }
end

function M.mk_view(k)
  return {
    id = k.id, label = k.label, provider = k.provider, providerId = k.provider_id, maskedKey = k.masked_key,
    baseUrl = k.base_url, status = k.status, createdAt = k.created_at, lastUsedAt = nz(k.last_used_at),
  }
end

function M.pat_meta(p)
  return {
    id = p.id, name = p.name, token_prefix = p.token_prefix, scopes = json.array(util.copy(p.scopes or {})),
    workspace_id = p.workspace_id, last_used_at = nz(p.last_used_at), expires_at = nz(p.expires_at),
    revoked_at = nz(p.revoked_at), created_at = p.created_at,
  }
end

function M.model_view(m)
  return {
    id = m.id, name = m.name, provider = m.provider, type = m.type,
    inputUsdPerMTok = m.input_usd_per_mtok, outputUsdPerMTok = m.output_usd_per_mtok,
    contextWindow = m.context_window,
  }
end

---------------------------------------------------------------------------
-- Aggregations
---------------------------------------------------------------------------
function M.usd(micros) return util.round(micros / 1e6, 6) end

function M.daily_series(filter, from, to, style)
  local last = math.min(to, M.today())
  local out = {}
  if from > last then return json.array(out) end
  filter.from, filter.to = from, last
  for _, d in ipairs(series.by_day(series.cells(filter), from, last)) do
    if style == "cents" then
      out[#out + 1] = { date = util.fmt_day(d.day), cost_cents = d.cost_cents, requests = d.requests,
        tokens = d.tokens }
    else
      out[#out + 1] = { date = util.fmt_day(d.day), cost = M.usd(d.cost_micros), costCents = d.cost_cents,
        requests = d.requests, tokens = d.tokens, inputTokens = d.tokens_in, outputTokens = d.tokens_out,
        errors = d.errors }
    end
  end
  return json.array(out)
end

-- Budget window (daily | weekly | monthly | yearly) containing today.
-- Returns from_day, to_day (today), resets_at ISO.
function M.budget_window(window)
  local today = M.today()
  local y, m = util.civil_from_days(today)
  if window == "daily" then
    return today, today, util.fmt_iso((today + 1) * 86400)
  elseif window == "weekly" then
    local start = today - (util.weekday(today) - 1)
    return start, today, util.fmt_iso((start + 7) * 86400)
  elseif window == "yearly" then
    return util.days_from_civil(y, 1, 1), today, util.fmt_iso(util.days_from_civil(y + 1, 1, 1) * 86400)
  end
  local ny, nm = y, m + 1
  if nm > 12 then nm = 1; ny = ny + 1 end
  return util.days_from_civil(y, m, 1), today, util.fmt_iso(util.days_from_civil(ny, nm, 1) * 86400)
end

-- Costs breakdown by dimension for a workspace.
function M.breakdown(ws, from, to, extra)
  local f = { workspace_id = ws, from = from, to = to }
  for k, v in pairs(extra or {}) do f[k] = v end
  local cells = series.cells(f)
  local function items(keyfn, namefn)
    local map, keys = series.group(cells, keyfn)
    local out = {}
    for _, k in ipairs(keys) do
      local t = map[k]
      out[#out + 1] = { id = k, name = nz(namefn(k)), cost = M.usd(t.cost_micros), costCents = t.cost_cents,
        requests = t.requests, tokens = t.tokens, lastUsed = t.last_day and util.fmt_day(t.last_day) or null }
    end
    return json.array(out)
  end
  return json.array({
    { dimension = "agent", items = items(function(c) return c.entity_type == "agent" and c.entity_id or nil end,
      function(k) return M.entity_name("agent", k) end) },
    { dimension = "member", items = items(function(c) return c.entity_type == "member" and c.entity_id or nil end,
      function(k) return M.entity_name("member", k) end) },
    { dimension = "department", items = items(function(c) return type(c.department_id) == "string" and
      c.department_id or nil end, M.dept_name) },
    { dimension = "master_key", items = items(function(c) return c.master_key_id end, function(k)
      local mk = store.get("master_keys", k)
      return mk and mk.label
    end) },
    { dimension = "model", items = items(function(c) return c.model end, function(k)
      local m = store.model(k)
      return m and m.name
    end) },
  })
end

function M.model_rows(cells)
  local map, keys = series.group(cells, function(c) return c.model end)
  local out = {}
  for _, k in ipairs(keys) do
    local t = map[k]
    local m = store.model(k) or {}
    out[#out + 1] = { id = k, model = k, name = m.name or k, provider = m.provider, cost = M.usd(t.cost_micros),
      costCents = t.cost_cents, requests = t.requests, tokens = t.tokens, inputTokens = t.tokens_in,
      outputTokens = t.tokens_out }
  end
  return json.array(out)
end

function M.change_pct(cur, prev)
  if prev == 0 then return null end
  return util.round((cur - prev) * 100 / prev, 2)
end

function M.floor(x) return floor(x) end

return M
