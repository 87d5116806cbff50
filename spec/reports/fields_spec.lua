-- The reports read the API's payloads defensively (docs/api-notes.md#workspace-analytics: field names
-- vary between id|entityId, name|label, cost|totalCost, ...). The emulator sends one
-- spelling, so the other ones come from a stand-in transport behind the real client.
local alephant = require "alephant"
local reports = require "alephant.reports"

local PAT = "pat_ws0117be_" .. string.rep("cd", 32)
local WS = "c324cd7a-d313-4940-89c6-e97f63f36704"
local NOW = os.time({ year = 2026, month = 11, day = 27, hour = 12 })

-- A client whose transport answers from `routes` (path -> JSON body) and records the
-- request URLs.
local function client(routes, seen)
  return assert(alephant.new({ token = PAT, workspace_id = WS, base_url = "http://127.0.0.1:1",
    getenv = function() return nil end, max_retries = 0, transport = { request = function(_, req)
      local path, query = req.url:match("^https?://[^/]+([^?]*)%??(.*)$")
      seen[#seen + 1] = path .. "?" .. query
      local body = routes[path]
      if type(body) == "function" then body = body(query) end
      if not body then return { status = 404, headers = {}, body = '{"code":40400,"message":"no route"}' } end
      return { status = 200, headers = { ["content-type"] = "application/json" }, body = body }
    end } }))
end

describe("reports with other spellings of the API's fields", function()
  it("costs: breakdowns keyed by dimension, entityId/label/totalCost, cents, items envelopes", function()
    local seen = {}
    local c = client({
      ["/api/v1/analytics/costs"] = [[{"data":{"breakdown":{
        "agents":[{"entityId":"a1","label":"Bot","totalCost":3,"totalRequests":7}],
        "members":{"items":[{"entity_id":"m1","displayName":"Ann","costCents":150}]},
        "department":[{"id":"d1","name":"Eng","total_cost":4.5}],
        "weird":[{"id":"x","cost":99}]}}}]],
      ["/api/v1/analytics/usage"] = function(q)
        if q:find("dateFrom=2026-11-26", 1, true) then
          return [[{"data":{"series":[{"date":"2026-11-26","totalCost":1.5},{"day":"2026-11-27T00:00:00Z",
            "costCents":300}]}}]]
        end
        return [[{"data":{"series":[]}}]]
      end,
      ["/api/v1/analytics/models"] = [[{"data":{"items":[{"label":"m-a","totalCost":2.5,"requestCount":3},
        {"name":"m-b","cost":"2"}]}}]],
    }, seen)
    local r = assert(reports.costs(c, { from = "2026-11-26", to = "2026-11-27", now = NOW }))
    assert.equal(4.5, r.total) -- no totals: the sum of the series (1.5 + 300 cents)
    assert.same({ 1.5, 3 }, { r.daily[1].cost, r.daily[2].cost })
    assert.equal(0, r.previous.total)
    assert.equal("baseline_zero", r.change_reason)
    assert.same({ kind = "item", rank = 1, id = "a1", name = "Bot", cost = 3, share_pct = 3 / 4.5 * 100,
      requests = 7 }, r.top.agents[1])
    assert.equal("(not by an agent)", r.top.agents[2].name)
    assert.same({ "m1", "Ann", 1.5 }, { r.top.members[1].id, r.top.members[1].name, r.top.members[1].cost })
    assert.equal(4.5, r.top.departments[1].cost)
    assert.equal(1, #r.top.departments) -- 4.5 of 4.5: no remainder row
    assert.same({ "m-a", "m-b" }, { r.top.models[1].name, r.top.models[2].name })
    assert.equal(3, r.top.models[1].requests)
    assert.equal(4, #seen)
  end)

  it("costs: a breakdown larger than the total still gives shares that add up to 100", function()
    local c = client({
      ["/api/v1/analytics/costs"] = [[{"data":{"breakdown":[{"dimension":"model","items":[{"id":"a","cost":6},
        {"id":"b","cost":4}]}]}}]],
      ["/api/v1/analytics/usage"] = [[{"data":{"series":[],"totals":{"cost":5}}}]],
      ["/api/v1/analytics/models"] = [[{"data":[]}]],
    }, {})
    local r = assert(reports.costs(c, { days = 2, now = NOW }))
    assert.equal(5, r.total)
    assert.same({ 60, 40 }, { r.top.models[1].share_pct, r.top.models[2].share_pct }) -- from the breakdown
    assert.same({}, r.top.agents) -- no agent breakdown in the answer: nothing to show, not "100% elsewhere"
  end)

  it("idle_keys: lastUsedAt or last_used_at decides when the API sends it", function()
    local c = client({
      ["/api/v1/analytics/costs"] = [[{"data":{"breakdown":[{"dimension":"agent","items":[
        {"id":"busy","cost":1,"requests":3}]}]}}]],
      ["/api/v1/virtual-keys"] = [[{"code":0,"data":[
        {"id":"k1","label":"old","status":"active","lastUsedAt":"2026-10-18T10:00:00Z","entityId":"busy"},
        {"id":"k2","label":"recent","status":"active","last_used_at":"2026-11-20"},
        {"id":"k3","label":"bound, busy","status":"active","entity_id":"busy"},
        {"id":"k4","label":"bound, quiet","status":"active","entityId":"quiet","entityType":"member"},
        {"id":"k5","label":"revoked","status":"revoked"}],"pagination":{"page":1,"pageSize":200,"total":5}}]],
    }, {})
    local r = assert(reports.idle_keys(c, { days = 30, now = NOW }))
    assert.equal(4, r.checked)
    assert.equal(2, #r.items)
    -- unknown last use first; then the key idle for 40 days: its own lastUsedAt wins over its busy agent
    assert.same({ "bound, quiet", "entity", "member" }, { r.items[1].label, r.items[1].basis, r.items[1].entity_type })
    assert.same({ "old", "last_used_at", "2026-10-18", 40 },
      { r.items[2].label, r.items[2].basis, r.items[2].last_used, r.items[2].idle_days })
  end)

  it("budgets: cents or dollars, and entities without a budget are not counted", function()
    local page = [[{"code":0,"data":%s,"pagination":{"page":1,"pageSize":200,"total":%d}}]]
    local c = client({
      ["/api/v1/virtual-keys"] = page:format([=[[{"id":"k1","label":"dollars","status":"active","budget":10,
        "spent":9},{"id":"k2","label":"none","status":"active","spentCents":500}]]=], 2),
      ["/api/v1/analytics/costs"] = [[{"data":{"period":{"from":"2026-11-01","to":"2026-11-30"},
        "breakdown":[{"dimension":"member","items":[{"entityId":"m1","totalCost":45}]}]}}]],
      ["/api/v1/members"] = page:format([=[[{"id":"m1","displayName":"Ann","monthly_budget_cents":5000}]]=], 1),
      ["/api/v1/agents"] = page:format("[]", 0),
      ["/api/v1/departments"] = page:format([=[[{"id":"d1","name":"Eng","periodCost":1}]]=], 1),
      ["/api/v1/analytics/budget-status"] = [[{"data":{"budgetCents":100000,"spentCents":100}}]],
    }, {})
    local r = assert(reports.budgets(c))
    assert.equal(3, r.checked)
    assert.same({ from = "2026-11-01", to = "2026-11-30" }, r.period)
    assert.same({ "member", "Ann", 45, 50, 90 }, { r.items[1].kind, r.items[1].name, r.items[1].spent,
      r.items[1].budget, r.items[1].used_pct })
    assert.same({ "virtual_key", "dollars", 90 }, { r.items[2].kind, r.items[2].name, r.items[2].used_pct })
    assert.equal(2, #r.items)
  end)
end)
