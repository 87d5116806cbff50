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

  -- the emulator's data is the last 183 days up to today: days counted back from today
  local day = clients.day

  it("compares the workspace over two periods, models side by side, in 4 calls", function()
    local c = emu:client("pat_read")
    local from, to = day(-22), day(-16)
    local r = assert(reports.compare(c, { from = from, to = to }))
    assert.equal(4, r.calls)
    assert.equal(4, #emu:requests())
    assert.same({ from = day(-29), to = day(-23), days = 7 }, r.previous) -- as many days just before
    local cur = sums(assert(c.analytics:usage{ from = from, to = to }).series)
    local prev = sums(assert(c.analytics:usage{ from = day(-29), to = day(-23) }).series)
    assert.is_true(cur.requests > 0 and prev.requests > 0, "the emulator has traffic on both weeks")
    for _, m in ipairs({ "cost", "requests", "tokens", "errors" }) do
      local it = metric(r, m)
      clients.near(cur[m], it.current, 1e-6, m)
      clients.near(prev[m], it.previous, 1e-6, m)
      clients.near(cur[m] - prev[m], it.delta, 1e-6, m .. " delta")
      clients.near((cur[m] - prev[m]) / prev[m] * 100, it.delta_pct, 1e-6, m .. " %")
    end
    clients.near(cur.errors / cur.requests * 100, metric(r, "error_rate_pct").current, 1e-9, "error rate")
    local models = assert(c.analytics:models{ from = from, to = to })
    local by = {}
    for _, m in ipairs(r.models) do by[m.name] = m end
    for _, m in ipairs(models) do clients.near(m.cost, by[m.model].current, 1e-9, m.model) end
    assert.equal(7, #r.daily.current)
  end)

  it("compares one agent with explicit periods (2 calls, the scope on the wire)", function()
    local c = emu:client("pat_read")
    local agent = emu.ids.support_bot
    local r = assert(reports.compare(c, { from = day(-20), to = day(-18), previous_from = day(-51),
      previous_to = day(-50), agent_id = agent }))
    assert.equal(2, r.calls)
    assert.is_nil(r.models)
    local seen = emu:requests("/api/v1/analytics/usage")
    assert.equal(2, #seen)
    assert.equal(agent, seen[1].args.agentId)
    local prev = sums(assert(c.analytics:usage{ from = day(-51), to = day(-50), agent_id = agent }).series)
    assert.is_true(prev.cost > 0, "the agent spent in the previous period")
    clients.near(prev.cost, metric(r, "cost").previous, 1e-9, "previous cost")
    assert.equal(2, r.previous.days)
  end)

  it("refuses a half window or two scopes before any call", function()
    local c = emu:client("pat_read")
    for _, opts in ipairs({ { from = day(-29) }, { from = day(-25), to = day(-29) },
      { from = day(-29), to = day(-28), previous_from = day(-60) },
      { agent_id = emu.ids.support_bot, department_id = emu.ids.support } }) do
      local data, err = reports.compare(c, opts)
      assert.is_nil(data)
      assert.equal("validation", err.kind, tostring(err))
    end
    assert.equal(0, #emu:requests())
  end)
end)
