-- SaaS API /api/v1: envelopes, pagination, validation and resources (reference 3.4, 3.5, 4).
local emulator = require("spec.support.emulator")

local function ymd(offset_days)
  return os.date("!%Y-%m-%d", os.time() + (offset_days or 0) * 86400)
end

describe("emulator SaaS API", function()
  local emu = emulator.session({ reset = false })
  local t, ids = emu.tokens, emu.ids

  local function get(path, query, token)
    local status, text, h, json = emu:request("GET", path, { token = token or t.pat_read,
      workspace = ids.workspace_1, query = query })
    assert.is_truthy(status, text)
    return status, json, h
  end

  local function send(method, path, body, token)
    local status, text, h, json = emu:request(method, path, { token = token or t.pat_admin,
      workspace = ids.workspace_1, body = body })
    assert.is_truthy(status, text)
    return status, json, h, text
  end

  local function bad_request(pattern, status, json)
    assert.equal(400, status)
    assert.equal(40000, json.code)
    assert.equal(emulator.null, json.data)
    if pattern then assert.matches(pattern, json.message) end
  end

  describe("envelope", function()
    it("wraps success as {code:0, data}", function()
      local s, j = get("/api/v1/analytics/overview")
      assert.equal(200, s)
      assert.equal(0, j.code)
      assert.is_table(j.data)
      assert.equal(4, j.data.totalAgents)
      assert.equal(4, j.data.totalMembers)
      assert.equal(3, j.data.totalDepartments)
      assert.equal(8, j.data.totalVirtualKeys)
      assert.is_true(j.data.totalCostCents > 0)
      assert.is_true(j.data.totalRequests > 0)
    end)

    it("errors are {code, message, data:null} with the HTTP status", function()
      local s, j = get("/api/v1/no-such-route")
      assert.equal(404, s)
      assert.same({ code = 40400, message = "No route for GET /api/v1/no-such-route", data = emulator.null }, j)
      s, j = send("DELETE", "/api/v1/agents")
      assert.equal(405, s)
      assert.equal(40500, j.code)
    end)
  end)

  describe("pagination", function()
    it("page/pageSize with totals across pages", function()
      local seen, total = {}, nil
      for page = 1, 3 do
        local s, j = get("/api/v1/virtual-keys", { page = page, pageSize = 3 })
        assert.equal(200, s)
        assert.same({ page = page, pageSize = 3, total = 8 }, j.pagination)
        total = j.pagination.total
        for _, vk in ipairs(j.data) do
          assert.is_nil(seen[vk.id])
          seen[vk.id] = true
        end
        assert.equal(page < 3 and 3 or 2, #j.data)
      end
      local n = 0
      for _ in pairs(seen) do n = n + 1 end
      assert.equal(total, n)
      local _, j = get("/api/v1/virtual-keys", { page = 4, pageSize = 3 })
      assert.equal(0, #j.data)
      assert.equal(8, j.pagination.total)
    end)

    it("applies to agents, members, departments and pats", function()
      local _, j = get("/api/v1/agents", { pageSize = 2 })
      assert.same({ page = 1, pageSize = 2, total = 4 }, j.pagination)
      _, j = get("/api/v1/members", { page = 2, pageSize = 3 })
      assert.same({ page = 2, pageSize = 3, total = 4 }, j.pagination)
      assert.equal(1, #j.data)
      _, j = get("/api/v1/departments")
      assert.same({ page = 1, pageSize = 50, total = 3 }, j.pagination)
      _, j = get("/api/v1/pats", { pageSize = 1 }, t.jwt)
      assert.same({ page = 1, pageSize = 1, total = 4 }, j.pagination)
    end)

    it("rejects page < 1 and pageSize outside 1..200", function()
      for _, q in ipairs({ { page = 0 }, { page = "x" }, { pageSize = 0 }, { pageSize = 201 }, { pageSize = 1.5 } }) do
        local s, j = get("/api/v1/agents", q)
        bad_request(nil, s, j)
      end
      assert.equal(200, (get("/api/v1/agents", { pageSize = 200 })))
    end)
  end)

  describe("date validation", function()
    local routes = { "/api/v1/analytics/overview", "/api/v1/analytics/costs", "/api/v1/analytics/usage",
      "/api/v1/analytics/models" }

    it("accepts both or neither", function()
      for _, r in ipairs(routes) do
        assert.equal(200, (get(r)))
        assert.equal(200, (get(r, { dateFrom = ymd(-6), dateTo = ymd(0) })))
      end
    end)

    it("400 on one-sided, malformed, impossible or reversed dates", function()
      local cases = {
        { { dateFrom = "2026-01-01" }, "together" },
        { { dateTo = "2026-01-01" }, "together" },
        { { dateFrom = "2026-1-01", dateTo = "2026-01-02" }, "dateFrom" },
        { { dateFrom = "2026-01-01", dateTo = "20260102" }, "dateTo" },
        { { dateFrom = "2026-02-30", dateTo = "2026-03-01" }, "dateFrom" },
        { { dateFrom = "2025-02-29", dateTo = "2025-03-01" }, "dateFrom" },
        { { dateFrom = "2026-13-01", dateTo = "2026-13-02" }, "dateFrom" },
        { { dateFrom = "2026-03-02", dateTo = "2026-03-01" }, "after" },
      }
      for _, r in ipairs(routes) do
        for _, c in ipairs(cases) do
          local s, j = get(r, c[1])
          bad_request(c[2], s, j)
        end
      end
      -- a leap day is a real date
      assert.equal(200, (get(routes[1], { dateFrom = "2024-02-29", dateTo = "2024-02-29" })))
    end)
  end)

  describe("usage", function()
    it("returns a daily series for the range", function()
      local s, j = get("/api/v1/analytics/usage", { dateFrom = ymd(-6), dateTo = ymd(0) })
      assert.equal(200, s)
      assert.equal(7, #j.data.series)
      assert.equal(ymd(-6), j.data.series[1].date)
      local sum = 0
      for _, row in ipairs(j.data.series) do
        assert.is_number(row.cost)
        assert.is_number(row.requests)
        assert.is_number(row.tokens)
        sum = sum + row.requests
      end
      assert.equal(sum, j.data.totals.requests)
      assert.equal(emulator.null, j.data.scope)
    end)

    it("scopes to one agent, member or department", function()
      local _, all = get("/api/v1/analytics/usage", { dateFrom = ymd(-6), dateTo = ymd(0) })
      local _, a = get("/api/v1/analytics/usage", { dateFrom = ymd(-6), dateTo = ymd(0), agentId = ids.support_bot })
      assert.same({ type = "agent", id = ids.support_bot }, a.data.scope)
      assert.is_true(a.data.totals.requests > 0)
      assert.is_true(a.data.totals.requests < all.data.totals.requests)
      local _, d = get("/api/v1/analytics/usage", { dateFrom = ymd(-6), dateTo = ymd(0), departmentId = ids.support })
      assert.is_true(d.data.totals.requests >= a.data.totals.requests)
    end)

    it("400 for more than one scope and for non-UUID scopes", function()
      local s, j = get("/api/v1/analytics/usage", { agentId = ids.support_bot, memberId = ids.alice })
      bad_request("Only one of", s, j)
      s, j = get("/api/v1/analytics/usage", { departmentId = ids.support, memberId = ids.alice })
      bad_request(nil, s, j)
      s, j = get("/api/v1/analytics/usage", { agentId = "agt_support_bot" })
      bad_request("agentId must be a UUID", s, j)
    end)

    it("is deterministic", function()
      local q = { dateFrom = ymd(-30), dateTo = ymd(-1) }
      local _, a = get("/api/v1/analytics/usage", q)
      local _, b = get("/api/v1/analytics/usage", q)
      assert.same(a.data, b.data)
    end)

    it("costs breakdown and models add up", function()
      local q = { dateFrom = ymd(-13), dateTo = ymd(0) }
      local _, u = get("/api/v1/analytics/usage", q)
      local _, c = get("/api/v1/analytics/costs", q)
      local _, m = get("/api/v1/analytics/models", q)
      local dims = {}
      for _, b in ipairs(c.data.breakdown) do dims[b.dimension] = b.items end
      assert.is_truthy(dims.agent and dims.member and dims.department and dims.master_key and dims.model)
      local function total(items)
        local n = 0
        for _, it in ipairs(items) do n = n + it.requests end
        return n
      end
      assert.equal(u.data.totals.requests, total(dims.model))
      assert.equal(u.data.totals.requests, total(dims.agent) + total(dims.member))
      assert.equal(u.data.totals.requests, total(m.data))
    end)
  end)

  describe("other analytics", function()
    it("usage-history months 1..24 with null changePercent where it cannot be computed", function()
      local s, j = get("/api/v1/analytics/usage-history", { months = 12 })
      assert.equal(200, s)
      assert.equal(12, #j.data.months)
      assert.equal(emulator.null, j.data.months[1].changePercent)
      assert.equal("no_prev_window", j.data.months[1].changeReason)
      assert.equal("computed", j.data.months[12].changeReason)
      assert.is_number(j.data.months[12].changePercent)
      assert.equal(os.date("!%Y-%m"), j.data.months[12].month)
      local _, d = get("/api/v1/analytics/usage-history")
      assert.equal(12, #d.data.months)
      for _, m in ipairs({ 0, 25, -1, "x" }) do
        local s2, j2 = get("/api/v1/analytics/usage-history", { months = m })
        bad_request("months", s2, j2)
      end
      assert.equal(200, (get("/api/v1/analytics/usage-history", { months = 24 })))
      assert.equal(200, (get("/api/v1/analytics/usage-history", { months = 1 })))
    end)

    it("timeseries validates metric, granularity and preset; hour + success_rate/latency is 40010", function()
      local s, j = get("/api/v1/analytics/usage/timeseries", { metric = "cost", preset = "7d" })
      assert.equal(200, s)
      assert.equal(7, #j.data.points)
      s, j = get("/api/v1/analytics/usage/timeseries", { metric = "requests", granularity = "hour", preset = "7d" })
      assert.equal(200, s)
      assert.equal(7 * 24, #j.data.points)
      for _, m in ipairs({ "success_rate", "latency" }) do
        s, j = get("/api/v1/analytics/usage/timeseries", { metric = m, granularity = "hour" })
        assert.equal(400, s)
        assert.equal(40010, j.code)
        assert.equal(emulator.null, j.data)
        assert.equal(200, (get("/api/v1/analytics/usage/timeseries", { metric = m, granularity = "day" })))
      end
      bad_request(nil, get("/api/v1/analytics/usage/timeseries", { metric = "profit" }))
      bad_request(nil, get("/api/v1/analytics/usage/timeseries", { granularity = "week" }))
      bad_request(nil, get("/api/v1/analytics/usage/timeseries", { preset = "2y" }))
    end)

    it("members/agents analytics take days in {1, 7, 30}", function()
      for _, d in ipairs({ 1, 7, 30 }) do
        local s, j = get("/api/v1/analytics/members/" .. ids.alice .. "/analytics", { days = d })
        assert.equal(200, s)
        assert.equal(d, #j.data.series)
        s, j = get("/api/v1/agents/" .. ids.support_bot .. "/analytics", { days = d })
        assert.equal(200, s)
        assert.equal(d, #j.data.series)
        assert.equal(ids.support_bot, j.data.agentId)
      end
      for _, d in ipairs({ 0, 2, 14, 31, "x" }) do
        bad_request("days", get("/api/v1/analytics/members/" .. ids.alice .. "/analytics", { days = d }))
        bad_request("days", get("/api/v1/agents/" .. ids.support_bot .. "/analytics", { days = d }))
      end
      bad_request("UUID", get("/api/v1/agents/not-a-uuid/analytics"))
      local s, j = get("/api/v1/agents/" .. ids.globex_analyst .. "/analytics")
      assert.equal(404, s)
      assert.equal(40400, j.code)
    end)

    it("department analytics are the documented placeholder zeros", function()
      local s, j = get("/api/v1/departments/" .. ids.engineering .. "/analytics")
      assert.equal(200, s)
      assert.equal(0, j.data.spend)
      assert.equal(0, j.data.requests)
      assert.equal(2, j.data.agentCount)
      bad_request(nil, get("/api/v1/departments/" .. ids.engineering .. "/analytics", { days = 3 }))
    end)

    it("sparklines, live-24h, budget-status, subscription", function()
      local s, j = get("/api/v1/analytics/sparklines", { metrics = "spend,requests" })
      assert.equal(200, s)
      assert.equal(7, #j.data.spend)
      assert.equal(7, #j.data.requests)
      assert.is_nil(j.data.latency)
      s, j = get("/api/v1/analytics/sparklines")
      assert.equal(200, s)
      for _, k in ipairs({ "spend", "requests", "tokens", "success", "latency" }) do assert.equal(7, #j.data[k]) end
      bad_request(nil, get("/api/v1/analytics/sparklines", { metrics = "spend,bogus" }))
      s, j = get("/api/v1/analytics/live-24h", { limit = 2 })
      assert.equal(200, s)
      assert.is_true(#j.data.topModels <= 2)
      assert.is_number(j.data.summary.requests)
      bad_request(nil, get("/api/v1/analytics/live-24h", { limit = 11 }))
      s, j = get("/api/v1/analytics/budget-status")
      assert.equal(200, s)
      assert.equal(500, j.data.budget)
      s, j = get("/api/v1/subscriptions/current")
      assert.equal(200, s)
      assert.equal("team", j.data.plan)
      assert.matches("^%d%d%d%d%-%d%d%-15$", j.data.billingCycleStart)
      s, j = get("/api/v1/subscriptions/log-usage")
      assert.equal(200, s)
      assert.is_number(j.data.logsThisPeriod)
    end)
  end)

  describe("virtual keys", function()
    after_each(function() emu:reset() end)

    it("lists with status and entity filters", function()
      local _, j = get("/api/v1/virtual-keys", { status = "revoked" })
      assert.equal(1, j.pagination.total)
      assert.equal(ids.vk_revoked, j.data[1].id)
      _, j = get("/api/v1/virtual-keys", { status = "expired" })
      assert.equal(ids.vk_expired, j.data[1].id)
      _, j = get("/api/v1/virtual-keys", { entityType = "member" })
      assert.equal(3, j.pagination.total)
      for _, vk in ipairs(j.data) do assert.is_nil(vk.token) end
    end)

    it("creates a key that then works on the gateway and the cockpit", function()
      local s, j = send("POST", "/api/v1/virtual-keys", { label = "CI key", masterKeyId = ids.openai, budget = 12.5,
        rateLimitRpm = 100, entityType = "agent", entityId = ids.research_scout }, t.pat_write)
      assert.equal(201, s)
      assert.equal(0, j.code)
      assert.matches("^vk%-agent%-%x+$", j.data.token)
      assert.equal(1250, j.data.budgetCents)
      assert.equal("active", j.data.status)
      local token, id = j.data.token, j.data.id
      local cs, scope = emu:request("GET", "/api/v1/cockpit/scope", { token = token })
      assert.equal(200, cs, scope)
      local _, _, _, sj = emu:request("GET", "/api/v1/cockpit/scope", { token = token })
      assert.equal(ids.research_scout, sj.entity.id)
      assert.equal(emulator.null, sj.entity.department_id)
      local _, l = get("/api/v1/virtual-keys")
      assert.equal(9, l.pagination.total)
      -- revoke it: idempotent, and the token stops working
      s, j = send("POST", "/api/v1/virtual-keys/" .. id .. "/revoke", nil, t.pat_write)
      assert.equal(200, s)
      assert.equal("revoked", j.data.status)
      s = send("POST", "/api/v1/virtual-keys/" .. id .. "/revoke", nil, t.pat_write)
      assert.equal(200, s)
      assert.equal(401, (emu:request("GET", "/api/v1/cockpit/scope", { token = token })))
    end)

    it("validates the create body", function()
      local base = { label = "x", masterKeyId = ids.openai }
      local function with(k, v)
        local b = {}
        for kk, vv in pairs(base) do b[kk] = vv end
        b[k] = v
        return b
      end
      bad_request("label", send("POST", "/api/v1/virtual-keys", with("label", "")))
      bad_request("label", send("POST", "/api/v1/virtual-keys", with("label", string.rep("a", 101))))
      bad_request("masterKeyId", send("POST", "/api/v1/virtual-keys", with("masterKeyId", "nope")))
      bad_request("masterKeyId", send("POST", "/api/v1/virtual-keys", with("masterKeyId", ids.globex_openai)))
      bad_request("rateLimitRpm", send("POST", "/api/v1/virtual-keys", with("rateLimitRpm", 0)))
      bad_request("rateLimitRpm", send("POST", "/api/v1/virtual-keys", with("rateLimitRpm", 10001)))
      bad_request("budget", send("POST", "/api/v1/virtual-keys", with("budget", -1)))
      bad_request("entityType", send("POST", "/api/v1/virtual-keys", with("entityType", "robot")))
      local s, _, _, j = emu:request("POST", "/api/v1/virtual-keys", { token = t.pat_admin,
        workspace = ids.workspace_1, body = "{not json" })
      bad_request("JSON object", s, j)
    end)

    it("patches budget fields and refuses a revoked key", function()
      local s, j = send("PATCH", "/api/v1/virtual-keys/" .. ids.vk_agent, { budget = 75, budgetAction = "alert_only" })
      assert.equal(200, s)
      assert.equal(7500, j.data.budgetCents)
      assert.equal("alert_only", j.data.budgetAction)
      s, j = send("PATCH", "/api/v1/virtual-keys/" .. ids.vk_revoked, { budget = 1 })
      assert.equal(409, s)
      assert.equal(40900, j.code)
      s, j = send("PATCH", "/api/v1/virtual-keys/" .. ids.vk_ws2, { budget = 1 })
      assert.equal(404, s)
      assert.equal(40400, j.code)
      bad_request("UUID", send("PATCH", "/api/v1/virtual-keys/xyz", { budget = 1 }))
    end)
  end)

  describe("agents, members, departments, master keys, models", function()
    after_each(function() emu:reset() end)

    it("agents list filters and create", function()
      local _, j = get("/api/v1/agents", { departmentId = ids.engineering })
      assert.equal(2, j.pagination.total)
      _, j = get("/api/v1/agents", { status = "inactive" })
      assert.equal(1, j.pagination.total)
      _, j = get("/api/v1/agents", { search = "bot" })
      assert.equal("Support Bot", j.data[1].name)
      bad_request("departmentId", get("/api/v1/agents", { departmentId = "eng" }))
      local s, c = send("POST", "/api/v1/agents", { name = "New agent", departmentId = ids.support,
        environment = "staging" }, t.pat_write)
      assert.equal(201, s)
      assert.equal("New agent", c.data.name)
      assert.equal(ids.support, c.data.departmentId)
      _, j = get("/api/v1/agents")
      assert.equal(5, j.pagination.total)
      bad_request("name", send("POST", "/api/v1/agents", { name = "" }))
      bad_request("environment", send("POST", "/api/v1/agents", { name = "x", environment = "prod" }))
    end)

    it("members, departments, master keys and models", function()
      local _, j = get("/api/v1/members", { departmentId = ids.engineering })
      assert.equal(1, j.pagination.total)
      local carol
      _, j = get("/api/v1/members")
      for _, m in ipairs(j.data) do if m.id == ids.carol then carol = m end end
      assert.equal(emulator.null, carol.departmentId)
      _, j = get("/api/v1/departments")
      assert.equal(3, #j.data)
      local s
      s, j = get("/api/v1/master-keys")
      assert.equal(200, s)
      assert.equal(3, #j.data)
      assert.is_nil(j.pagination)
      s, j = get("/api/v1/models")
      assert.equal(200, s)
      assert.is_true(#j.data >= 5)
    end)
  end)

  describe("budget-control policy", function()
    after_each(function() emu:reset() end)

    it("round-trips and bumps a version; a stale version is 409", function()
      local _, cur = get("/api/v1/policies/budget-control")
      assert.equal(500, cur.data.config.amount)
      local v = cur.data.version
      local cfg = cur.data.config
      cfg.amount = 750
      local s, j = send("PUT", "/api/v1/policies/budget-control", { config = cfg, version = v })
      assert.equal(200, s)
      assert.equal(750, j.data.config.amount)
      assert.equal(v + 1, j.data.version)
      s, j = send("PUT", "/api/v1/policies/budget-control", { config = cfg, version = v })
      assert.equal(409, s)
      assert.equal(40900, j.code)
      bad_request("amount", send("PUT", "/api/v1/policies/budget-control", { config = { amount = -5 } }))
      bad_request("config", send("PUT", "/api/v1/policies/budget-control", { nope = true }))
    end)
  end)

  describe("JWT-only resources", function()
    after_each(function() emu:reset() end)

    it("lists workspaces and their stats", function()
      local s, _, _, j = emu:request("GET", "/api/v1/workspaces", { token = t.jwt })
      assert.equal(200, s)
      assert.equal(2, #j.data)
      s, _, _, j = emu:request("GET", "/api/v1/workspaces/" .. ids.workspace_1 .. "/stats", { token = t.jwt })
      assert.equal(200, s)
      assert.equal(ids.workspace_1, j.data.workspaceId)
      assert.equal("team", j.data.tier)
      assert.equal(4, j.data.totalAgents)
      s = emu:request("GET", "/api/v1/workspaces/" .. ids.workspace_1 .. "/stats", { token = t.jwt_ws2 })
      assert.equal(403, s)
      s = emu:request("GET", "/api/v1/workspaces/00000000-0000-4000-8000-000000000000/stats", { token = t.jwt })
      assert.equal(404, s)
      s = emu:request("GET", "/api/v1/workspaces/nope/stats", { token = t.jwt })
      assert.equal(400, s)
    end)

    it("pages through logs", function()
      local _, p1 = get("/api/v1/logs", { pageSize = 5 }, t.jwt)
      assert.equal(5, #p1.data)
      assert.is_true(p1.pagination.total > 5)
      local _, p2 = get("/api/v1/logs", { pageSize = 5, page = 2 }, t.jwt)
      assert.is_not.equal(p1.data[1].request_id, p2.data[1].request_id)
    end)

    it("PAT create, get, patch, delete (204) and the new token works", function()
      local s, j = send("POST", "/api/v1/pats", { name = "ci", scopes = { "read", "write" } }, t.jwt)
      assert.equal(201, s)
      local pat = j.data
      assert.matches("^pat_ws%x%x%x%x%x%x_%x+$", pat.token)
      assert.equal(ids.workspace_1, pat.workspace_id)
      assert.equal("Acme Robotics", pat.workspace_name)
      assert.equal(emulator.null, pat.expires_at)
      assert.equal(pat.token:sub(1, 12), pat.token_prefix)
      assert.equal(200, (get("/api/v1/agents", nil, pat.token)))
      local _, l = get("/api/v1/pats", nil, t.jwt)
      assert.equal(5, l.pagination.total)
      for _, p in ipairs(l.data) do assert.is_nil(p.token) end
      s, j = get("/api/v1/pats/" .. pat.id, nil, t.jwt)
      assert.equal(200, s)
      assert.same({ "read", "write" }, j.data.scopes)
      s, j = send("PATCH", "/api/v1/pats/" .. pat.id, { name = "ci-renamed" }, t.jwt)
      assert.equal(200, s)
      assert.equal("ci-renamed", j.data.name)
      local ds, _, _, dtext = send("DELETE", "/api/v1/pats/" .. pat.id, nil, t.jwt)
      assert.equal(204, ds)
      assert.equal("", dtext)
      assert.equal(204, (send("DELETE", "/api/v1/pats/" .. pat.id, nil, t.jwt)))
      local rs, rj = get("/api/v1/agents", nil, pat.token)
      assert.equal(401, rs)
      assert.equal("Token has been revoked", rj.message)
      assert.equal(404, (get("/api/v1/pats/" .. pat.id, nil, t.jwt)))
      assert.equal(404, (get("/api/v1/pats/00000000-0000-4000-8000-000000000000", nil, t.jwt)))
    end)

    it("validates PAT bodies", function()
      bad_request("name", send("POST", "/api/v1/pats", { name = "", scopes = { "read" } }, t.jwt))
      bad_request("name", send("POST", "/api/v1/pats", { name = string.rep("n", 101), scopes = { "read" } }, t.jwt))
      bad_request("scopes", send("POST", "/api/v1/pats", { name = "x", scopes = {} }, t.jwt))
      bad_request("scope", send("POST", "/api/v1/pats", { name = "x", scopes = { "root" } }, t.jwt))
      bad_request("expires_at", send("POST", "/api/v1/pats", { name = "x", scopes = { "read" },
        expires_at = "soon" }, t.jwt))
      bad_request("future", send("POST", "/api/v1/pats", { name = "x", scopes = { "read" },
        expires_at = "2020-01-01T00:00:00Z" }, t.jwt))
      local s, j = send("POST", "/api/v1/pats", { name = "x", scopes = { "read" },
        expires_at = "2099-01-01T00:00:00Z" }, t.jwt)
      assert.equal(201, s)
      assert.equal("2099-01-01T00:00:00Z", j.data.expires_at)
    end)
  end)
end)
