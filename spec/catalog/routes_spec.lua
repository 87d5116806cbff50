-- Every catalog entry: the exact method, URL (path, query and its order) and headers
-- that prepare gives for each token kind it accepts, and the auth error for one it
-- refuses. The expectations are written out by hand from the reference, not derived
-- from the catalog, so the two are compared.
local core = require "alephant.core"
local jwt = require "spec.support.jwt"

local fixtures = require "spec.support.fixtures"
local WS = fixtures.WS
local ID = "0b9e8f7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
local TOKENS = {
  jwt = jwt.make('{"sub":"u1","exp":4102444800}'),
  pat = "pat_wsa3f8c2_e4b7e4b7e4b7e4b7e4b7",
  virtual_key = fixtures.VK,
}
local SAAS, AN, GW = "https://saas.test", "https://analytics.test", "https://gw.test/v1"

local function state(kind, with_workspace)
  return assert(core.state_new({
    token = TOKENS[kind],
    workspace_id = (with_workspace or kind == "pat") and WS or nil,
    base_url = SAAS, analytics_url = AN, gateway_url = GW,
  }))
end

-- who: "vk" (virtual key only), "jp" (JWT or PAT), "j" (JWT only), "any", "none" (public)
-- ws: whether X-Workspace-Id is sent ("yes", "no", "unless_vk")
local routes = {
  { "cockpit.health", "GET", SAAS .. "/api/v1/cockpit/health", nil, "none", "no" },
  { "cockpit.scope", "GET", SAAS .. "/api/v1/cockpit/scope", nil, "vk", "no" },
  { "cockpit.usage_summary", "GET", SAAS .. "/api/v1/cockpit/usage-summary?period=7d", { period = "7d" }, "vk", "no" },
  { "cockpit.daily_costs", "GET", SAAS .. "/api/v1/cockpit/daily-costs?period=30d", { period = "30d" }, "vk", "no" },
  { "cockpit.cost_by_model", "GET", SAAS .. "/api/v1/cockpit/cost-by-model?period=billing_cycle",
    { period = "billing_cycle" }, "vk", "no" },
  { "cockpit.budget_status", "GET", SAAS .. "/api/v1/cockpit/budget-status?period=24h", { period = "24h" }, "vk",
    "no" },
  { "cockpit.recent_requests", "GET", SAAS .. "/api/v1/cockpit/recent-requests?limit=20&offset=40",
    { offset = 40, limit = 20 }, "vk", "no" },
  { "analytics.overview", "GET", SAAS .. "/api/v1/analytics/overview", nil, "jp", "yes" },
  { "analytics.costs", "GET", SAAS .. "/api/v1/analytics/costs?dateFrom=2026-11-01&dateTo=2026-11-27",
    { to = "2026-11-27", from = "2026-11-01" }, "jp", "yes" },
  { "analytics.usage", "GET", SAAS .. "/api/v1/analytics/usage?dateFrom=2026-11-01&dateTo=2026-11-27&departmentId="
    .. ID, { from = "2026-11-01", to = "2026-11-27", department_id = ID }, "jp", "yes" },
  { "analytics.models", "GET", SAAS .. "/api/v1/analytics/models?dateFrom=2026-10-01&dateTo=2026-10-31",
    { from = "2026-10-01", to = "2026-10-31" }, "jp", "yes" },
  { "analytics.usage_history", "GET", SAAS .. "/api/v1/analytics/usage-history?months=6", { months = 6 }, "jp",
    "yes" },
  { "analytics.budget_status", "GET", SAAS .. "/api/v1/analytics/budget-status", nil, "jp", "yes" },
  { "analytics.efficiency", "GET", SAAS .. "/api/v1/analytics/efficiency", nil, "jp", "yes" },
  { "analytics.sparklines", "GET", SAAS .. "/api/v1/analytics/sparklines?metrics=spend%2Crequests",
    { metrics = "spend,requests" }, "jp", "yes" },
  { "analytics.live_24h", "GET", SAAS .. "/api/v1/analytics/live-24h?limit=5", { limit = 5 }, "jp", "yes" },
  { "analytics.timeseries", "GET", SAAS .. "/api/v1/analytics/usage/timeseries?metric=cost&granularity=hour&preset=7d",
    { preset = "7d", granularity = "hour", metric = "cost" }, "jp", "yes" },
  { "analytics.member", "GET", SAAS .. "/api/v1/analytics/members/" .. ID .. "/analytics?days=7",
    { member_id = ID, days = 7 }, "jp", "yes" },
  { "virtual_keys.list", "GET", SAAS .. "/api/v1/virtual-keys?page=2&pageSize=50&status=active&entityType=agent",
    { page = 2, page_size = 50, status = "active", entity_type = "agent" }, "jp", "yes" },
  { "virtual_keys.create", "POST", SAAS .. "/api/v1/virtual-keys", { label = "bot", master_key_id = ID, budget = 25.5,
    rate_limit_rpm = 60 }, "jp", "yes", { label = "bot", masterKeyId = ID, budget = 25.5, rateLimitRpm = 60 } },
  { "virtual_keys.update", "PATCH", SAAS .. "/api/v1/virtual-keys/" .. ID, { id = ID, budget = 10,
    budget_action = "block_requests" }, "jp", "yes", { budget = 10, budgetAction = "block_requests" } },
  { "virtual_keys.revoke", "POST", SAAS .. "/api/v1/virtual-keys/" .. ID .. "/revoke", { id = ID }, "jp", "yes" },
  { "agents.list", "GET", SAAS .. "/api/v1/agents?page=1&pageSize=25&departmentId=" .. ID ..
    "&status=active&environment=production&search=support%20bot", { search = "support bot", page = 1, page_size = 25,
    department_id = ID, status = "active", environment = "production" }, "jp", "yes" },
  { "agents.create", "POST", SAAS .. "/api/v1/agents", { name = "Support bot", provider_id = ID, model_id = "gpt-4o",
    environment = "staging" }, "jp", "yes",
    { name = "Support bot", providerId = ID, modelId = "gpt-4o", environment = "staging" } },
  { "agents.analytics", "GET", SAAS .. "/api/v1/agents/" .. ID .. "/analytics?days=30", { agent_id = ID, days = 30 },
    "jp", "yes" },
  { "members.list", "GET", SAAS .. "/api/v1/members?page=3&pageSize=200", { page = 3, page_size = 200 }, "jp", "yes" },
  { "departments.list", "GET", SAAS .. "/api/v1/departments?pageSize=10", { page_size = 10 }, "jp", "yes" },
  { "departments.analytics", "GET", SAAS .. "/api/v1/departments/" .. ID .. "/analytics", { department_id = ID },
    "jp", "yes" },
  { "master_keys.list", "GET", SAAS .. "/api/v1/master-keys", nil, "jp", "yes" },
  { "models.list", "GET", SAAS .. "/api/v1/models", nil, "any", "unless_vk" },
  { "subscriptions.current", "GET", SAAS .. "/api/v1/subscriptions/current", nil, "jp", "yes" },
  { "subscriptions.log_usage", "GET", SAAS .. "/api/v1/subscriptions/log-usage", nil, "jp", "yes" },
  { "policies.budget_control", "GET", SAAS .. "/api/v1/policies/budget-control", nil, "jp", "yes" },
  { "policies.set_budget_control", "PUT", SAAS .. "/api/v1/policies/budget-control",
    { config = { amount = 500, exceededAction = "alert-only" } }, "jp", "yes",
    { config = { amount = 500, exceededAction = "alert-only" } } },
  { "workspaces.list", "GET", SAAS .. "/api/v1/workspaces", nil, "j", "no" },
  { "workspaces.stats", "GET", SAAS .. "/api/v1/workspaces/" .. ID .. "/stats", { id = ID }, "j", "no" },
  { "logs.list", "GET", SAAS .. "/api/v1/logs", nil, "j", "yes" },
  { "pats.list", "GET", SAAS .. "/api/v1/pats?page=1&pageSize=20", { page = 1, page_size = 20 }, "j", "yes" },
  { "pats.create", "POST", SAAS .. "/api/v1/pats", { name = "ci", scopes = { "read", "write" },
    expires_at = "2027-01-01T00:00:00Z" }, "j", "yes",
    { name = "ci", scopes = { "read", "write" }, expires_at = "2027-01-01T00:00:00Z" } },
  { "pats.get", "GET", SAAS .. "/api/v1/pats/" .. ID, { id = ID }, "j", "yes" },
  { "pats.update", "PATCH", SAAS .. "/api/v1/pats/" .. ID, { id = ID, name = "ci-2" }, "j", "yes", { name = "ci-2" } },
  { "pats.revoke", "DELETE", SAAS .. "/api/v1/pats/" .. ID, { id = ID }, "j", "yes" },
  { "collector.health", "GET", AN .. "/v1/analytics/health", nil, "none", "no" },
  { "collector.usage", "GET", AN .. "/v1/analytics/saas/usage?dateFrom=2026-11-01&dateTo=2026-11-02&memberId=" .. ID,
    { from = "2026-11-01", to = "2026-11-02", member_id = ID }, "any", "yes" },
  { "collector.costs", "GET", AN .. "/v1/analytics/saas/costs?dateFrom=2026-11-01&dateTo=2026-11-02&departmentId=" ..
    ID, { from = "2026-11-01", to = "2026-11-02", department_id = ID }, "any", "yes" },
  { "collector.models", "GET", AN .. "/v1/analytics/saas/models?dateFrom=2026-11-01&dateTo=2026-11-02",
    { from = "2026-11-01", to = "2026-11-02" }, "any", "yes" },
  { "collector.logs", "GET", AN .. "/v1/analytics/saas/logs?start=2026-11-01T00%3A00%3A00Z&end=2026-11-02T00%3A00%3A00Z"
    .. "&entityType=member&limit=200&offset=400", { start = "2026-11-01T00:00:00Z", ["end"] = "2026-11-02T00:00:00Z",
    entity_type = "member", limit = 200, offset = 400 }, "any", "yes" },
  { "collector.request_logs", "GET", AN .. "/v1/analytics/request-logs?start=2026-11-01T00%3A00%3A00Z" ..
    "&end=2026-11-01T06%3A00%3A00%2B01%3A00&limit=50&entityType=agent&entityId=" .. ID .. "&status=200",
    { start = "2026-11-01T00:00:00Z", ["end"] = "2026-11-01T06:00:00+01:00", limit = 50, entity_type = "agent",
      entity_id = ID, status = "200" }, "any", "yes" },
  { "collector.request_log", "GET", AN .. "/v1/analytics/request-logs/req-123", { request_id = "req-123" }, "any",
    "yes" },
  { "gateway.chat", "POST", GW .. "/chat/completions", { model = "openai/gpt-4o-mini",
    messages = { { role = "user", content = "hi" } }, temperature = 0.2 }, "vk", "no",
    { model = "openai/gpt-4o-mini", messages = { { role = "user", content = "hi" } }, temperature = 0.2 } },
  { "gateway.completions", "POST", GW .. "/completions", { model = "m", prompt = "hi" }, "vk", "no",
    { model = "m", prompt = "hi" } },
  { "gateway.embeddings", "POST", GW .. "/embeddings", { model = "m", input = { "a", "b" } }, "vk", "no",
    { model = "m", input = { "a", "b" } } },
  { "gateway.images", "POST", GW .. "/images/generations", { model = "m", prompt = "a cat" }, "vk", "no",
    { model = "m", prompt = "a cat" } },
  { "gateway.responses", "POST", GW .. "/responses", { model = "m", input = "hi" }, "vk", "no",
    { model = "m", input = "hi" } },
  { "gateway.messages", "POST", GW .. "/messages", { model = "m", max_tokens = 5 }, "vk", "no",
    { model = "m", max_tokens = 5 } },
  { "gateway.models", "GET", GW .. "/models", nil, "vk", "no" },
  { "gateway.agent_events", "POST", GW .. "/agent/events", { type = "run.started", run_id = "run_1" }, "vk", "no",
    { type = "run.started", run_id = "run_1" } },
  { "gateway.tools_list", "POST", GW .. "/agent/tools/list", {}, "vk", "no", {} },
  { "gateway.tools_call", "POST", GW .. "/agent/tools/call", { name = "search", arguments = { q = "x" } }, "vk", "no",
    { name = "search", arguments = { q = "x" } } },
}

local accepts = {
  vk = { virtual_key = true }, jp = { jwt = true, pat = true }, j = { jwt = true },
  any = { jwt = true, pat = true, virtual_key = true }, none = { jwt = true, pat = true, virtual_key = true },
}

describe("catalog routes", function()
  it("has exactly the entries listed here", function()
    local listed = {}
    for _, r in ipairs(routes) do listed[r[1]] = true end
    for _, e in ipairs(core.endpoints()) do
      assert.is_true(listed[e.name] ~= nil, "no expectation for " .. e.name)
    end
    assert.equal(#routes, #core.endpoints())
  end)

  for _, r in ipairs(routes) do
    local name, method, url, params, who, ws, body = r[1], r[2], r[3], r[4], r[5], r[6], r[7]

    it(name .. ": the request for each accepted token kind", function()
      for kind in pairs(accepts[who]) do
        local req, err = state(kind, true):prepare(name, params)
        assert.is_table(req, name .. " " .. kind .. ": " .. tostring(err))
        assert.equal(method, req.method)
        assert.equal(url, req.url)
        local expected = { Accept = "application/json" }
        if who ~= "none" then expected.Authorization = "Bearer " .. TOKENS[kind] end
        if ws == "yes" or (ws == "unless_vk" and kind ~= "virtual_key") then expected["X-Workspace-Id"] = WS end
        if body then expected["Content-Type"] = "application/json" end
        assert.same(expected, req.headers)
        assert.same(body, req.body)
        assert.equal(method == "GET", req.idempotent)
      end
    end)

    if who ~= "none" and who ~= "any" then
      it(name .. ": refuses a token kind it does not accept, before any request", function()
        local refused = who == "vk" and "pat" or "virtual_key"
        local req, err = state(refused, true):prepare(name, params)
        assert.is_nil(req)
        assert.equal("auth", err.kind)
        assert.matches("^" .. name:gsub("%p", "%%%0") .. " accepts only ", err.message)
      end)
    end
  end
end)
