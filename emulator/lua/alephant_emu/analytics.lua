-- Analytics (Collector) API /v1/analytics/* (docs/api-notes.md#analytics-collector-api).
-- Every answer is {code, message, data}; errors carry 5-digit codes.
local json = require("alephant_emu.json")
local util = require("alephant_emu.util")
local store = require("alephant_emu.store")
local series = require("alephant_emu.series")
local reports = require("alephant_emu.reports")
local logs = require("alephant_emu.logs")
local resp = require("alephant_emu.resp")
local saas = require("alephant_emu.saas")

local M = {}

-- Codes used here (besides the documented ones): 40000 generic invalid parameter.
M.MAX_WINDOW_DAYS = 31

local ok = resp.an_ok
local function bad(code, msg) return resp.an_err(400, code, msg) end

local function period_of(from, to)
  return { from = util.fmt_day(from), to = util.fmt_day(to) }
end

local function dates(req, required)
  local from, to, msg = reports.date_pair(req.args, req.ws, required)
  if not from then return nil, nil, bad(40000, msg) end
  return from, to
end

local function one(v)
  if type(v) == "table" then return nil end
  if v == true or v == "" then return nil end
  return v
end

function M.health()
  return ok({ status = "ok", service = "logs-collector", version = "alephant-emulator/1" })
end

local function scope(req)
  local f, msg, which = reports.scope_args(req.args)
  if not f then
    if which == "multiple" then return nil, bad(40020, msg) end
    if which == "departmentId" then return nil, bad(40013, msg) end
    return nil, bad(40014, msg)
  end
  return f
end

function M.usage(req)
  local from, to, e = dates(req)
  if not from then return e end
  local f, se = scope(req)
  if not f then return se end
  local filter = { workspace_id = req.ws, agent_id = f.agent_id, member_id = f.member_id,
    department_id = f.department_id }
  local rows = json.array()
  for _, d in ipairs(reports.daily_series(filter, from, to)) do
    rows[#rows + 1] = { date = d.date, requests = d.requests, cost = d.cost, tokens = d.tokens }
  end
  return ok({ period = period_of(from, to), series = rows })
end

function M.costs(req)
  local from, to, e = dates(req)
  if not from then return e end
  local dep = one(req.args.departmentId)
  if dep ~= nil and not util.is_uuid(dep) then return bad(40013, "departmentId must be a UUID") end
  local breakdown = reports.breakdown(req.ws, from, to, { department_id = dep and dep:lower() })
  return ok({ period = period_of(from, to), breakdown = breakdown })
end

function M.models(req)
  local from, to, e = dates(req, true)
  if not from then return e end
  local rows = json.array()
  for _, r in ipairs(reports.model_rows(series.cells({ workspace_id = req.ws, from = from, to = to }))) do
    rows[#rows + 1] = { model = r.model, provider = r.provider, requests = r.requests, cost = r.cost,
      tokensIn = r.inputTokens, tokensOut = r.outputTokens, totalTokens = r.tokens }
  end
  return ok({ period = period_of(from, to), models = rows })
end

function M.timeseries(req)
  local data, status, code, msg = saas.timeseries_data(req.args, req.ws)
  if not data then return resp.an_err(status, code, msg) end
  return ok(data)
end

local function int_arg(v, name, min, max, default)
  if v == nil then return default end
  local n = util.to_int(v)
  if not n or n < min or (max and n > max) then
    local range = max and (" between " .. min .. " and " .. max) or (" >= " .. min)
    return nil, bad(40000, name .. " must be an integer" .. range)
  end
  return n
end

-- time window for saas/logs: ISO start/end wins over dateFrom/dateTo; none -> last 30 days
local function logs_window(req)
  local s, e = one(req.args.start), one(req.args["end"])
  if s or e then
    if not (s and e) then return nil, nil, bad(40000, "start and end must be sent together") end
    local ts, te = util.parse_iso(s), util.parse_iso(e)
    if not ts or not te then return nil, nil, bad(40000, "start and end must be ISO 8601 timestamps") end
    if te <= ts then return nil, nil, bad(40000, "end must be after start") end
    return ts, te
  end
  if req.args.dateFrom ~= nil or req.args.dateTo ~= nil then
    local from, to, msg = reports.date_pair(req.args, req.ws, true)
    if not from then return nil, nil, bad(40000, msg) end
    return from * 86400, (to + 1) * 86400 - 1
  end
  local today = reports.today()
  return (today - 29) * 86400, (today + 1) * 86400 - 1
end

local ENTITY_TYPES = { agent = "agent", user = "member", member = "member" }

function M.saas_logs(req)
  local a = req.args
  local ts, te, we = logs_window(req)
  if not ts then return we end
  local agent, member = one(a.agentId), one(a.memberId)
  if agent and member then return bad(40020, "Only one of agentId, memberId may be given") end
  if agent and not util.is_uuid(agent) then return bad(40014, "agentId must be a UUID") end
  if member and not util.is_uuid(member) then return bad(40014, "memberId must be a UUID") end
  local et = one(a.entityType)
  if et then
    if not ENTITY_TYPES[et] then return bad(40000, "entityType must be agent, user or member") end
    if agent or member then return bad(40028, "entityType cannot be combined with agentId or memberId") end
  end
  local search = one(a.search)
  if search and not util.is_uuid(search) then return bad(40027, "search must be a UUID") end
  local mk, dep = one(a.masterKeyId), one(a.departmentId)
  if mk and not util.is_uuid(mk) then return bad(40011, "masterKeyId must be a UUID") end
  if dep and not util.is_uuid(dep) then return bad(40013, "departmentId must be a UUID") end
  local limit, le = int_arg(a.limit, "limit", 1, 200, nil)
  if le then return le end
  local offset, oe = int_arg(a.offset, "offset", 0, nil, nil)
  if oe then return oe end
  local page, pe = int_arg(a.page, "page", 1, nil, nil)
  if pe then return pe end
  local psize, pse = int_arg(a.pageSize, "pageSize", 1, 200, nil)
  if pse then return pse end
  if page and offset == nil then
    limit = psize or limit or 20
    offset = (page - 1) * limit
  end
  limit = limit or psize or 20
  offset = offset or 0
  local rows = {}
  for _, r in ipairs(logs.rows(req.ws)) do
    if r.ts >= ts and r.ts <= te
      and (not agent or r.agent_id == agent:lower())
      and (not member or r.member_id == member:lower())
      and (not et or r.entity_type == ENTITY_TYPES[et])
      and (not search or r.entity_id == search:lower() or r.user_id == search:lower())
      and (not mk or r.master_key_id == mk:lower())
      and (not dep or r.department_id == dep:lower()) then
      rows[#rows + 1] = r
    end
  end
  local out = json.array()
  for i = offset + 1, math.min(offset + limit, #rows) do out[#out + 1] = logs.public(rows[i]) end
  local meta = { total = #rows, hasMore = offset + limit < #rows, limit = limit, offset = offset }
  if page then meta.page = page; meta.pageSize = limit end
  return ok({ period = { start = util.fmt_iso(ts), ["end"] = util.fmt_iso(te) }, data = out, meta = meta })
end

function M.request_logs(req)
  local a = req.args
  local s, e = one(a.start), one(a["end"])
  if not s or not e then return bad(40000, "start and end are required (ISO 8601)") end
  local ts, te = util.parse_iso(s), util.parse_iso(e)
  if not ts or not te then return bad(40000, "start and end must be ISO 8601 timestamps") end
  if te <= ts then return bad(40000, "end must be after start") end
  if te - ts > M.MAX_WINDOW_DAYS * 86400 then
    return bad(40004, "time window too long: at most " .. M.MAX_WINDOW_DAYS .. " days")
  end
  local limit = 50
  if a.limit ~= nil then
    local n = util.to_int(a.limit)
    if not n or n < 1 then return bad(40000, "limit must be a positive integer") end
    limit = math.min(n, 200)
  end
  local mk, dep = one(a.masterKeyId), one(a.departmentId)
  if mk and not util.is_uuid(mk) then return bad(40011, "masterKeyId must be a UUID") end
  if dep and not util.is_uuid(dep) then return bad(40013, "departmentId must be a UUID") end
  local et, eid = one(a.entityType), one(a.entityId)
  if eid and not et then return bad(40016, "entityId requires entityType") end
  if eid and not util.is_uuid(eid) then return bad(40014, "entityId must be a UUID") end
  if et and not ENTITY_TYPES[et] then return bad(40000, "entityType must be agent, user or member") end
  local search = one(a.search)
  if search and not util.is_uuid(search) then return bad(40033, "search must be a UUID") end
  local model = one(a.model)
  model = model and util.trim(model)
  local status = one(a.status)
  local rows = json.array()
  for _, r in ipairs(logs.rows(req.ws)) do
    if #rows >= limit then break end
    if r.ts >= ts and r.ts <= te
      and (not mk or r.master_key_id == mk:lower())
      and (not dep or r.department_id == dep:lower())
      and (not et or r.entity_type == ENTITY_TYPES[et])
      and (not eid or r.entity_id == eid:lower())
      and (not search or r.entity_id == search:lower() or r.user_id == search:lower())
      and (not model or r.model == model)
      and (not status or tostring(r.status) == status) then
      rows[#rows + 1] = logs.public(r)
    end
  end
  return ok({ rows = rows })
end

function M.request_log(req)
  local id = req.captures[1]
  local r = logs.find(id, req.ws)
  if not r then return resp.an_err(404, 40401, "request not found") end
  return ok({ row = logs.public(r) })
end

-- Collector paths that sit behind SaaS endpoints, reusing the same data.
function M.saas_overview(req)
  local from, to, e = dates(req)
  if not from then return e end
  local t = series.totals(series.cells({ workspace_id = req.ws, from = from, to = to }))
  return ok({ period = period_of(from, to), totalRequests = t.requests, totalCost = reports.usd(t.cost_micros),
    totalTokens = t.tokens, successRate = t.success_rate, avgLatencyMs = t.latency_ms,
    activeAgents = #store.list("agents", req.ws), activeMembers = #store.list("members", req.ws) })
end

return M
