-- reports.anomalies against the emulator: the anomalous days are the ones a plain
-- recomputation of the documented score finds in the emulator's own daily series, and
-- the drivers are the emulator's breakdown of each day.
local reports = require "alephant.reports"
local emulator = require "spec.support.emulator"
local clients = require "spec.support.clients"

-- The documented method, written out again: median and MAD of the trailing days.
local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local n = #s
  return n % 2 == 1 and s[(n + 1) / 2] or (s[n / 2] + s[n / 2 + 1]) / 2
end

local function expected_anomalies(series, days, baseline, threshold)
  local costs = {}
  for i, row in ipairs(series) do costs[i] = row.cost end
  local out = {}
  for i = #costs - days + 1, #costs do
    local window = {}
    for j = i - baseline, i - 1 do window[#window + 1] = costs[j] end
    local m = median(window)
    local dev = {}
    for k, v in ipairs(window) do dev[k] = math.abs(v - m) end
    local scale = math.max(1.4826 * median(dev), 0.05 * math.abs(m), 0.01)
    local score = (costs[i] - m) / scale
    if math.abs(score) >= threshold then out[#out + 1] = { date = series[i].date, cost = costs[i], score = score } end
  end
  return out
end

describe("reports.anomalies #integration", function()
  local emu = emulator.session()

  local DAYS, BASE, THRESHOLD = 60, 14, 2

  it("finds the days the documented score flags in the emulator's series, and what drove them", function()
    local c = emu:client("pat_read")
    local r = assert(reports.anomalies(c, { days = DAYS, baseline = BASE, threshold = THRESHOLD, explain = 2 }))
    local from = clients.last_days(DAYS + BASE)
    local _, to = clients.last_days(1)
    assert.equal(1 + 2, #emu:requests())
    assert.equal(r.calls, #emu:requests())
    local usage = assert(c.analytics:usage{ from = from, to = to })
    assert.equal(DAYS + BASE, #usage.series) -- the emulator sends every day
    local want = expected_anomalies(usage.series, DAYS, BASE, THRESHOLD)
    assert.is_true(#want > 2, "the emulator's data should hold anomalies at threshold 2")
    assert.equal(#want, #r.items)
    for i, w in ipairs(want) do
      local it = r.items[i]
      assert.equal(w.date, it.date)
      clients.near(w.cost, it.cost, 1e-9, w.date)
      clients.near(w.score, it.score, 1e-9, w.date .. " score")
      local a = math.abs(w.score)
      assert.equal(a >= 2 * THRESHOLD and "high" or a >= 1.5 * THRESHOLD and "medium" or "low", it.severity)
      assert.equal(w.score > 0 and "spike" or "drop", it.direction)
    end
    -- the two most severe are explained, with the emulator's breakdown of their day
    local explained = 0
    for _, it in ipairs(r.items) do
      if it.drivers then
        explained = explained + 1
        local costs = assert(c.analytics:costs{ from = it.date, to = it.date })
        for _, group in ipairs(costs.breakdown) do
          if group.dimension == "model" then
            table.sort(group.items, function(x, y) return x.cost > y.cost end)
            assert.equal(group.items[1].name, it.drivers.models[1].name)
            clients.near(group.items[1].cost, it.drivers.models[1].cost, 1e-9, "top model")
          end
        end
      end
    end
    assert.equal(2, explained)
  end)

  it("scores one agent's series and explains its days from its request logs", function()
    local c = emu:client("pat_read")
    local agent = emu.ids.code_reviewer
    local from = clients.last_days(DAYS + BASE)
    local _, to = clients.last_days(1)
    local usage = assert(c.analytics:usage{ from = from, to = to, agent_id = agent })
    -- The agent's series moves with the emulator's rolling window: a threshold of half its
    -- largest score today flags at least that day (the explanation then has a day to read).
    local top = 0
    for _, w in ipairs(expected_anomalies(usage.series, DAYS, BASE, 0)) do top = math.max(top, math.abs(w.score)) end
    assert.is_true(top > 0, "the agent's spend varies")
    local threshold = top / 2
    local want = expected_anomalies(usage.series, DAYS, BASE, threshold)
    assert.is_true(#want >= 1)
    emu:admin("POST", "/reset?only=requests")

    local r = assert(reports.anomalies(c, { days = DAYS, baseline = BASE, threshold = threshold, agent_id = agent,
      explain = 1 }))
    assert.same({ kind = "agent", id = agent }, r.scope)
    local u = emu:requests("/api/v1/analytics/usage")
    assert.equal(1, #u)
    assert.equal(agent, u[1].args.agentId)
    assert.equal(#want, #r.items)
    local explained = 0
    for i, w in ipairs(want) do
      assert.equal(w.date, r.items[i].date)
      clients.near(w.score, r.items[i].score, 1e-9, w.date .. " score")
      if r.items[i].drivers then explained = explained + 1 end
    end
    assert.equal(1, explained)
    local logs = emu:requests("/v1/analytics/saas/logs")
    assert.is_true(#logs >= 1)
    assert.equal(agent, logs[1].args.agentId)
  end)

  it("refuses bad options before any call", function()
    local c = emu:client("pat_read")
    for _, opts in ipairs({ { threshold = 0 }, { days = 0 }, { baseline = 2 }, { explain = 40 },
      { agent_id = emu.ids.code_reviewer, member_id = emu.ids.alice }, { agent_id = "nope" } }) do
      local data, err = reports.anomalies(c, opts)
      assert.is_nil(data)
      assert.equal("validation", err.kind)
    end
    assert.equal(0, #emu:requests())
  end)
end)
