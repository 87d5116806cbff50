-- Cockpit /api/v1/cockpit/*: envelopes, JSON null, degraded answers, pagination (reference 2, 3.3).
local emulator = require("spec.support.emulator")

describe("emulator Cockpit", function()
  local emu = emulator.session({ reset = false })
  local t, ids = emu.tokens, emu.ids

  local function get(path, token, query, headers)
    local status, text, h, json = emu:request("GET", "/api/v1/cockpit/" .. path, { token = token, query = query,
      headers = headers })
    assert.is_truthy(status, text)
    return status, json, text, h
  end

  describe("scope", function()
    it("answers with top-level fields", function()
      local s, j = get("scope", t.vk_agent)
      assert.equal(200, s)
      assert.is_false(j.degraded)
      assert.equal("live", j.data_source)
      assert.same({ id = ids.workspace_1, name = "Acme Robotics" }, j.workspace)
      assert.equal(ids.vk_agent, j.virtual_key.id)
      assert.equal(t.vk_agent:sub(1, 16), j.virtual_key.prefix)
      assert.equal("active", j.virtual_key.status)
      assert.same({ "openai/gpt-4o-mini", "anthropic/claude-3-5-haiku" }, j.virtual_key.allowed_models)
      assert.same({ type = "agent", id = ids.support_bot, name = "Support Bot", department = "Support",
        department_id = ids.support }, j.entity)
      assert.is_nil(j.data)
    end)

    it("uses the {data:{...}} envelope on request", function()
      local s, j = get("scope", t.vk_agent, nil, { ["X-Emulator-Envelope"] = "data" })
      assert.equal(200, s)
      assert.is_table(j.data)
      assert.equal(ids.workspace_1, j.data.workspace.id)
      assert.is_nil(j.workspace)
    end)

    it("department_id is JSON null for an entity without a department", function()
      local _, j, text = get("scope", t.vk_agent_nodept)
      assert.equal(ids.research_scout, j.entity.id)
      assert.equal(emulator.null, j.entity.department_id)
      assert.equal(emulator.null, j.entity.department)
      assert.matches('"department_id":null', text)
      _, j, text = get("scope", t.vk_member_nodept)
      assert.equal("member", j.entity.type)
      assert.equal(ids.carol, j.entity.id)
      assert.matches('"department_id":null', text)
    end)

    it("entity is null for an unbound key", function()
      local s, j, text = get("scope", t.vk_unbound)
      assert.equal(200, s)
      assert.equal(emulator.null, j.entity)
      assert.matches('"entity":null', text)
      assert.equal(ids.workspace_1, j.workspace.id)
    end)

    it("member-bound key", function()
      local _, j = get("scope", t.vk_member)
      assert.same({ type = "member", id = ids.alice, name = "Alice Chen", department = "Engineering",
        department_id = ids.engineering }, j.entity)
    end)
  end)

  describe("analytics", function()
    it("usage-summary totals match daily-costs over the same period", function()
      for _, period in ipairs({ "24h", "7d", "30d", "billing_cycle" }) do
        local s, sum = get("usage-summary", t.vk_agent, { period = period })
        assert.equal(200, s)
        assert.is_false(sum.degraded)
        assert.equal(period, sum.period.key)
        local _, daily = get("daily-costs", t.vk_agent, { period = period })
        local cents, reqs = 0, 0
        for _, d in ipairs(daily.data) do
          cents = cents + d.cost_cents
          reqs = reqs + d.requests
        end
        assert.equal(sum.total_requests, reqs)
        assert.is_true(math.abs(sum.total_cost_cents - cents) <= #daily.data, period)
        assert.is_number(sum.total_tokens.input)
        assert.is_number(sum.total_tokens.output)
      end
      local _, sum = get("usage-summary", t.vk_agent)
      assert.equal("billing_cycle", sum.period.key)
      assert.matches("%-15$", sum.period.from)
      local _, d7 = get("daily-costs", t.vk_agent, { period = "7d" })
      assert.equal(7, #d7.data)
      assert.equal(os.date("!%Y-%m-%d"), d7.data[7].date)
    end)

    it("cost-by-model percentages add up to 100", function()
      local s, j = get("cost-by-model", t.vk_agent, { period = "30d" })
      assert.equal(200, s)
      assert.equal(2, #j.data)
      local pct = 0
      for _, m in ipairs(j.data) do
        pct = pct + m.pct
        assert.is_string(m.provider)
        assert.is_number(m.cost_cents)
      end
      assert.is_true(math.abs(pct - 100) < 0.05)
    end)

    it("budget-status defaults to 30d and reports both budgets", function()
      local s, j = get("budget-status", t.vk_agent)
      assert.equal(200, s)
      assert.equal("30d", j.period.key)
      local b = j.virtual_key_budget
      assert.equal(5000, b.budget_cents)
      assert.equal(b.budget_cents - b.spent_cents, b.remaining_cents)
      assert.equal("monthly", b.budget_window)
      assert.equal("block_requests", b.budget_action)
      assert.matches("^%d%d%d%d%-%d%d%-01T00:00:00Z$", b.resets_at)
      assert.equal(15000, j.entity_budget.budget_cents)
      assert.equal(b.spent_cents, j.entity_budget.spent_cents)
    end)

    it("400 for an unknown period", function()
      local s, j = get("usage-summary", t.vk_agent, { period = "1y" })
      assert.equal(400, s)
      assert.equal(40000, j.code)
      assert.equal(emulator.null, j.data)
    end)

    it("an unbound key gets 200 degraded answers", function()
      for _, path in ipairs({ "usage-summary", "daily-costs", "cost-by-model", "budget-status", "recent-requests" }) do
        local s, j = get(path, t.vk_unbound)
        assert.equal(200, s, path)
        assert.is_true(j.degraded, path)
        assert.is_string(j.message, path)
      end
      local _, j = get("usage-summary", t.vk_unbound)
      assert.equal(0, j.total_requests)
      assert.equal(emulator.null, j.vs_previous_period.cost_pct)
      _, j = get("budget-status", t.vk_unbound)
      assert.equal(emulator.null, j.entity_budget)
      assert.equal(emulator.null, j.virtual_key_budget.budget_cents)
      _, j = get("recent-requests", t.vk_unbound)
      assert.equal(0, #j.data)
      assert.equal(0, j.pagination.total)
    end)

    it("degraded answers also come in the data envelope", function()
      local _, j = get("usage-summary", t.vk_unbound, nil, { ["X-Emulator-Envelope"] = "data" })
      assert.is_true(j.data.degraded)
    end)
  end)

  describe("recent-requests", function()
    it("pages with limit/offset and a total", function()
      local s, first = get("recent-requests", t.vk_agent, { limit = 5 })
      assert.equal(200, s)
      assert.same({ total = first.pagination.total, limit = 5, offset = 0 }, first.pagination)
      assert.is_true(first.pagination.total > 5)
      local total = first.pagination.total
      local seen, offset = {}, 0
      while offset < total do
        local _, page = get("recent-requests", t.vk_agent, { limit = 5, offset = offset })
        assert.equal(total, page.pagination.total)
        assert.equal(offset, page.pagination.offset)
        for _, r in ipairs(page.data) do
          assert.is_nil(seen[r.id])
          seen[r.id] = true
          assert.is_truthy(r.status == "success" or r.status == "failed")
        end
        offset = offset + 5
      end
      local n = 0
      for _ in pairs(seen) do n = n + 1 end
      assert.equal(total, n)
      local _, past = get("recent-requests", t.vk_agent, { limit = 5, offset = total + 10 })
      assert.equal(0, #past.data)
      local _, def = get("recent-requests", t.vk_agent)
      assert.equal(20, def.pagination.limit)
    end)

    it("validates limit 1..100 and offset >= 0", function()
      for _, q in ipairs({ { limit = 0 }, { limit = 101 }, { offset = -1 }, { limit = "ten" } }) do
        local s, j = get("recent-requests", t.vk_agent, q)
        assert.equal(400, s)
        assert.equal(40000, j.code)
      end
    end)

    it("includes gateway calls made with the key", function()
      emu:set({ ingest_delay_ms = 0 })
      emu:request("POST", "/v1/chat/completions", { token = t.vk_agent, headers = { ["X-Request-Id"] = "cockpit-rr-1" },
        body = { model = "gpt-4o-mini", messages = { { role = "user", content = "hello" } } } })
      local _, j = get("recent-requests", t.vk_agent, { limit = 1 })
      emu:set({ ingest_delay_ms = 300 })
      assert.equal("cockpit-rr-1", j.data[1].id)
      assert.equal("success", j.data[1].status)
    end)
  end)

  it("health has components and needs no token", function()
    local s, j = get("health")
    assert.equal(200, s)
    assert.equal("up", j.components.collector.status)
    assert.equal("up", j.components.database.status)
  end)
end)
