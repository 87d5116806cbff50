-- reports.drill_down against the emulator: department, agent, member and model spend as
-- the emulator's own breakdowns give them, shares of the level above.
local reports = require "alephant.reports"
local emulator = require "spec.support.emulator"
local clients = require "spec.support.clients"

describe("reports.drill_down #integration", function()
  local emu = emulator.session()

  local function dimension(data, name)
    for _, g in ipairs(data.breakdown) do
      if g.dimension == name then return g.items end
    end
    return {}
  end

  it("lists the departments with their share of the workspace (1 call)", function()
    local c = emu:client("pat_read")
    local r = assert(reports.drill_down(c, { days = 30 }))
    assert.equal(1, r.calls)
    assert.equal(1, #emu:requests())
    local from, to = clients.last_days(30)
    local ws = assert(c.collector:costs{ from = from, to = to })
    local total = 0
    for _, m in ipairs(dimension(ws, "model")) do total = total + m.cost end
    clients.near(total, r.total, 1e-6, "total")
    local want = dimension(ws, "department")
    assert.equal(#want, #r.departments)
    for _, d in ipairs(want) do
      local got
      for _, row in ipairs(r.departments) do if row.id == d.id then got = row end end
      clients.near(d.cost, got.cost, 1e-9, d.name)
      clients.near(d.cost / total * 100, got.share_pct, 1e-9, d.name .. " share")
    end
    assert.is_nil(r.department)
  end)

  it("drills into a department: its agents and members, then their models", function()
    local c = emu:client("pat_read")
    local dep = emu.ids.engineering
    local r = assert(reports.drill_down(c, { department_id = dep, days = 7, top = 10 }))
    local d = r.department
    assert.equal("Engineering", d.name)
    assert.equal(2 + #d.agents + #d.members, r.calls)
    assert.equal(r.calls, #emu:requests())
    local from, to = clients.last_days(7)
    local dc = assert(c.collector:costs{ from = from, to = to, department_id = dep })
    local agents = dimension(dc, "agent")
    assert.equal(#agents, #d.agents)
    assert.is_true(#agents > 0)
    for _, a in ipairs(d.agents) do
      local want
      for _, x in ipairs(agents) do if x.id == a.id then want = x end end
      clients.near(want.cost, a.cost, 1e-9, a.name)
      clients.near(want.cost / d.cost * 100, a.share_pct, 1e-9, a.name .. " share")
      local an = assert(c.agents:analytics{ agent_id = a.id, days = 7 })
      assert.equal(#an.models, #a.models)
      local sum, share = 0, 0
      for _, m in ipairs(an.models) do sum = sum + m.cost end
      for _, m in ipairs(a.models) do share = share + m.share_pct end
      clients.near(100, share, 1e-6, a.name .. " model shares")
      for _, m in ipairs(an.models) do
        for _, got in ipairs(a.models) do
          if got.name == m.model then clients.near(m.cost / sum * 100, got.share_pct, 1e-9, m.model) end
        end
      end
    end
    for _, m in ipairs(d.members) do
      local an = assert(c.analytics:member{ member_id = m.id, days = 7 })
      assert.equal(#an.models, #m.models)
    end
  end)

  it("refuses days the per-entity routes do not take, before any call", function()
    local data, err = reports.drill_down(emu:client("pat_read"), { days = 5 })
    assert.is_nil(data)
    assert.equal("days", err.field)
    data, err = reports.drill_down(emu:client("pat_read"), { department_id = "x" })
    assert.is_nil(data)
    assert.equal("department_id", err.field)
    assert.equal(0, #emu:requests())
  end)
end)
