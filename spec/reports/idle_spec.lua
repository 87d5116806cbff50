-- reports.idle against the emulator: an agent created without traffic is idle, agents
-- with usage in the window are not, and the keys are those idle_keys finds.
local reports = require "alephant.reports"
local emulator = require "spec.support.emulator"
local clients = require "spec.support.clients"

describe("reports.idle #integration", function()
  local emu = emulator.session()

  it("lists idle agents and idle keys from one costs call and the two scans", function()
    local w = emu:client("pat_write")
    local quiet = assert(w.agents:create{ name = "Quiet agent" })
    local before = #emu:requests()
    local c = emu:client("pat_read")
    local r = assert(reports.idle(c, { days = 30 }))
    assert.equal(3, r.calls)
    assert.equal(3, #emu:requests() - before)
    local idle_agents = {}
    for _, a in ipairs(r.agents.items) do idle_agents[a.id] = a end
    assert.is_table(idle_agents[quiet.id], "the new agent has no traffic")
    -- every agent with usage in the window (the emulator's own breakdown) is not idle
    local from, to = clients.last_days(30)
    local costs = assert(c.analytics:costs{ from = from, to = to })
    for _, g in ipairs(costs.breakdown) do
      if g.dimension == "agent" then
        for _, a in ipairs(g.items) do
          if a.requests > 0 then assert.is_nil(idle_agents[a.id], a.name) end
        end
      end
    end
    local active = assert(c.agents:all{ status = "active" })
    assert.equal(#active, r.agents.checked)
    -- the keys: the same as the idle_keys report
    local keys = assert(reports.idle_keys(c, { days = 30 }))
    assert.same(keys.items, r.keys.items)
    assert.equal(keys.checked, r.keys.checked)
    assert.equal(#r.agents.items + #r.keys.items, #r.items)
  end)

  it("is refused before any call for a virtual key", function()
    local data, err = reports.idle(emu:client("vk_agent"))
    assert.is_nil(data)
    assert.equal("auth", err.kind)
    assert.equal(0, #emu:requests())
  end)
end)
