-- reports.budgets and reports.idle_keys against the emulator's fixtures.
local reports = require "alephant.reports"
local emulator = require "spec.support.emulator"
local near = require("spec.support.clients").near

describe("reports #integration", function()
  local emu = emulator.session()
  local function client(token_name) return emu:client(token_name) end

  local function by_name(items)
    local t = {}
    for _, it in ipairs(items) do t[it.kind .. ":" .. it.name] = it end
    return t
  end

  describe("budgets", function()
    it("lists what is at or above the threshold, the most used first", function()
      local r = assert(reports.budgets(client("pat_read")))
      assert.equal("workspace", r.source)
      assert.equal(0.8, r.threshold)
      -- 5 keys with a budget (revoked and expired skipped), 3 members, 2 agents, 2 departments, the workspace
      assert.equal(13, r.checked)
      assert.equal(1, #r.items)
      local alice = r.items[1]
      -- the emulator's lifetime spend grows with the calendar date: take it from the API itself
      local spent
      for _, k in ipairs(assert(client("pat_read").virtual_keys:all{})) do
        if k.id == emu.ids.vk_member then spent = k.spentCents / 100 end
      end
      assert.is_true(spent >= 80, "Alice's key should be over 80% of its $100 budget")
      assert.same({ kind = "virtual_key", id = emu.ids.vk_member, name = "Alice laptop", spent = spent,
        budget = 100, used_pct = alice.used_pct, window = "monthly", action = "alert_only", status = "active",
        basis = "lifetime" }, alice)
      near(spent, alice.used_pct, 1e-9, "used")
    end)

    it("counts every budget at threshold 0, with spend that matches the API's own numbers", function()
      local c = client("pat_read")
      local r = assert(reports.budgets(c, { threshold = 0 }))
      assert.equal(r.checked, #r.items)
      for i = 2, #r.items do assert.is_true(r.items[i - 1].used_pct >= r.items[i].used_pct) end
      local items = by_name(r.items)
      assert.is_nil(items["virtual_key:Code Reviewer (rotated)"]) -- revoked
      assert.is_nil(items["virtual_key:Bob 2024 key"]) -- expired
      assert.is_nil(items["virtual_key:Shared sandbox key"]) -- no budget
      assert.equal("disabled", items["virtual_key:Legacy Summarizer key"].status)
      local costs = assert(c.analytics:costs())
      assert.same(costs.period, r.period)
      local compared = 0
      for _, b in ipairs(costs.breakdown) do
        for _, it in ipairs(b.items) do
          local row = items[b.dimension .. ":" .. it.name]
          if row then
            near(it.cost, row.spent, 1e-9, it.name)
            compared = compared + 1
          end
        end
      end
      assert.is_true(compared >= 5, "members, agents and departments with spend") -- those with a budget and spend
      near(200, items["member:Alice Chen"].budget, 0, "member budget from monthlyBudgetCents")
      near(300, items["agent:Code Reviewer"].budget, 0, "agent budget")
      near(400, items["department:Engineering"].budget, 0, "department budget")
      local ws = assert(c.analytics:budget_status())
      near(ws.spent, items["workspace:(workspace)"].spent, 1e-9, "workspace spend")
      near(ws.budget, items["workspace:(workspace)"].budget, 0, "workspace budget")
    end)

    it("reads each list in pages of 200 and reports its progress", function()
      local calls = {}
      local r = assert(reports.budgets(client("pat_read"), { progress = function(what, count, done)
        calls[#calls + 1] = { what, count, done }
      end }))
      assert.is_table(r)
      local last = {}
      for _, call in ipairs(calls) do
        if call[3] then last[call[1]] = call[2] end
      end
      assert.same({ ["virtual keys"] = 8, members = 4, agents = 4, departments = 3 }, last)
      assert.same({ "virtual keys", 1, false }, calls[1])
      for _, path in ipairs({ "/api/v1/virtual%-keys", "/api/v1/members", "/api/v1/agents", "/api/v1/departments" }) do
        local seen = emu:requests(path)
        assert.equal(1, #seen, path)
        assert.equal("200", tostring(seen[1].args.pageSize))
      end
    end)

    it("with a virtual key: the key and its entity from Cockpit", function()
      local c = client("vk_agent")
      local r = assert(reports.budgets(c, { threshold = 0 }))
      assert.equal("cockpit", r.source)
      assert.equal(2, r.checked)
      local items = by_name(r.items)
      local status = assert(c.cockpit:budget_status())
      local key = items["virtual_key:Support Bot key"]
      near(status.virtual_key_budget.spent_cents / 100, key.spent, 1e-9, "key spend")
      near(50, key.budget, 0, "key budget")
      near(status.virtual_key_budget.usage_pct, key.used_pct, 0.01, "the server's usage_pct")
      assert.equal("monthly", key.window)
      near(150, items["agent:Support Bot"].budget, 0, "entity budget")
      for _, req in ipairs(emu:requests()) do assert.matches("^/api/v1/cockpit/", req.path) end
    end)

    it("refuses a bad threshold, or a period with a workspace token, before any request", function()
      for _, case in ipairs({ { "pat_read", { threshold = -1 }, "threshold" }, { "pat_read", { threshold = 0 / 0 },
        "threshold" }, { "pat_read", { period = "7d" }, "period" } }) do
        local r, err = reports.budgets(client(case[1]), case[2])
        assert.is_nil(r)
        assert.equal("validation", err.kind)
        assert.equal(case[3], err.field)
      end
      assert.equal(0, #emu:requests())
    end)
  end)

  describe("idle_keys", function()
    it("finds the active key nobody uses; the others' agents and members are busy", function()
      local r = assert(reports.idle_keys(client("pat_read")))
      assert.equal(30, r.days)
      assert.equal(os.date("!%Y-%m-%d", os.time() - 29 * 86400), r.from)
      assert.equal(5, r.checked) -- the active keys of workspace 1
      assert.equal(1, #r.items)
      assert.equal("Shared sandbox key", r.items[1].label)
      assert.equal("none", r.items[1].basis)
      assert.equal(emu.ids.vk_unbound, r.items[1].id)
    end)

    it("judges a key by its agent when the API has no lastUsedAt", function()
      -- a new key for Legacy Summarizer, an agent idle for 45 days
      local writer = client("pat_write")
      local key = assert(writer.virtual_keys:create{ label = "Summarizer revival", master_key_id = emu.ids.openai,
        entity_type = "agent", entity_id = emu.ids.legacy_summarizer, budget = 5 })
      local c = client("pat_read")
      local r = assert(reports.idle_keys(c, { days = 30 }))
      assert.equal(6, r.checked)
      local found
      for _, it in ipairs(r.items) do if it.label == "Summarizer revival" then found = it end end
      assert.is_table(found)
      assert.equal(key.id, found.id)
      assert.equal("entity", found.basis)
      assert.equal("agent", found.entity_type)
      assert.equal(emu.ids.legacy_summarizer, found.entity_id)
      -- over 60 days the agent was in use
      r = assert(reports.idle_keys(c, { days = 60 }))
      for _, it in ipairs(r.items) do assert.not_equal("Summarizer revival", it.label) end
    end)

    it("refuses a virtual key and bad days before any request", function()
      local r, err = reports.idle_keys(client("vk_agent"))
      assert.is_nil(r)
      assert.equal("auth", err.kind)
      assert.matches("needs a personal access token or a JWT", err.message)
      r, err = reports.idle_keys(client("pat_read"), { days = 0 })
      assert.is_nil(r)
      assert.equal("validation", err.kind)
      assert.equal(0, #emu:requests())
    end)
  end)
end)
