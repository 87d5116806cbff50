-- The exact request table state:prepare returns. prepare builds its keys and constant
-- values from cached strings and keeps each state's Authorization value with the state
-- (src/lua/state_prepare.c, bench/RESULTS.md part 2); these specs pin every field so that the
-- caching can never hand out a wrong key, value or another state's token.
local core = require "alephant.core"

local fixtures = require "spec.support.fixtures"
local WS = fixtures.WS
local ID = fixtures.ID
local VK = fixtures.VK
local PAT = fixtures.PAT
local PAT2 = "pat_other000_11111111111111111111"

local function state(token, workspace_id)
  return assert(core.state_new({
    token = token, workspace_id = workspace_id,
    base_url = "https://saas.test", analytics_url = "https://analytics.test", gateway_url = "https://gw.test/v1",
  }))
end

describe("state:prepare request tables", function()
  it("GET on the SaaS API: method, url, headers, endpoint, api, family, idempotent and nothing else", function()
    local req = assert(state(PAT, WS):prepare("analytics.usage", { from = "2026-10-29", to = "2026-11-27" }))
    assert.same({
      method = "GET",
      url = "https://saas.test/api/v1/analytics/usage?dateFrom=2026-10-29&dateTo=2026-11-27",
      headers = { Accept = "application/json", Authorization = "Bearer " .. PAT, ["X-Workspace-Id"] = WS },
      endpoint = "analytics.usage", api = "saas", family = "workspace", idempotent = true,
    }, req)
  end)

  it("paged lists say how they page", function()
    local s = state(PAT, WS)
    local logs = assert(s:prepare("collector.logs", { limit = 10, offset = 20 }))
    assert.equal("analytics", logs.api)
    assert.equal("offset", logs.paging)
    assert.equal("collector.logs", logs.endpoint)
    assert.equal("https://analytics.test/v1/analytics/saas/logs?limit=10&offset=20", logs.url)
    local keys = assert(s:prepare("virtual_keys.list", { page = 2 }))
    assert.equal("page", keys.paging)
    assert.equal("saas", keys.api)
  end)

  it("POST with a body on the gateway: Content-Type, body, not idempotent", function()
    local req = assert(state(VK):prepare("gateway.chat", { model = "gpt-4o-mini", messages = {}, temperature = 0 }))
    assert.same({
      method = "POST",
      url = "https://gw.test/v1/chat/completions",
      headers = { Accept = "application/json", Authorization = "Bearer " .. VK, ["Content-Type"] = "application/json" },
      body = { model = "gpt-4o-mini", messages = {}, temperature = 0 },
      endpoint = "gateway.chat", api = "gateway", family = "gateway", idempotent = false,
    }, req)
  end)

  it("sends no Authorization where the route takes no token", function()
    local req = assert(state(PAT, WS):prepare("collector.health"))
    assert.same({ Accept = "application/json" }, req.headers)
  end)

  it("each state sends its own token, also when many are alive", function()
    local a, b = state(PAT, WS), state(PAT2, WS)
    for _ = 1, 3 do
      assert.equal("Bearer " .. PAT, a:prepare("analytics.overview").headers.Authorization)
      assert.equal("Bearer " .. PAT2, b:prepare("analytics.overview").headers.Authorization)
    end
    a:close()
    assert.has_error(function() a:prepare("analytics.overview") end, "alephant: the client is closed")
    assert.equal("Bearer " .. PAT2, b:prepare("agents.analytics", { agent_id = ID }).headers.Authorization)
  end)

  it("gives every call fresh tables: changing one request does not change the next", function()
    local s = state(PAT, WS)
    local first = s:prepare("analytics.overview")
    first.headers.Authorization = "changed"
    first.headers["x-request-id"] = "1"
    first.method = "DELETE"
    local second = s:prepare("analytics.overview")
    assert.equal("Bearer " .. PAT, second.headers.Authorization)
    assert.is_nil(second.headers["x-request-id"])
    assert.equal("GET", second.method)
  end)
end)
