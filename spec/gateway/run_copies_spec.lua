-- A run and its steps copy what they are given (alephant.util.copy): an
-- alephant.array{} marker survives the copies, so an empty array goes out as [].
local alephant = require "alephant"
local emulator = require "spec.support.emulator"

describe("a run's copies #integration", function()
  local emu = emulator.session()

  it("send an empty alephant.array{} in a step's event as []", function()
    local c = emu:client()
    local run = assert(c:run{ agent_id = "agt_support_bot" })
    local step = assert(run:step{ kind = "tool_call" })
    assert(step:event{ type = "step.started", step_kind = "tool_call", tags = alephant.array() })
    local sent = emu:requests("/v1/agent/events")
    assert.equal(1, #sent)
    assert.matches('"tags":%[%]', sent[1].body)
    assert.is_nil(sent[1].body:find('"tags":{}', 1, true))
  end)
end)
