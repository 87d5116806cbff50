-- reports.costs against the emulator's deterministic usage data: the numbers add up,
-- the windows are right, and bad input is refused before any request.
local reports = require "alephant.reports"
local emulator = require "spec.support.emulator"
local clients = require "spec.support.clients"

local date, near = clients.day, clients.near

local function sum(list, key)
  local s = 0
  for _, x in ipairs(list) do s = s + (x[key] or 0) end
  return s
end

describe("reports.costs #integration", function()
  local emu = emulator.session()
  local function client(token_name, extra) return emu:client(token_name, extra) end

  describe("with a personal access token", function()
    local from, to = date(-26), date(0)

    it("makes the daily series add up to the window total, and every breakdown's shares to 100%", function()
      local c = client("pat_read")
      local r = assert(reports.costs(c, { from = from, to = to }))
      assert.equal("workspace", r.source)
      assert.same({ from = from, to = to, days = 27 }, r.window)
      assert.equal(27, #r.daily)
      assert.equal(from, r.daily[1].date)
      assert.equal(to, r.daily[27].date)
      assert.is_true(r.total > 1, "the emulator's workspace spends every day")
      near(r.total, sum(r.daily, "cost"), 0.01, "sum of the daily series")
      for _, dim in ipairs({ "agents", "members", "departments", "models" }) do
        local rows = r.top[dim]
        assert.is_true(#rows > 0, dim)
        near(100, sum(rows, "share_pct"), 0.01, dim .. " shares")
        near(r.total, sum(rows, "cost"), 0.01, dim .. " costs")
        for i = 2, #rows do
          if rows[i].kind == "item" then assert.is_true(rows[i - 1].cost >= rows[i].cost, dim .. " order") end
        end
      end
    end)

    it("agrees with the endpoints it summarises, asked independently", function()
      local c = client("pat_read")
      local r = assert(reports.costs(c, { from = from, to = to }))
      local usage = assert(c.analytics:usage{ from = from, to = to })
      near(usage.totals.cost, r.total, 1e-9, "window total = analytics.usage totals")
      local models = assert(c.analytics:models{ from = from, to = to })
      near(sum(models, "cost"), r.total, 0.01, "window total = sum of analytics.models")
      for _, m in ipairs(models) do
        local row
        for _, x in ipairs(r.top.models) do if x.id == m.id then row = x end end
        if row then near(m.cost, row.cost, 1e-9, m.id) end
      end
      -- agent and member spend partition the workspace's spend
      local costs = assert(c.analytics:costs{ from = from, to = to })
      local agents, members = 0, 0
      for _, b in ipairs(costs.breakdown) do
        if b.dimension == "agent" then agents = sum(b.items, "cost") end
        if b.dimension == "member" then members = sum(b.items, "cost") end
      end
      near(r.total, agents + members, 0.01, "agents + members")
      assert.equal("(not by an agent)", r.top.agents[#r.top.agents].name)
      near(members, r.top.agents[#r.top.agents].cost, 0.01, "the agents list's remainder is member spend")
    end)

    it("compares with the window of the same length just before it", function()
      local c = client("pat_read")
      local r = assert(reports.costs(c, { from = from, to = to }))
      assert.equal(date(-53), r.previous.from)
      assert.equal(date(-27), r.previous.to)
      local prev = assert(c.analytics:usage{ from = r.previous.from, to = r.previous.to })
      near(prev.totals.cost, r.previous.total, 1e-9, "previous total")
      assert.equal("computed", r.change_reason)
      near((r.total - r.previous.total) / r.previous.total * 100, r.change_pct, 1e-9, "change")
    end)

    it("sends four requests, each with the workspace, and nothing else", function()
      local c = client("pat_read")
      assert(reports.costs(c, { from = from, to = to }))
      local seen = emu:requests()
      assert.equal(4, #seen)
      local paths = {}
      for _, req in ipairs(seen) do
        paths[#paths + 1] = req.path
        assert.equal(emu.ids.workspace_1, req.headers["x-workspace-id"])
      end
      table.sort(paths)
      assert.same({ "/api/v1/analytics/costs", "/api/v1/analytics/models", "/api/v1/analytics/usage",
        "/api/v1/analytics/usage" }, paths)
    end)

    it("defaults to the last 30 days; takes days or a period instead", function()
      local c = client("pat_read")
      local r = assert(reports.costs(c))
      assert.same({ from = date(-29), to = date(0), days = 30 }, r.window)
      r = assert(reports.costs(c, { days = 3 }))
      assert.same({ from = date(-2), to = date(0), days = 3 }, r.window)
      assert.same({ from = date(-5), to = date(-3), total = r.previous.total }, r.previous)
      r = assert(reports.costs(c, { period = "7d" }))
      assert.equal(7, r.window.days)
      r = assert(reports.costs(c, { period = "24h" }))
      assert.same({ from = date(0), to = date(0), days = 1 }, r.window)
    end)

    it("takes the billing cycle from the server", function()
      local c = client("pat_read")
      local cycle = assert(c.analytics:costs()).period
      local r = assert(reports.costs(c, { period = "billing_cycle" }))
      assert.equal(cycle.from, r.window.from)
      assert.equal(cycle.to, r.window.to)
      near(r.total, sum(r.daily, "cost"), 0.01, "billing cycle daily sum")
    end)

    it("keeps the top N and folds the rest into one row, still adding up to 100%", function()
      local c = client("pat_read")
      local r = assert(reports.costs(c, { from = from, to = to, top = 2 }))
      local models = r.top.models
      assert.equal(3, #models)
      assert.same({ "item", "item", "others" }, { models[1].kind, models[2].kind, models[3].kind })
      assert.equal("(3 others)", models[3].name)
      near(100, sum(models, "share_pct"), 0.01, "shares with others")
    end)

    it("gives no percentage when the previous window spent nothing", function()
      -- the emulator's data starts 182 days ago: the window before that is empty
      local c = client("pat_read")
      local r = assert(reports.costs(c, { from = date(-182), to = date(-180) }))
      assert.is_true(r.total > 0)
      assert.equal(0, r.previous.total)
      assert.is_nil(r.change_pct)
      assert.equal("baseline_zero", r.change_reason)
    end)

    it("refuses a bad window or top before any request", function()
      local c = client("pat_read")
      local cases = {
        { { from = "2026-02-30", to = "2026-03-01" }, "from", "does not exist" },
        { { from = from }, "to", "pass both or neither" },
        { { from = to, to = from }, "from", "must not be after" },
        { { from = from, to = to, days = 3 }, "days", "one window" },
        { { days = 0 }, "days", "between 1 and 366" },
        { { days = 2.5 }, "days", "integer" },
        { { period = "90d" }, "period", "24h, 7d, 30d, billing_cycle" },
        { { top = 0 }, "top", "between 1 and 100" },
      }
      for _, case in ipairs(cases) do
        local r, err = reports.costs(c, case[1])
        assert.is_nil(r)
        assert.equal("validation", err.kind)
        assert.equal(case[2], err.field)
        assert.matches(case[3], err.message, 1, true)
      end
      assert.equal(0, #emu:requests())
    end)

    it("raises for programmer errors", function()
      local c = client("pat_read")
      assert.has_error(function() reports.costs(c, { form = "2026-01-01" }) end,
        "alephant.reports.costs: unknown option 'form' (known: days, from, now, period, to, top)")
      assert.has_error(function() reports.costs(c, { from = 20260101 }) end,
        "alephant.reports.costs: option 'from' must be a string")
    end)

    it("returns the API's error as is", function()
      local c = client("pat_read", { max_retries = 0 })
      emu:arm({ fault = "503", count = 1, path = "/api/v1/analytics/models" })
      local r, err = reports.costs(c, { from = from, to = to })
      assert.is_nil(r)
      assert.equal("http", err.kind)
      assert.equal(503, err.status)
      assert.equal("analytics.models", err.endpoint)
    end)
  end)

  describe("with a virtual key", function()
    it("uses the Cockpit routes for the key's own entity", function()
      local c = client("vk_agent")
      local r = assert(reports.costs(c, { period = "7d" }))
      assert.equal("cockpit", r.source)
      assert.equal("7d", r.period)
      assert.same({ type = "agent", id = emu.ids.support_bot, name = "Support Bot" }, r.entity)
      assert.equal(emu.ids.workspace_1, r.workspace_id)
      assert.equal(7, r.window.days)
      assert.equal(date(0), r.window.to)
      assert.equal(7, #r.daily)
      for _, req in ipairs(emu:requests()) do assert.matches("^/api/v1/cockpit/", req.path) end
      assert.equal(4, #emu:requests())
      assert.is_nil(r.top.agents)
      local summary = assert(c.cockpit:usage_summary{ period = "7d" })
      near(summary.total_cost_cents / 100, r.total, 1e-9, "total")
      near(summary.vs_previous_period.cost_pct, r.change_pct, 1e-9, "change")
      near(r.total / (1 + r.change_pct / 100), r.previous.total, 1e-9, "previous derived from the change")
      -- daily cents are rounded per day: within half a cent a day
      near(r.total, sum(r.daily, "cost"), 7 * 0.005, "daily sum")
      near(100, sum(r.top.models, "share_pct"), 0.01, "model shares")
    end)

    it("refuses dates before any request: Cockpit only knows periods", function()
      local c = client("vk_agent")
      for _, opts in ipairs({ { from = "2026-11-01", to = "2026-11-02" }, { days = 7 }, { period = "90d" } }) do
        local r, err = reports.costs(c, opts)
        assert.is_nil(r)
        assert.equal("validation", err.kind)
      end
      assert.equal(0, #emu:requests())
    end)

    it("says so when the key is not bound to an entity (degraded, empty)", function()
      local c = client("vk_unbound")
      local r = assert(reports.costs(c))
      assert.is_true(r.degraded)
      assert.equal(0, r.total)
      assert.is_nil(r.entity)
      assert.equal("not_reported", r.change_reason)
      assert.matches("not bound", r.message)
      assert.equal(30, #r.daily)
    end)
  end)
end)
