-- reports.dashboard against the emulator: every number is the one the emulator's own
-- routes give, in exactly three calls.
local reports = require "alephant.reports"
local emulator = require "spec.support.emulator"
local clients = require "spec.support.clients"

describe("reports.dashboard #integration", function()
  local emu = emulator.session()

  it("puts the overview, the last 24 hours and the sparklines on one screen, in 3 calls", function()
    local c = emu:client("pat_read")
    local r = assert(reports.dashboard(c, { top = 3 }))
    assert.equal(3, r.calls)
    assert.equal(3, #emu:requests())
    local overview = assert(c.analytics:overview())
    local live = assert(c.analytics:live_24h{ limit = 3 })
    local spark = assert(c.analytics:sparklines{ metrics = "all" })
    clients.near(overview.totalCost, r.overview.total_cost, 1e-9, "total cost")
    assert.equal(overview.totalRequests, r.overview.total_requests)
    assert.equal(overview.activeVirtualKeys, r.overview.active_virtual_keys)
    assert.equal(overview.period.from, r.overview.from)
    clients.near(live.summary.cost, r.live.cost, 1e-9, "24 h cost")
    assert.equal(live.summary.requests, r.live.requests)
    assert.equal(#live.topModels, #r.live.top_models)
    local share = 0
    for i, m in ipairs(r.live.top_models) do
      clients.near(live.topModels[i].cost, m.cost, 1e-9, m.name)
      assert.equal(live.topModels[i].model, m.name)
      share = share + m.share_pct
    end
    assert.is_true(share <= 100 + 1e-9)
    assert.equal(live.topKeys[1].label, r.live.top_keys[1].name)
    for _, m in ipairs({ "spend", "requests", "tokens", "success", "latency" }) do
      assert.same(spark[m], r.sparklines[m], m)
    end
    assert.equal(7, #r.sparklines.spend)
  end)

  it("is refused before any call for a virtual key or a bad option", function()
    local data, err = reports.dashboard(emu:client("vk_agent"))
    assert.is_nil(data)
    assert.equal("auth", err.kind)
    data, err = reports.dashboard(emu:client("pat_read"), { top = 11 })
    assert.is_nil(data)
    assert.equal("top", err.field)
    assert.equal(0, #emu:requests())
    assert.has_error(function() reports.dashboard(emu:client("pat_read"), { tpo = 1 }) end)
  end)
end)
