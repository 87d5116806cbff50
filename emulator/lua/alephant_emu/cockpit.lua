-- /api/v1/cockpit/* : Virtual-Key-scoped, read-only (docs/api-notes.md#cockpit).
local json = require("alephant_emu.json")
local util = require("alephant_emu.util")
local store = require("alephant_emu.store")
local series = require("alephant_emu.series")
local reports = require("alephant_emu.reports")
local logs = require("alephant_emu.logs")
local resp = require("alephant_emu.resp")

local null = json.null
local nz = reports.nz
local M = {}

local UNBOUND_MSG = "Virtual key is not bound to an agent or member; analytics are unavailable for this key."

local function bound(vk)
  if type(vk.entity_type) ~= "string" then return nil end
  local e = reports.entity(vk.entity_type, vk.entity_id)
  if not e then return nil end
  return vk.entity_type, e
end

local function base(degraded)
  local t = { degraded = degraded, data_source = "live" }
  if degraded then t.message = UNBOUND_MSG end
  return t
end

local function period_or_err(req, default)
  local key = req.args.period
  if key == nil or key == "" or key == true then key = default end
  if type(key) ~= "string" then return nil, resp.saas_err(400, "period must be a single value") end
  local p = reports.period(key, req.ident.workspace_id)
  if not p then
    return nil, resp.saas_err(400, "Invalid period '" .. key .. "'; expected one of 24h, 7d, 30d, 90d, billing_cycle")
  end
  return p
end

function M.health()
  return resp.cockpit({
    status = "healthy", version = "alephant-emulator/1",
    components = { collector = { status = "up", latency_ms = 3 }, database = { status = "up", latency_ms = 1 } },
  })
end

function M.scope(req)
  local vk = req.ident.vk
  local ws = store.workspace(vk.workspace_id)
  local t = base(false)
  t.workspace = { id = ws.id, name = ws.display_name }
  t.virtual_key = {
    id = vk.id, label = vk.label, prefix = vk.key_prefix, status = reports.vk_status(vk),
    allowed_models = json.array(util.copy(vk.allowed_models or {})), rate_limit_rpm = nz(vk.rate_limit_rpm),
  }
  local etype, e = bound(vk)
  if etype then
    t.entity = { type = etype, id = e.id, name = e.display_name,
      department = nz(reports.dept_name(e.department_id)),
      department_id = type(e.department_id) == "string" and e.department_id or null }
  else
    t.entity = null
  end
  return resp.cockpit(t)
end

function M.usage_summary(req)
  local p, err = period_or_err(req, "billing_cycle")
  if not p then return err end
  local etype, e = bound(req.ident.vk)
  local t = base(etype == nil)
  t.period = reports.period_json(p)
  if not etype then
    t.total_cost_cents, t.total_requests = 0, 0
    t.total_tokens = { input = 0, output = 0 }
    t.vs_previous_period = { requests_pct = null, cost_pct = null }
    return resp.cockpit(t)
  end
  local cur = series.totals(series.cells({ entity_type = etype, entity_id = e.id, from = p.from, to = p.to }))
  local len = p.to - p.from + 1
  local prev = series.totals(series.cells({ entity_type = etype, entity_id = e.id, from = p.from - len,
    to = p.from - 1 }))
  t.total_cost_cents = cur.cost_cents
  t.total_requests = cur.requests
  t.total_tokens = { input = cur.tokens_in, output = cur.tokens_out }
  t.vs_previous_period = { requests_pct = reports.change_pct(cur.requests, prev.requests),
    cost_pct = reports.change_pct(cur.cost_micros, prev.cost_micros) }
  return resp.cockpit(t)
end

function M.daily_costs(req)
  local p, err = period_or_err(req, "30d")
  if not p then return err end
  local etype, e = bound(req.ident.vk)
  local t = base(etype == nil)
  t.period = reports.period_json(p)
  if not etype then
    t.data = json.array()
  else
    t.data = reports.daily_series({ entity_type = etype, entity_id = e.id }, p.from, p.to, "cents")
  end
  return resp.cockpit(t)
end

function M.cost_by_model(req)
  local p, err = period_or_err(req, "billing_cycle")
  if not p then return err end
  local etype, e = bound(req.ident.vk)
  local t = base(etype == nil)
  t.period = reports.period_json(p)
  local rows = json.array()
  if etype then
    local cells = series.cells({ entity_type = etype, entity_id = e.id, from = p.from, to = p.to })
    local total = series.totals(cells).cost_micros
    local map, keys = series.group(cells, function(c) return c.model end)
    for _, k in ipairs(keys) do
      local m = store.model(k) or {}
      rows[#rows + 1] = { model = k, provider = m.provider or "unknown", cost_cents = map[k].cost_cents,
        requests = map[k].requests, pct = util.pct(map[k].cost_micros, total) }
    end
  end
  t.data = rows
  return resp.cockpit(t)
end

function M.budget_status(req)
  local p, err = period_or_err(req, "30d")
  if not p then return err end
  local vk = req.ident.vk
  local etype, e = bound(vk)
  local t = base(etype == nil)
  t.period = reports.period_json(p)
  local spent = 0
  if etype then
    spent = series.totals(series.cells({ entity_type = etype, entity_id = e.id, from = p.from, to = p.to })).cost_cents
  end
  local _, _, resets = reports.budget_window(type(vk.budget_window) == "string" and vk.budget_window or "monthly")
  local b = type(vk.budget_cents) == "number" and vk.budget_cents or nil
  t.virtual_key_budget = {
    budget_cents = nz(b), spent_cents = spent,
    remaining_cents = b and math.max(b - spent, 0) or null,
    usage_pct = b and b > 0 and util.round(spent * 100 / b, 2) or null,
    budget_window = nz(vk.budget_window), budget_action = nz(vk.budget_action),
    resets_at = b and resets or null,
  }
  if etype then
    local eb = etype == "agent" and e.budget_cents or e.monthly_budget_cents
    eb = type(eb) == "number" and eb or nil
    t.entity_budget = { budget_cents = nz(eb), spent_cents = spent,
      usage_pct = eb and eb > 0 and util.round(spent * 100 / eb, 2) or null }
  else
    t.entity_budget = null
  end
  return resp.cockpit(t)
end

function M.recent_requests(req)
  local limit, offset = 20, 0
  if req.args.limit ~= nil then
    limit = util.to_int(req.args.limit)
    if not limit or limit < 1 or limit > 100 then
      return resp.saas_err(400, "limit must be an integer between 1 and 100")
    end
  end
  if req.args.offset ~= nil then
    offset = util.to_int(req.args.offset)
    if not offset or offset < 0 then return resp.saas_err(400, "offset must be an integer >= 0") end
  end
  local vk = req.ident.vk
  local etype, e = bound(vk)
  local t = base(etype == nil)
  local rows = {}
  if etype then
    for _, r in ipairs(logs.rows(vk.workspace_id)) do
      if r.entity_id == e.id or r.virtual_key_id == vk.id then rows[#rows + 1] = r end
    end
  end
  local page = json.array()
  for i = offset + 1, math.min(offset + limit, #rows) do
    local r = rows[i]
    page[#page + 1] = { id = r.request_id, model = r.model, provider = r.provider, tokens_in = r.tokens_in,
      tokens_out = r.tokens_out, cost_cents = r.cost_cents, latency_ms = r.latency_ms,
      status = (r.status >= 200 and r.status < 300) and "success" or "failed", created_at = r.created_at }
  end
  t.data = page
  t.pagination = { total = #rows, limit = limit, offset = offset }
  return resp.cockpit(t)
end

return M
