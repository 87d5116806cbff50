-- reports.budget_policy / budget_policy_set against the emulator: read-modify-write, a
-- concurrent edit between the read and the write (a real second client, through a
-- transport that forwards to the real libcurl one), and the refusals.
local alephant = require "alephant"
local reports = require "alephant.reports"
local emulator = require "spec.support.emulator"

describe("reports.budget_policy #integration", function()
  local emu = emulator.session()

  -- A client whose transport lets `before_put` act just before each PUT goes out.
  local function racing_client(before_put)
    local real = alephant.core.http_new({ timeout = 10, connect_timeout = 5 })
    local transport = { request = function(_, req)
      if req.method == "PUT" then before_put() end
      return real:request(req)
    end, close = function() real:close() end }
    return emu:client("pat_admin", { transport = transport })
  end

  it("shows the policy as the API has it (1 call)", function()
    local c = emu:client("pat_read")
    local r = assert(reports.budget_policy(c))
    assert.equal(1, #emu:requests())
    local p = assert(c.policies:budget_control())
    assert.same(p.config, r.config)
    assert.equal(p.version, r.version)
  end)

  it("changes only the fields named, keeping the rest (2 calls)", function()
    local c = emu:client("pat_admin")
    local before = assert(c.policies:budget_control())
    local r = assert(reports.budget_policy_set(c, { amount = 750, thresholds = { 90, 50 } }))
    assert.equal(2, r.calls)
    assert.equal(1, r.attempts)
    local after = assert(c.policies:budget_control())
    assert.equal(750, after.config.amount)
    assert.same({ 50, 90 }, after.config.thresholds)
    assert.equal(before.config.exceededAction, after.config.exceededAction)
    assert.same(after.config, r.after)
    local put = emu:requests({ path = "/api/v1/policies/budget%-control", method = "PUT" })[1]
    local body = alephant.core.json_decode(put.body)
    assert.equal(before.version, body.version)
    assert.equal(before.config.exceededAction, body.config.exceededAction)
  end)

  it("survives a concurrent edit: reads again, re-applies, writes again", function()
    local other = emu:client("pat_admin")
    local raced = 0
    local c = racing_client(function()
      if raced == 0 then
        raced = 1
        local cur = assert(other.policies:budget_control())
        cur.config.exceededAction = "pause"
        assert(other.policies:set_budget_control{ config = cur.config })
      end
    end)
    local r = assert(reports.budget_policy_set(c, { amount = 640 }))
    assert.equal(2, r.attempts)
    assert.equal(1, r.conflicts)
    assert.equal(4, r.calls)
    local after = assert(other.policies:budget_control())
    assert.equal(640, after.config.amount) -- ours
    assert.equal("pause", after.config.exceededAction) -- theirs, kept
    local puts = emu:requests({ path = "/api/v1/policies/budget%-control", method = "PUT" })
    assert.equal(3, #puts) -- theirs, our refused one, our second
  end)

  it("gives up with the 409 when every attempt meets a concurrent edit", function()
    local other = emu:client("pat_admin")
    local c = racing_client(function()
      local cur = assert(other.policies:budget_control())
      assert(other.policies:set_budget_control{ config = cur.config })
    end)
    local data, err = reports.budget_policy_set(c, { amount = 1, attempts = 2 })
    assert.is_nil(data)
    assert.equal(409, err.status)
    assert.matches("gave up after 2 attempts", err.message)
  end)

  it("refuses bad values before any call, and reports the API's refusal of a read-only token", function()
    local c = emu:client("pat_admin")
    for _, opts in ipairs({ { amount = -1 }, { thresholds = { 150 } }, { thresholds = {} }, {},
      { exceeded_action = "" }, { amount = 1, attempts = 0 } }) do
      local data, err = reports.budget_policy_set(c, opts)
      assert.is_nil(data)
      assert.equal("validation", err.kind, tostring(err))
    end
    assert.equal(0, #emu:requests())
    local data, err = reports.budget_policy_set(emu:client("pat_read"), { amount = 1 })
    assert.is_nil(data)
    assert.equal(403, err.status)
    assert.has_error(function() reports.budget_policy_set(c, { amount = "1" }) end)
  end)
end)
