-- reports.compare against the emulator: each total is the sum of the emulator's own
-- daily series for that period, each model the emulator's per-model cost.
local reports = require "alephant.reports"
local emulator = require "spec.support.emulator"
local clients = require "spec.support.clients"

local function sums(series)
  local t = { cost = 0, requests = 0, tokens = 0, errors = 0 }
  for _, d in ipairs(series) do
    t.cost, t.requests = t.cost + d.cost, t.requests + d.requests
    t.tokens, t.errors = t.tokens + d.tokens, t.errors + d.errors
  end
  return t
end

describe("reports.compare #integration", function()
  local emu = emulator.session()

  local function metric(r, name)
    for _, it in ipairs(r.items) do
      if it.metric == name then return it end
    end
  end

  it("compares the workspace over two periods, models side by side, in 4 calls", function()
    local c = emu:client("pat_read")
    local r = assert(reports.compare(c, { from = "2026-11-08", to = "2026-11-14" }))
    assert.equal(4, r.calls)
    assert.equal(4, #emu:requests())
    assert.same({ from = "2026-11-01", to = "2026-11-07", days = 7 }, r.previous) -- as many days just before
    local cur = sums(assert(c.analytics:usage{ from = "2026-11-08", to = "2026-11-14" }).series)
    local prev = sums(assert(c.analytics:usage{ from = "2026-11-01", to = "2026-11-07" }).series)
    for _, m in ipairs({ "cost", "requests", "tokens", "errors" }) do
      local it = metric(r, m)
      clients.near(cur[m], it.current, 1e-6, m)
      clients.near(prev[m], it.previous, 1e-6, m)
      clients.near(cur[m] - prev[m], it.delta, 1e-6, m .. " delta")
      clients.near((cur[m] - prev[m]) / prev[m] * 100, it.delta_pct, 1e-6, m .. " %")
    end
    clients.near(cur.errors / cur.requests * 100, metric(r, "error_rate_pct").current, 1e-9, "error rate")
    local models = assert(c.analytics:models{ from = "2026-11-08", to = "2026-11-14" })
    local by = {}
    for _, m in ipairs(r.models) do by[m.name] = m end
    for _, m in ipairs(models) do clients.near(m.cost, by[m.model].current, 1e-9, m.model) end
    assert.equal(7, #r.daily.current)
  end)

  it("compares one agent with explicit periods (2 calls, the scope on the wire)", function()
    local c = emu:client("pat_read")
    local agent = emu.ids.support_bot
    local r = assert(reports.compare(c, { from = "2026-11-10", to = "2026-11-12", previous_from = "2026-10-10",
      previous_to = "2026-10-11", agent_id = agent }))
    assert.equal(2, r.calls)
    assert.is_nil(r.models)
    local seen = emu:requests("/api/v1/analytics/usage")
    assert.equal(2, #seen)
    assert.equal(agent, seen[1].args.agentId)
    local prev = sums(assert(c.analytics:usage{ from = "2026-10-10", to = "2026-10-11", agent_id = agent }).series)
    clients.near(prev.cost, metric(r, "cost").previous, 1e-9, "previous cost")
    assert.equal(2, r.previous.days)
  end)

  it("refuses a half window or two scopes before any call", function()
    local c = emu:client("pat_read")
    for _, opts in ipairs({ { from = "2026-11-01" }, { from = "2026-11-05", to = "2026-11-01" },
      { from = "2026-11-01", to = "2026-11-02", previous_from = "2026-10-01" },
      { agent_id = emu.ids.support_bot, department_id = emu.ids.support } }) do
      local data, err = reports.compare(c, opts)
      assert.is_nil(data)
      assert.equal("validation", err.kind, tostring(err))
    end
    assert.equal(0, #emu:requests())
  end)
end)
