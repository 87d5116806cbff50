-- Entry point for every request: x-request-id, body, inspection record, faults,
-- routing, auth per route family, response writing.
local json = require("alephant_emu.json")
local util = require("alephant_emu.util")
local auth = require("alephant_emu.auth")
local resp = require("alephant_emu.resp")
local faults = require("alephant_emu.faults")
local recorder = require("alephant_emu.recorder")
local admin = require("alephant_emu.admin")
local cockpit = require("alephant_emu.cockpit")
local saas = require("alephant_emu.saas")
local analytics = require("alephant_emu.analytics")
local gateway = require("alephant_emu.gateway")

local M = {}

---------------------------------------------------------------------------
-- Routes.  auth: none | vk (cockpit) | ws (JWT or PAT + X-Workspace-Id) |
-- jwt (JWT only) | jwt_ws (JWT only + X-Workspace-Id) | any (models) |
-- an (Analytics: any token + X-Workspace-Id) | gw (gateway: VK only)
---------------------------------------------------------------------------
local UUIDISH = "([^/]+)"
local ROUTES = {}
local function r(method, pattern, fam, mode, h, scope)
  ROUTES[#ROUTES + 1] = { m = method, p = "^" .. pattern .. "$", fam = fam, auth = mode, h = h, scope = scope }
end

-- Cockpit
r("GET", "/api/v1/cockpit/health", "saas", "none", cockpit.health)
r("GET", "/api/v1/cockpit/scope", "saas", "vk", cockpit.scope)
r("GET", "/api/v1/cockpit/usage%-summary", "saas", "vk", cockpit.usage_summary)
r("GET", "/api/v1/cockpit/daily%-costs", "saas", "vk", cockpit.daily_costs)
r("GET", "/api/v1/cockpit/cost%-by%-model", "saas", "vk", cockpit.cost_by_model)
r("GET", "/api/v1/cockpit/budget%-status", "saas", "vk", cockpit.budget_status)
r("GET", "/api/v1/cockpit/recent%-requests", "saas", "vk", cockpit.recent_requests)
-- SaaS workspace analytics
r("GET", "/api/v1/analytics/overview", "saas", "ws", saas.overview)
r("GET", "/api/v1/analytics/costs", "saas", "ws", saas.costs)
r("GET", "/api/v1/analytics/usage", "saas", "ws", saas.usage)
r("GET", "/api/v1/analytics/models", "saas", "ws", saas.models)
r("GET", "/api/v1/analytics/usage%-history", "saas", "ws", saas.usage_history)
r("GET", "/api/v1/analytics/budget%-status", "saas", "ws", saas.budget_status)
r("GET", "/api/v1/analytics/sparklines", "saas", "ws", saas.sparklines)
r("GET", "/api/v1/analytics/live%-24h", "saas", "ws", saas.live24h)
r("GET", "/api/v1/analytics/usage/timeseries", "saas", "ws", saas.timeseries)
r("GET", "/api/v1/analytics/members/" .. UUIDISH .. "/analytics", "saas", "ws", saas.member_analytics)
r("GET", "/api/v1/agents/" .. UUIDISH .. "/analytics", "saas", "ws", saas.agent_analytics)
r("GET", "/api/v1/departments/" .. UUIDISH .. "/analytics", "saas", "ws", saas.department_analytics)
-- SaaS resources
r("GET", "/api/v1/virtual%-keys", "saas", "ws", saas.vk_list)
r("POST", "/api/v1/virtual%-keys", "saas", "ws", saas.vk_create)
r("PATCH", "/api/v1/virtual%-keys/" .. UUIDISH, "saas", "ws", saas.vk_patch)
r("POST", "/api/v1/virtual%-keys/" .. UUIDISH .. "/revoke", "saas", "ws", saas.vk_revoke)
r("GET", "/api/v1/agents", "saas", "ws", saas.agents_list)
r("POST", "/api/v1/agents", "saas", "ws", saas.agents_create)
r("GET", "/api/v1/members", "saas", "ws", saas.members_list)
r("GET", "/api/v1/departments", "saas", "ws", saas.departments_list)
r("GET", "/api/v1/master%-keys", "saas", "ws", saas.master_keys)
r("GET", "/api/v1/models", "saas", "any", saas.models_list)
r("GET", "/api/v1/subscriptions/current", "saas", "ws", saas.subscription)
r("GET", "/api/v1/subscriptions/log%-usage", "saas", "ws", saas.log_usage)
r("GET", "/api/v1/policies/budget%-control", "saas", "ws", saas.policy_get)
r("PUT", "/api/v1/policies/budget%-control", "saas", "ws", saas.policy_put, "admin")
-- JWT-only
r("GET", "/api/v1/workspaces", "saas", "jwt", saas.workspaces)
r("GET", "/api/v1/workspaces/" .. UUIDISH .. "/stats", "saas", "jwt", saas.workspace_stats)
r("GET", "/api/v1/logs", "saas", "jwt_ws", saas.logs_list)
r("GET", "/api/v1/pats", "saas", "jwt_ws", saas.pats_list)
r("POST", "/api/v1/pats", "saas", "jwt_ws", saas.pats_create)
r("GET", "/api/v1/pats/" .. UUIDISH, "saas", "jwt_ws", saas.pats_get)
r("PATCH", "/api/v1/pats/" .. UUIDISH, "saas", "jwt_ws", saas.pats_patch)
r("DELETE", "/api/v1/pats/" .. UUIDISH, "saas", "jwt_ws", saas.pats_delete)
-- Analytics API
r("GET", "/v1/analytics/health", "analytics", "none", analytics.health)
r("GET", "/v1/analytics/saas/usage", "analytics", "an", analytics.usage)
r("GET", "/v1/analytics/saas/costs", "analytics", "an", analytics.costs)
r("GET", "/v1/analytics/saas/models", "analytics", "an", analytics.models)
r("GET", "/v1/analytics/saas/logs", "analytics", "an", analytics.saas_logs)
r("GET", "/v1/analytics/saas/overview", "analytics", "an", analytics.saas_overview)
r("GET", "/v1/analytics/usage/timeseries", "analytics", "an", analytics.timeseries)
r("GET", "/v1/analytics/request%-logs", "analytics", "an", analytics.request_logs)
r("GET", "/v1/analytics/request%-logs/" .. UUIDISH, "analytics", "an", analytics.request_log)
-- Gateway
r("POST", "/v1/chat/completions", "gateway", "gw", gateway.chat)
r("POST", "/v1/embeddings", "gateway", "gw", gateway.embeddings)
r("POST", "/v1/completions", "gateway", "gw", gateway.completions)
r("POST", "/v1/responses", "gateway", "gw", gateway.responses)
r("POST", "/v1/messages", "gateway", "gw", gateway.messages)
r("POST", "/v1/images/generations", "gateway", "gw", gateway.images)
r("GET", "/v1/models", "gateway", "gw", gateway.models)
r("POST", "/v1/agent/events", "gateway", "gw", gateway.agent_events)
r("GET", "/health", "gateway", "none", function() return resp.empty(200) end)
r("HEAD", "/health", "gateway", "none", function() return resp.empty(200) end)
r("GET", "/healthz/ready", "gateway", "none", function() return resp.new(200, "ok", "text/plain") end)

local function family(path)
  if path:sub(1, 8) == "/api/v1/" or path == "/api/v1" then return "saas" end
  if path:sub(1, 13) == "/v1/analytics" then return "analytics" end
  if path:sub(1, 4) == "/v1/" or path == "/health" or path:sub(1, 8) == "/healthz" then return "gateway" end
  return "saas"
end
M.family = family

---------------------------------------------------------------------------
-- Auth per family
---------------------------------------------------------------------------
local function saas401(msg) return resp.saas_err(401, msg) end

local function need_workspace(req, ident, err)
  local ws, problem = auth.workspace_header(req.headers)
  if not ws then
    if problem == "missing" then return nil, err(400, "X-Workspace-Id header is required") end
    return nil, err(400, "X-Workspace-Id must be a UUID")
  end
  local okw, msg = auth.workspace_allowed(ident, ws)
  if not okw then return nil, err(403, msg) end
  return ws
end

local function saas_err(status, msg) return resp.saas_err(status, msg) end

local function required_scope(route, method)
  if route.scope then return route.scope end
  if method == "GET" or method == "HEAD" then return "read" end
  return "write"
end

local AUTH = {}

function AUTH.none() return nil end

function AUTH.vk(req)
  local tok = auth.bearer(req.headers)
  if not tok or auth.kind(tok) ~= "vk" then return saas401("Missing or invalid virtual key") end
  local ident = auth.identify(tok)
  if not ident then return saas401("Missing or invalid virtual key") end
  req.ident = ident
end

function AUTH.ws(req, route)
  local tok = auth.bearer(req.headers)
  if not tok then return saas401("Missing authorization token") end
  if auth.kind(tok) == "vk" then
    return saas401("Virtual keys are not accepted on this route; use a user JWT or a PAT")
  end
  local ident, msg = auth.identify(tok)
  if not ident then return saas401(msg) end
  local ws, e = need_workspace(req, ident, saas_err)
  if not ws then return e end
  local need = required_scope(route, req.method)
  if not auth.has_scope(ident, need) then
    return resp.saas_err(403, "Insufficient permissions. Required scope: " .. need)
  end
  req.ident, req.ws = ident, ws
end

local function jwt_only(req, with_ws)
  local tok = auth.bearer(req.headers)
  if not tok then return saas401("Missing authorization token") end
  local kind = auth.kind(tok)
  if kind == "pat" then return saas401("PAT bearer tokens are rejected on this route; use a user JWT") end
  if kind == "vk" then return saas401("Virtual keys are not accepted on this route; use a user JWT") end
  local ident, msg = auth.identify(tok)
  if not ident then return saas401(msg) end
  req.ident = ident
  if with_ws then
    local ws, e = need_workspace(req, ident, saas_err)
    if not ws then return e end
    req.ws = ws
  end
end

function AUTH.jwt(req) return jwt_only(req, false) end
function AUTH.jwt_ws(req) return jwt_only(req, true) end

function AUTH.any(req)
  local tok = auth.bearer(req.headers)
  if not tok then return saas401("Missing authorization token") end
  local ident, msg = auth.identify(tok)
  if not ident then return saas401(msg) end
  req.ident = ident
  if ident.kind ~= "vk" and req.headers["x-workspace-id"] ~= nil then
    local ws, e = need_workspace(req, ident, saas_err)
    if not ws then return e end
    req.ws = ws
  end
end

local function an_err(status, msg)
  if status == 400 then return resp.an_err(400, 40002, msg) end
  return resp.an_err(status, status * 100, msg)
end

function AUTH.an(req)
  local tok = auth.bearer(req.headers) or auth.cookie_token(req.headers)
  if not tok then return resp.an_err(401, 40100, "Missing credentials: send Authorization: Bearer <token>") end
  local ident, msg = auth.identify(tok)
  if not ident then return resp.an_err(401, 40100, msg) end
  local ws, e = need_workspace(req, ident, an_err)
  if not ws then return e end
  req.ident, req.ws = ident, ws
end

function AUTH.gw(req)
  local tok = auth.bearer(req.headers)
  local ident = tok and auth.kind(tok) == "vk" and auth.identify(tok)
  if not ident then
    return resp.oai_err(401, "Missing or invalid virtual key", "invalid_request_error", "invalid_api_key")
  end
  req.ident = ident
end

---------------------------------------------------------------------------
-- Request handling
---------------------------------------------------------------------------
local function read_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body then return body end
  local file = ngx.req.get_body_file()
  if file then
    local f = io.open(file, "rb")
    if f then
      body = f:read("*a")
      f:close()
      return body
    end
  end
  return ""
end

local function first(v)
  if type(v) == "table" then return v[1] end
  return v
end

local function route_request(req)
  local allowed = {}
  for _, rt in ipairs(ROUTES) do
    local caps = { req.path:match(rt.p) }
    if caps[1] ~= nil then
      if rt.m == req.method or (rt.m == "GET" and req.method == "HEAD") then
        req.captures = caps
        local denied = AUTH[rt.auth](req, rt)
        if denied then return denied end
        local okh, res = pcall(rt.h, req)
        if not okh then
          ngx.log(ngx.ERR, "handler error: ", tostring(res))
          return resp.family_err(rt.fam, 500, "emulator internal error: " .. tostring(res))
        end
        return res
      end
      allowed[#allowed + 1] = rt.m
    end
  end
  local fam = family(req.path)
  if #allowed > 0 then
    local res = resp.family_err(fam, 405, "Method " .. req.method .. " not allowed on " .. req.path)
    res.headers["Allow"] = table.concat(allowed, ", ")
    return res
  end
  return resp.family_err(fam, 404, "No route for " .. req.method .. " " .. req.path)
end

-- Faults, then the route's answer (a reset ends the request here: the log phase marks it done).
local function answer(req, fam, fh)
  local method, path, headers = req.method, req.path, req.headers
  local spec, remaining
  if fh then
    local parsed, perr = faults.parse(fh)
    if not parsed then
      return resp.send(resp.family_err(fam, 400, "invalid X-Emulator-Fault header: " .. perr))
    end
    spec, remaining = faults.fire(parsed, fh)
  else
    spec, remaining = faults.take_armed(method, path)
  end
  if spec then
    if remaining then ngx.header["X-Emulator-Fault-Remaining"] = remaining end
    if spec.stall and spec.stall > 0 then ngx.sleep(spec.stall / 1000) end
    if spec.reset then return ngx.exit(444) end
    -- a careless server: the request's Authorization echoed in a header and the message
    local echoed = spec.echo and (first(headers["authorization"]) or "(no Authorization header)")
    if echoed then ngx.header["X-Emulator-Echo"] = echoed end
    if spec.status then
      local message = spec.message or ("Emulated fault: HTTP " .. spec.status)
      if echoed then message = message .. ": credentials " .. echoed .. " rejected" end
      local res = resp.family_err(fam, spec.status, message)
      if spec.retry_after then res.headers["Retry-After"] = spec.retry_after end
      if spec.location then res.headers["Location"] = spec.location end
      if spec.status == 429 then
        res.headers["X-RateLimit-Limit"] = "60"
        res.headers["X-RateLimit-Remaining"] = "0"
      end
      return resp.send(res, spec)
    end
  end

  local res = route_request(req)
  return resp.send(res, spec)
end

function M.handle()
  local method = ngx.req.get_method()
  local path = ngx.var.uri
  local headers = ngx.req.get_headers(200)
  local rid = first(headers["x-request-id"])
  if type(rid) ~= "string" or util.trim(rid) == "" then rid = util.uuid4() end
  ngx.header["X-Request-Id"] = rid
  local body = read_body()
  local req = {
    method = method, path = path, headers = headers, args = ngx.req.get_uri_args(200), query = ngx.var.args,
    body = body, request_id = rid,
  }
  if body ~= "" then
    req.json, req.json_err = json.decode(body)
  end

  if path == "/__admin" or path:sub(1, 9) == "/__admin/" then
    return resp.send(admin.handle(req))
  end

  local fam = family(path)
  local fh = first(headers["x-emulator-fault"])
  req.fault_header = fh
  ngx.ctx.rec = recorder.record(req)
  answer(req, fam, fh)
  recorder.done(ngx.ctx.rec)
end

function M.log()
  recorder.finish(ngx.ctx.rec, ngx.status)
end

return M
