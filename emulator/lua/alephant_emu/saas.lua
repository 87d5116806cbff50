-- SaaS API /api/v1/* (everything except /cockpit): workspace analytics, management
-- resources, PATs, workspaces and logs (docs/api-notes.md).
local json = require("alephant_emu.json")
local util = require("alephant_emu.util")
local store = require("alephant_emu.store")
local series = require("alephant_emu.series")
local reports = require("alephant_emu.reports")
local logs = require("alephant_emu.logs")
local resp = require("alephant_emu.resp")

local null = json.null
local nz = reports.nz
local floor = math.floor
local M = {}

local ok, err400 = resp.saas_ok, function(msg, code) return resp.saas_err(400, msg, code) end

local function dates(req, required)
  local from, to, msg = reports.date_pair(req.args, req.ws, required)
  if not from then return nil, nil, err400(msg) end
  return from, to
end

local function period_of(from, to)
  return { from = util.fmt_day(from), to = util.fmt_day(to) }
end

local function body_object(req)
  local b = req.json
  if type(b) ~= "table" or req.json_err then
    return nil, err400("Request body must be a JSON object" .. (req.json_err and (": " .. req.json_err) or ""))
  end
  return b
end

local function days_arg(req, optional_default)
  local d = req.args.days
  if d == nil then return optional_default end
  local n = util.to_int(d)
  if n ~= 1 and n ~= 7 and n ~= 30 then return nil, err400("days must be one of 1, 7, 30") end
  return n
end

---------------------------------------------------------------------------
-- Analytics
---------------------------------------------------------------------------
function M.overview(req)
  local from, to, e = dates(req)
  if not from then return e end
  local t = series.totals(series.cells({ workspace_id = req.ws, from = from, to = to }))
  local vks, active = store.list("virtual_keys", req.ws), 0
  for _, vk in ipairs(vks) do if reports.vk_status(vk) == "active" then active = active + 1 end end
  return ok({
    period = period_of(from, to),
    totalMembers = #store.list("members", req.ws), totalAgents = #store.list("agents", req.ws),
    totalVirtualKeys = #vks, activeVirtualKeys = active, totalDepartments = #store.list("departments", req.ws),
    totalCostCents = t.cost_cents, totalCost = reports.usd(t.cost_micros), totalRequests = t.requests,
    totalTokens = t.tokens, successRate = t.success_rate, avgLatencyMs = t.latency_ms,
  })
end

function M.costs(req)
  local from, to, e = dates(req)
  if not from then return e end
  return ok({ period = period_of(from, to), breakdown = reports.breakdown(req.ws, from, to) })
end

function M.usage(req)
  local from, to, e = dates(req)
  if not from then return e end
  local f, msg = reports.scope_args(req.args)
  if not f then return err400(msg) end
  local filter = { workspace_id = req.ws, agent_id = f.agent_id, member_id = f.member_id,
    department_id = f.department_id }
  local rows = reports.daily_series(filter, from, to)
  local t = series.totals(series.cells({ workspace_id = req.ws, agent_id = f.agent_id, member_id = f.member_id,
    department_id = f.department_id, from = from, to = to }))
  return ok({
    period = period_of(from, to),
    scope = f.scope and { type = f.scope:gsub("Id$", ""), id = f.scope_id } or null,
    series = rows,
    totals = { cost = reports.usd(t.cost_micros), costCents = t.cost_cents, requests = t.requests, tokens = t.tokens },
  })
end

function M.models(req)
  local from, to, e = dates(req)
  if not from then return e end
  return ok(reports.model_rows(series.cells({ workspace_id = req.ws, from = from, to = to })))
end

function M.usage_history(req)
  local months = 12
  if req.args.months ~= nil then
    months = util.to_int(req.args.months)
    if not months or months < 1 or months > 24 then return err400("months must be an integer between 1 and 24") end
  end
  local today = reports.today()
  local y, m = util.civil_from_days(today)
  local rows = json.array()
  local prev
  for i = months - 1, 0, -1 do
    local yy, mm = y, m - i
    while mm < 1 do mm = mm + 12; yy = yy - 1 end
    local from = util.days_from_civil(yy, mm, 1)
    local to = from + util.days_in_month(yy, mm) - 1
    local t = series.totals(series.cells({ workspace_id = req.ws, from = from, to = to }))
    local row = { month = string.format("%04d-%02d", yy, mm), cost = reports.usd(t.cost_micros),
      costCents = t.cost_cents, requests = t.requests, tokens = t.tokens }
    if not prev then
      row.changePercent, row.changeReason = null, "no_prev_window"
    elseif prev.cost_micros == 0 then
      row.changePercent, row.changeReason = null, "baseline_zero"
    else
      row.changePercent = reports.change_pct(t.cost_micros, prev.cost_micros)
      row.changeReason = "computed"
    end
    rows[#rows + 1] = row
    prev = t
  end
  return ok({ months = rows, count = months })
end

function M.budget_status(req)
  local s, e = reports.billing_cycle(req.ws)
  local cfg = store.policy(req.ws).config or {}
  local t = series.totals(series.cells({ workspace_id = req.ws, from = s, to = e }))
  local spent = reports.usd(t.cost_micros)
  local amount = type(cfg.amount) == "number" and cfg.amount or nil
  local pct = amount and amount > 0 and util.round(spent * 100 / amount, 2) or null
  local reached = json.array()
  for _, th in ipairs(cfg.thresholds or {}) do
    if pct ~= null and pct >= th then reached[#reached + 1] = th end
  end
  return ok({
    period = period_of(s, e), budget = nz(amount), spent = spent, spentCents = t.cost_cents,
    remaining = amount and util.round(math.max(amount - spent, 0), 6) or null, usagePct = pct,
    exceededAction = nz(cfg.exceededAction), thresholds = json.array(util.copy(cfg.thresholds or {})),
    thresholdsReached = reached,
    status = (pct ~= null and pct >= 100) and "exceeded" or ((#reached > 0) and "warning" or "ok"),
  })
end

local SPARK = { spend = true, requests = true, tokens = true, success = true, latency = true }
local SPARK_ORDER = { "spend", "requests", "tokens", "success", "latency" }

function M.sparklines(req)
  local want = {}
  local m = req.args.metrics
  if m == nil or m == "" or m == "all" then
    for k in pairs(SPARK) do want[k] = true end
  elseif type(m) ~= "string" then
    return err400("metrics must be a single comma-separated value")
  else
    for part in m:gmatch("[^,]+") do
      part = util.trim(part)
      if not SPARK[part] then
        return err400("Unknown metric '" .. part .. "'; expected all or a list of " .. table.concat(SPARK_ORDER, ", "))
      end
      want[part] = true
    end
  end
  local today = reports.today()
  local days = series.by_day(series.cells({ workspace_id = req.ws, from = today - 6, to = today }), today - 6, today)
  local out = { period = period_of(today - 6, today) }
  for _, k in ipairs(SPARK_ORDER) do
    if want[k] then
      local arr = json.array()
      for _, d in ipairs(days) do
        if k == "spend" then arr[#arr + 1] = reports.usd(d.cost_micros)
        elseif k == "requests" then arr[#arr + 1] = d.requests
        elseif k == "tokens" then arr[#arr + 1] = d.tokens
        elseif k == "success" then arr[#arr + 1] = d.success_rate
        else arr[#arr + 1] = d.latency_ms end
      end
      out[k] = arr
    end
  end
  return ok(out)
end

-- Rolling 24 h: today's hours up to now plus yesterday's remaining hours.
local function last24(ws)
  local now = ngx.time()
  local today = floor(now / 86400)
  local hour = floor((now % 86400) / 3600) + 1
  local w_today, w_yest = 0, 0
  for h = 1, hour do w_today = w_today + series.HOURLY[h] end
  for h = hour + 1, 24 do w_yest = w_yest + series.HOURLY[h] end
  local out = {}
  for _, c in ipairs(series.cells({ workspace_id = ws, from = today - 1, to = today })) do
    local w = c.day == today and w_today or w_yest
    local s = {}
    for k, v in pairs(c) do s[k] = v end
    s.requests = floor(c.requests * w)
    s.errors = floor(c.errors * w)
    s.tokens_in = floor(c.tokens_in * w)
    s.tokens_out = floor(c.tokens_out * w)
    s.cost_micros = floor(c.cost_micros * w)
    out[#out + 1] = s
  end
  return out, now
end

function M.live24h(req)
  local limit = 5
  if req.args.limit ~= nil then
    limit = util.to_int(req.args.limit)
    if not limit or limit < 1 or limit > 10 then return err400("limit must be an integer between 1 and 10") end
  end
  local cells, now = last24(req.ws)
  local t = series.totals(cells)
  local top_models = json.array()
  local map, keys = series.group(cells, function(c) return c.model end)
  for i = 1, math.min(limit, #keys) do
    local k = keys[i]
    top_models[#top_models + 1] = { model = k, cost = reports.usd(map[k].cost_micros), requests = map[k].requests }
  end
  local vk_of = {}
  for _, vk in ipairs(store.list("virtual_keys", req.ws)) do
    if type(vk.entity_id) == "string" and not vk_of[vk.entity_id] and reports.vk_status(vk) == "active" then
      vk_of[vk.entity_id] = vk
    end
  end
  local kmap, kkeys = series.group(cells, function(c) return vk_of[c.entity_id] and vk_of[c.entity_id].id end)
  local top_keys = json.array()
  for i = 1, math.min(limit, #kkeys) do
    local k = kkeys[i]
    local vk = store.get("virtual_keys", k)
    top_keys[#top_keys + 1] = { id = k, label = vk and vk.label or null, cost = reports.usd(kmap[k].cost_micros),
      requests = kmap[k].requests }
  end
  return ok({
    window = { from = util.fmt_iso(now - 86400), to = util.fmt_iso(now) },
    summary = { requests = t.requests, cost = reports.usd(t.cost_micros), tokens = t.tokens,
      successRate = t.success_rate, avgLatencyMs = t.latency_ms },
    topModels = top_models, topKeys = top_keys,
  })
end

local METRICS = { cost = true, requests = true, tokens = true, avg_cost_per_req = true, success_rate = true,
  latency = true }
local PRESETS = { ["7d"] = 7, ["30d"] = 30, ["3m"] = 90, ["6m"] = 180, ["12m"] = 365 }

local function metric_value(metric, d)
  if metric == "cost" then return reports.usd(d.cost_micros)
  elseif metric == "requests" then return d.requests
  elseif metric == "tokens" then return d.tokens
  elseif metric == "avg_cost_per_req" then
    return d.requests > 0 and util.round(d.cost_micros / d.requests / 1e6, 8) or 0
  elseif metric == "success_rate" then return d.success_rate
  else return d.latency_ms end
end

-- shared by SaaS /analytics/usage/timeseries and Analytics /usage/timeseries
-- returns data or nil, http_status, code, message
function M.timeseries_data(args, ws)
  local metric = args.metric or "cost"
  local gran = args.granularity or "day"
  local preset = args.preset or "30d"
  if type(metric) ~= "string" or not METRICS[metric] then
    return nil, 400, 40000, "metric must be one of cost, requests, tokens, avg_cost_per_req, success_rate, latency"
  end
  if gran ~= "day" and gran ~= "hour" then return nil, 400, 40000, "granularity must be day or hour" end
  if type(preset) ~= "string" or not PRESETS[preset] then
    return nil, 400, 40000, "preset must be one of 7d, 30d, 3m, 6m, 12m"
  end
  if gran == "hour" and (metric == "success_rate" or metric == "latency") then
    return nil, 400, 40010, "granularity=hour is not supported for metric " .. metric
  end
  local today = reports.today()
  local from = today - PRESETS[preset] + 1
  local days = series.by_day(series.cells({ workspace_id = ws, from = from, to = today }), from, today)
  local points = json.array()
  for _, d in ipairs(days) do
    if gran == "day" then
      points[#points + 1] = { timestamp = util.fmt_day(d.day), value = metric_value(metric, d) }
    else
      local r = series.split_hours(d.requests)
      local c = series.split_hours(d.cost_micros)
      local tk = series.split_hours(d.tokens)
      for h = 1, 24 do
        local hd = { requests = r[h], cost_micros = c[h], tokens = tk[h] }
        points[#points + 1] = { timestamp = util.fmt_iso(d.day * 86400 + (h - 1) * 3600),
          value = metric_value(metric, hd) }
      end
    end
  end
  return { metric = metric, granularity = gran, preset = preset, from = util.fmt_day(from),
    to = util.fmt_day(today), points = points }
end

function M.timeseries(req)
  local data, status, code, msg = M.timeseries_data(req.args, req.ws)
  if not data then return resp.saas_err(status, msg, code) end
  return ok(data)
end

local function entity_analytics(req, etype, id, coll)
  if not util.is_uuid(id) then return err400(etype .. " id must be a UUID") end
  local e = store.get(coll, id:lower())
  if not e or e.workspace_id ~= req.ws then return resp.saas_err(404, etype .. " not found") end
  local days, er = days_arg(req, 30)
  if not days then return er end
  local today = reports.today()
  local from = today - days + 1
  local filter = { workspace_id = req.ws, entity_type = etype, entity_id = e.id }
  local t = series.totals(series.cells({ workspace_id = req.ws, entity_type = etype, entity_id = e.id,
    from = from, to = today }))
  local models = reports.model_rows(series.cells({ workspace_id = req.ws, entity_type = etype, entity_id = e.id,
    from = from, to = today }))
  return ok({
    [etype .. "Id"] = e.id, name = e.display_name, days = days, period = period_of(from, today),
    totals = { cost = reports.usd(t.cost_micros), costCents = t.cost_cents, requests = t.requests, tokens = t.tokens,
      successRate = t.success_rate, avgLatencyMs = t.latency_ms },
    series = reports.daily_series(filter, from, today), models = models,
  })
end

function M.member_analytics(req) return entity_analytics(req, "member", req.captures[1], "members") end
function M.agent_analytics(req) return entity_analytics(req, "agent", req.captures[1], "agents") end

function M.department_analytics(req)
  local id = req.captures[1]
  if not util.is_uuid(id) then return err400("department id must be a UUID") end
  local d = store.get("departments", id:lower())
  if not d or d.workspace_id ~= req.ws then return resp.saas_err(404, "department not found") end
  local days, er = days_arg(req, 30)
  if not days then return er end
  -- Faithful to the reference: the real endpoint is a placeholder returning zeros.
  local s, e = reports.billing_cycle(req.ws)
  return ok({ departmentId = d.id, name = d.display_name, days = days, period = period_of(s, e),
    spend = 0, requests = 0, tokens = 0, totals = { cost = 0, requests = 0, tokens = 0 },
    agentCount = reports.dept_view(d).agentCount, memberCount = reports.dept_view(d).memberCount })
end

---------------------------------------------------------------------------
-- Lists
---------------------------------------------------------------------------
local function list_response(req, items, view)
  local page, size, msg = reports.page_args(req.args, 50)
  if not page then return err400(msg) end
  local out = {}
  for _, it in ipairs(reports.paginate(items, page, size)) do out[#out + 1] = view(it) end
  return resp.saas_list(out, page, size, #items)
end

local function uuid_filter(req, name)
  local v = req.args[name]
  if v == nil or v == "" then return true, nil end
  if type(v) ~= "string" or not util.is_uuid(v) then return nil, err400(name .. " must be a UUID") end
  return true, v:lower()
end

local function search_match(req, name)
  local s = req.args.search
  if type(s) ~= "string" or s == "" then return true end
  return (name or ""):lower():find(s:lower(), 1, true) ~= nil
end

function M.vk_list(req)
  local st = req.args.status
  local et = req.args.entityType
  local items = {}
  for _, vk in ipairs(store.list("virtual_keys", req.ws)) do
    if (type(st) ~= "string" or st == "" or reports.vk_status(vk) == st)
      and (type(et) ~= "string" or et == "" or vk.entity_type == et
        or (et == "none" and type(vk.entity_type) ~= "string")) then
      items[#items + 1] = vk
    end
  end
  return list_response(req, items, reports.vk_view)
end

local BUDGET_WINDOWS = { daily = true, weekly = true, monthly = true, yearly = true }

local function validate_vk_fields(b, creating)
  local f = {}
  if b.label ~= nil or creating then
    if type(b.label) ~= "string" or #b.label < 1 or #b.label > 100 then
      return nil, "label must be a string of 1 to 100 characters"
    end
    f.label = b.label
  end
  if b.budget ~= nil and b.budget ~= null then
    if type(b.budget) ~= "number" or b.budget < 0 then return nil, "budget must be a non-negative number (USD)" end
    f.budget_cents = floor(b.budget * 100 + 0.5)
  elseif b.budget == null then
    f.budget_cents = null
  end
  if b.budgetCents ~= nil and b.budget == nil then
    if type(b.budgetCents) ~= "number" or b.budgetCents < 0 then
      return nil, "budgetCents must be a non-negative integer"
    end
    f.budget_cents = floor(b.budgetCents)
  end
  if b.budgetAction ~= nil then
    if type(b.budgetAction) ~= "string" or b.budgetAction == "" then return nil, "budgetAction must be a string" end
    f.budget_action = b.budgetAction
  end
  if b.budgetWindow ~= nil then
    if not BUDGET_WINDOWS[b.budgetWindow] then return nil, "budgetWindow must be daily, weekly, monthly or yearly" end
    f.budget_window = b.budgetWindow
  end
  if b.rateLimitRpm ~= nil then
    local n = util.to_int(b.rateLimitRpm)
    if not n or n < 1 or n > 10000 then return nil, "rateLimitRpm must be an integer between 1 and 10000" end
    f.rate_limit_rpm = n
  end
  -- allowedModels / blockedModels: arrays of model names ([] = no restriction)
  for _, name in ipairs({ "allowedModels", "blockedModels" }) do
    local v = b[name]
    if v ~= nil then
      local n = 0
      for _ in pairs(type(v) == "table" and v or {}) do n = n + 1 end
      if type(v) ~= "table" or n ~= #v then return nil, name .. " must be an array of strings" end
      for _, m in ipairs(v) do
        if type(m) ~= "string" or #m < 1 or #m > 256 then
          return nil, name .. " must be an array of model names (1 to 256 characters)"
        end
      end
      f[name == "allowedModels" and "allowed_models" or "blocked_models"] = v
    end
  end
  if b.rateLimitRph ~= nil then
    local n = util.to_int(b.rateLimitRph)
    if not n or n < 1 or n > 1000000 then return nil, "rateLimitRph must be an integer between 1 and 1000000" end
    f.rate_limit_rph = n
  end
  if b.expiresAt ~= nil then
    if b.expiresAt == null then
      f.expires_at = null
    elseif type(b.expiresAt) ~= "string" or not b.expiresAt:find("T") or not util.parse_iso(b.expiresAt) then
      return nil, "expiresAt must be an RFC 3339 timestamp or null"
    else
      f.expires_at = b.expiresAt
    end
  end
  return f
end

function M.vk_create(req)
  local b, e = body_object(req)
  if not b then return e end
  local f, msg = validate_vk_fields(b, true)
  if not f then return err400(msg) end
  if type(b.masterKeyId) ~= "string" or not util.is_uuid(b.masterKeyId) then
    return err400("masterKeyId is required and must be a UUID")
  end
  local mk = store.get("master_keys", b.masterKeyId:lower())
  if not mk or mk.workspace_id ~= req.ws then return err400("masterKeyId does not exist in this workspace") end
  local etype, eid = null, null
  if b.entityType ~= nil or b.entityId ~= nil then
    if b.entityType ~= "agent" and b.entityType ~= "member" then return err400("entityType must be agent or member") end
    if type(b.entityId) ~= "string" or not util.is_uuid(b.entityId) then return err400("entityId must be a UUID") end
    local ent = reports.entity(b.entityType, b.entityId:lower())
    if not ent or ent.workspace_id ~= req.ws then return err400("entityId does not exist in this workspace") end
    etype, eid = b.entityType, ent.id
  end
  local expires = f.expires_at or null
  local token = "vk-" .. (etype ~= null and etype or "key") .. "-" .. util.random_hex(40)
  local now = util.fmt_iso(ngx.time())
  local vk = {
    id = util.uuid4(), workspace_id = req.ws, label = f.label, token = token, key_prefix = token:sub(1, 16),
    entity_type = etype, entity_id = eid, status = "active", expires_at = expires,
    budget_cents = f.budget_cents or null, budget_action = f.budget_action or (f.budget_cents and "alert_only") or null,
    budget_window = f.budget_window or "monthly", rate_limit_rpm = f.rate_limit_rpm or 60, master_key_id = mk.id,
    allowed_models = f.allowed_models or {}, blocked_models = f.blocked_models or {},
    rate_limit_rph = f.rate_limit_rph or null, created_at = now, updated_at = now,
  }
  store.create("virtual_keys", vk)
  local view = reports.vk_view(vk)
  view.token = token
  return ok(view, 201)
end

local function ws_item(req, coll, what)
  local id = req.captures[1]
  if not util.is_uuid(id) then return nil, err400(what .. " id must be a UUID") end
  local it = store.get(coll, id:lower())
  if not it or it.workspace_id ~= req.ws then return nil, resp.saas_err(404, what .. " not found") end
  return it
end

function M.vk_patch(req)
  local vk, e = ws_item(req, "virtual_keys", "virtual key")
  if not vk then return e end
  local b, be = body_object(req)
  if not b then return be end
  local f, msg = validate_vk_fields(b, false)
  if not f then return err400(msg) end
  if b.status ~= nil then
    if b.status ~= "active" and b.status ~= "disabled" then return err400("status must be active or disabled") end
    f.status = b.status
  end
  if vk.status == "revoked" then return resp.saas_err(409, "virtual key is revoked") end
  f.updated_at = util.fmt_iso(ngx.time())
  return ok(reports.vk_view(store.update("virtual_keys", vk.id, f)))
end

function M.vk_revoke(req)
  local vk, e = ws_item(req, "virtual_keys", "virtual key")
  if not vk then return e end
  if vk.status ~= "revoked" then
    vk = store.update("virtual_keys", vk.id, { status = "revoked", updated_at = util.fmt_iso(ngx.time()) })
  end
  return ok(reports.vk_view(vk))
end

function M.agents_list(req)
  local okd, dep = uuid_filter(req, "departmentId")
  if not okd then return dep end
  local items = {}
  for _, a in ipairs(store.list("agents", req.ws)) do
    if (not dep or a.department_id == dep)
      and (type(req.args.status) ~= "string" or req.args.status == "" or a.status == req.args.status)
      and (type(req.args.environment) ~= "string" or req.args.environment == ""
        or a.environment == req.args.environment)
      and search_match(req, a.display_name) then
      items[#items + 1] = a
    end
  end
  return list_response(req, items, function(a) return reports.agent_view(a, true) end)
end

local ENVS = { production = true, development = true, staging = true }

function M.agents_create(req)
  local b, e = body_object(req)
  if not b then return e end
  if type(b.name) ~= "string" or #b.name < 1 or #b.name > 100 then
    return err400("name must be a string of 1 to 100 characters")
  end
  local dep = null
  local dep_in = b.departmentId or b.department_id
  if dep_in ~= nil and dep_in ~= null then
    if type(dep_in) ~= "string" or not util.is_uuid(dep_in) then return err400("departmentId must be a UUID") end
    local d = store.get("departments", dep_in:lower())
    if not d or d.workspace_id ~= req.ws then return err400("departmentId does not exist in this workspace") end
    dep = d.id
  end
  if b.about ~= nil and (type(b.about) ~= "string" or #b.about > 2000) then
    return err400("about must be a string of at most 2000 characters")
  end
  local env = b.environment or "production"
  if not ENVS[env] then return err400("environment must be production, development or staging") end
  local now = util.fmt_iso(ngx.time())
  local a = {
    id = util.uuid4(), workspace_id = req.ws, display_name = b.name, department_id = dep, status = "active",
    environment = env, source = type(b.source) == "string" and b.source or "manual",
    provider_id = type(b.providerId) == "string" and b.providerId or null,
    model_id = type(b.modelId) == "string" and b.modelId or null, budget_cents = null,
    description = type(b.description) == "string" and b.description or null,
    about = type(b.about) == "string" and b.about or null, created_at = now,
  }
  store.create("agents", a)
  return ok(reports.agent_view(a, false), 201)
end

function M.members_list(req)
  local okd, dep = uuid_filter(req, "departmentId")
  if not okd then return dep end
  local items = {}
  for _, m in ipairs(store.list("members", req.ws)) do
    if (not dep or m.department_id == dep)
      and (type(req.args.status) ~= "string" or req.args.status == "" or m.status == req.args.status)
      and search_match(req, m.display_name) then
      items[#items + 1] = m
    end
  end
  return list_response(req, items, reports.member_view)
end

function M.departments_list(req)
  return list_response(req, store.list("departments", req.ws), reports.dept_view)
end

function M.master_keys(req)
  local out = json.array()
  for _, k in ipairs(store.list("master_keys", req.ws)) do out[#out + 1] = reports.mk_view(k) end
  return ok(out)
end

function M.models_list()
  local out = json.array()
  for _, m in ipairs(store.models()) do out[#out + 1] = reports.model_view(m) end
  return ok(out)
end

function M.subscription(req)
  local w = store.workspace(req.ws)
  local sub = w.subscription or {}
  local s, e = reports.billing_cycle(req.ws)
  local t = series.totals(series.cells({ workspace_id = req.ws, from = s, to = e }))
  return ok({
    plan = sub.plan, tier = w.tier, status = sub.status, billingPeriod = sub.billing_period,
    billingCycleStart = util.fmt_day(s), billingCycleEnd = util.fmt_day(e),
    quotaCents = sub.quota_cents, usedCents = t.cost_cents, baseVkLimit = sub.base_vk_limit,
    extraVkCount = sub.extra_vk_count, logLimit = sub.log_limit,
  })
end

function M.log_usage(req)
  local w = store.workspace(req.ws)
  local s, e = reports.billing_cycle(req.ws)
  local t = series.totals(series.cells({ workspace_id = req.ws, from = s, to = e }))
  local limit = w.subscription and w.subscription.log_limit or 0
  return ok({ periodStart = util.fmt_day(s), periodEnd = util.fmt_day(e), logsThisPeriod = t.requests,
    logLimit = limit, usagePct = util.pct(t.requests, limit) })
end

---------------------------------------------------------------------------
-- Policies
---------------------------------------------------------------------------
local function policy_view(p)
  local c = util.copy(p.config or {})
  c.thresholds = json.array(util.copy(c.thresholds or {}))
  return { config = c, version = p.version, updatedAt = p.updated_at }
end

function M.policy_get(req)
  return ok(policy_view(store.policy(req.ws)))
end

function M.policy_put(req)
  local b, e = body_object(req)
  if not b then return e end
  local c = b.config
  if type(c) ~= "table" then return err400("config object is required") end
  if type(c.amount) ~= "number" or c.amount < 0 then
    return err400("config.amount must be a non-negative number (USD)")
  end
  if c.exceededAction ~= nil and (type(c.exceededAction) ~= "string" or c.exceededAction == "") then
    return err400("config.exceededAction must be a string")
  end
  if c.thresholds ~= nil then
    if type(c.thresholds) ~= "table" then return err400("config.thresholds must be an array of numbers") end
    for _, t in ipairs(c.thresholds) do
      if type(t) ~= "number" or t < 0 or t > 100 then return err400("config.thresholds must be numbers 0..100") end
    end
  end
  local cur = store.policy(req.ws)
  local want = b.version
  local im = req.headers["if-match"]
  if want == nil and type(im) == "string" then want = tonumber((im:gsub('"', ""))) end
  if want ~= nil and want ~= cur.version then
    return resp.saas_err(409, "Budget policy was modified concurrently (current version " .. cur.version ..
      "); re-read and retry")
  end
  local cfg = {}
  for k, v in pairs(cur.config or {}) do cfg[k] = v end
  for k, v in pairs(c) do cfg[k] = v end
  cfg.currency = cfg.currency or "USD"
  cfg.period = cfg.period or "monthly"
  local p = { config = cfg, version = cur.version + 1, updated_at = util.fmt_iso(ngx.time()) }
  store.set_policy(req.ws, p)
  return ok(policy_view(p))
end

---------------------------------------------------------------------------
-- JWT-only: workspaces, logs, PATs
---------------------------------------------------------------------------
function M.workspaces(req)
  local out = json.array()
  for _, w in ipairs(store.fixtures().workspaces) do
    if req.ident.workspaces[w.id] then
      out[#out + 1] = { id = w.id, name = w.display_name, slug = w.slug, type = w.type, tier = w.tier,
        role = nz(store.role(req.ident.user_id, w.id)) }
    end
  end
  return ok(out)
end

function M.workspace_stats(req)
  local id = req.captures[1]
  if not util.is_uuid(id) then return err400("workspace id must be a UUID") end
  id = id:lower()
  local w = store.workspace(id)
  if not w then return resp.saas_err(404, "workspace not found") end
  if not req.ident.workspaces[id] then return resp.saas_err(403, "You do not have access to this workspace") end
  local sub = w.subscription or {}
  local s, e = reports.billing_cycle(id)
  local t = series.totals(series.cells({ workspace_id = id, from = s, to = e }))
  local function count(coll, pred)
    local n = 0
    for _, it in ipairs(store.list(coll, id)) do if pred(it) then n = n + 1 end end
    return n
  end
  local active_vks = count("virtual_keys", function(v) return reports.vk_status(v) == "active" end)
  local max = (sub.base_vk_limit or 0) + (sub.extra_vk_count or 0)
  local y, m = util.civil_from_days(reports.today())
  local monthly_from = util.days_from_civil(y, m, 1)
  local month = series.totals(series.cells({ workspace_id = id, from = monthly_from, to = reports.today() }))
  local limit = sub.log_limit or 0
  return ok({
    workspaceId = id, tier = w.tier, activeVks = active_vks, maxVks = max, baseVkLimit = sub.base_vk_limit or 0,
    extraVkCount = sub.extra_vk_count or 0,
    activeAgents = count("agents", function(a) return a.status == "active" end),
    totalAgents = count("agents", function() return true end),
    activeMembers = count("members", function(mm) return mm.status == "active" end),
    totalMembers = count("members", function() return true end),
    currentPeriodLogCount = t.requests, logsThisMonth = month.requests, logLimit = limit,
    overageCents = math.max(t.requests - limit, 0) > 0 and floor((t.requests - limit) / 1000) * 10 or 0,
  })
end

function M.logs_list(req)
  local rows = logs.rows(req.ws)
  local filtered = {}
  for _, r in ipairs(rows) do
    if (type(req.args.model) ~= "string" or req.args.model == "" or r.model == req.args.model)
      and (type(req.args.status) ~= "string" or req.args.status == "" or tostring(r.status) == req.args.status) then
      filtered[#filtered + 1] = r
    end
  end
  return list_response(req, filtered, logs.public)
end

local function require_manager(req)
  local role = store.role(req.ident.user_id, req.ws)
  if role ~= "owner" and role ~= "admin" then
    return resp.saas_err(403, "Managing personal access tokens requires the owner or admin role")
  end
end

local function my_pats(req, include_revoked)
  local out = {}
  for _, p in ipairs(store.list("pats", req.ws)) do
    if p.user_id == req.ident.user_id and (include_revoked or type(p.revoked_at) ~= "string") then
      out[#out + 1] = p
    end
  end
  return out
end

local function find_pat(req)
  local id = req.captures[1]
  if not util.is_uuid(id) then return nil, err400("PAT id must be a UUID") end
  for _, p in ipairs(my_pats(req, true)) do
    if p.id == id:lower() then return p end
  end
  return nil, resp.saas_err(404, "personal access token not found")
end

function M.pats_list(req)
  local e = require_manager(req)
  if e then return e end
  return list_response(req, my_pats(req, false), reports.pat_meta)
end

local SCOPES = { read = true, write = true, admin = true }

local function validate_expiry(v)
  if v == nil or v == null then return null end
  if type(v) ~= "string" then return nil, "expires_at must be an RFC 3339 timestamp or null" end
  local t = util.parse_iso(v)
  if not t or not v:find("T") then return nil, "expires_at must be an RFC 3339 timestamp or null" end
  if t <= ngx.time() then return nil, "expires_at must be in the future" end
  return v
end

function M.pats_create(req)
  local e = require_manager(req)
  if e then return e end
  local b, be = body_object(req)
  if not b then return be end
  if type(b.name) ~= "string" or #b.name < 1 or #b.name > 100 then
    return err400("name must be a string of 1 to 100 characters")
  end
  if type(b.scopes) ~= "table" or #b.scopes == 0 then return err400("scopes must be a non-empty array") end
  local scopes = {}
  for _, s in ipairs(b.scopes) do
    if not SCOPES[s] then return err400("unknown scope '" .. tostring(s) .. "'; expected read, write or admin") end
    scopes[#scopes + 1] = s
  end
  local exp, msg = validate_expiry(b.expires_at)
  if not exp then return err400(msg) end
  local w = store.workspace(req.ws)
  local token = (w.pat_prefix or "pat_ws000000") .. "_" .. util.random_hex(64)
  local p = {
    id = util.uuid4(), user_id = req.ident.user_id, workspace_id = req.ws, name = b.name, token = token,
    token_prefix = token:sub(1, 12), scopes = scopes, expires_at = exp, revoked_at = null, last_used_at = null,
    created_at = util.fmt_iso(ngx.time()),
  }
  store.create("pats", p)
  return ok({ id = p.id, name = p.name, token = token, token_prefix = p.token_prefix, scopes = json.array(scopes),
    workspace_id = p.workspace_id, workspace_name = w.display_name, expires_at = exp, created_at = p.created_at }, 201)
end

function M.pats_get(req)
  local e = require_manager(req)
  if e then return e end
  local p, pe = find_pat(req)
  if not p then return pe end
  if type(p.revoked_at) == "string" then return resp.saas_err(404, "personal access token not found") end
  return ok(reports.pat_meta(p))
end

function M.pats_patch(req)
  local e = require_manager(req)
  if e then return e end
  local p, pe = find_pat(req)
  if not p then return pe end
  if type(p.revoked_at) == "string" then return resp.saas_err(404, "personal access token not found") end
  local b, be = body_object(req)
  if not b then return be end
  local f = {}
  if b.name ~= nil then
    if type(b.name) ~= "string" or #b.name < 1 or #b.name > 100 then
      return err400("name must be a string of 1 to 100 characters")
    end
    f.name = b.name
  end
  if b.expires_at ~= nil then
    local exp, msg = validate_expiry(b.expires_at)
    if not exp then return err400(msg) end
    f.expires_at = exp
  end
  return ok(reports.pat_meta(store.update("pats", p.id, f)))
end

function M.pats_delete(req)
  local e = require_manager(req)
  if e then return e end
  local p, pe = find_pat(req)
  if not p then return pe end
  if type(p.revoked_at) ~= "string" then
    store.update("pats", p.id, { revoked_at = util.fmt_iso(ngx.time()) })
  end
  return resp.empty(204)
end

return M
