-- Agent events: one or a batch, the documented enums checked before sending.
local emulator = require "spec.support.emulator"
local events = require "alephant.gateway.events"
local support = require "spec.gateway.support"

describe("gateway agent_events #integration", function()
  local emu = emulator.session()
  local c
  lazy_setup(function() c = emu:client() end)

  it("sends one event with every enum at a documented value", function()
    local ev = { type = "step.started", step_kind = "tool_call", step_source = "runtime", step_confidence = "high",
      event_phase = "before", policy_stage = "pre_action", event_source_trust = "self_reported", source = "alephant",
      sequence = 3, attempt = 1, timestamp = "2026-11-27T10:00:00Z", step_id = "st_1", metadata = { tool = "search" },
      agent_id = "agt_1", run_id = "run_1" }
    local data, err, meta = c.gateway:agent_events(ev)
    assert.is_table(data, tostring(err))
    assert.equal(1, data.accepted)
    assert.equal(0, #data.decisions[1].warnings)
    local r = support.only(emu, "/v1/agent/events")
    local body = emulator.decode(r.body)
    assert.equal("tool_call", body.step_kind)
    assert.equal("agt_1", body.agent_id) -- an event field, and a header
    assert.equal("agt_1", r.headers["alephant-agent-id"])
    assert.equal("run_1", body.run_id)
    assert.equal(meta.request_id, r.headers["x-request-id"])
  end)

  it("sends a batch, filling the batch's agent_id and run_id into events without them", function()
    local data, err = c.gateway:agent_events{ framework = "langgraph", agent_id = "agt_b", run_id = "run_b",
      events = { { type = "run.started" }, { event = "step.started", step_kind = "llm_call", run_id = "run_own" } } }
    assert.is_table(data, tostring(err))
    assert.equal(2, data.accepted)
    local body = emulator.decode(support.only(emu, "/v1/agent/events").body)
    assert.equal("langgraph", body.framework)
    assert.is_nil(body.agent_id)
    assert.same({ type = "run.started", agent_id = "agt_b", run_id = "run_b" }, body.events[1])
    assert.equal("run_own", body.events[2].run_id)
    assert.equal("agt_b", body.events[2].agent_id)
  end)

  describe("refuses before sending", function()
    local cases = {
      { "type", { step_kind = "planning" }, "type is required" },
      { "type", { type = "" }, "type is required" },
      { "type", { type = 5 }, "type is required" },
      { "step_kind", { type = "t", step_kind = "plan" }, "one of planning, reasoning, llm_call" },
      { "step_kind", { type = "t", step_kind = "LLM_CALL" }, 'got "LLM_CALL"' },
      { "step_source", { type = "t", step_source = "sdk" }, "one of runtime, gateway, rule, heuristic, unknown" },
      { "step_confidence", { type = "t", step_confidence = "certain" }, "one of high, medium, low, unknown" },
      { "event_phase", { type = "t", event_phase = "during" }, "one of before, after, state, unknown" },
      { "policy_stage", { type = "t", policy_stage = "pre-action" }, "one of pre_action, post_action, audit_only" },
      { "event_source_trust", { type = "t", event_source_trust = "trusted" },
        "one of self_reported, adapter_detected, gateway_observed, registered" },
      { "source", { type = "t", source = "langchain" }, "one of alephant, langgraph, openai_agents" },
      { "framework", { type = "t", framework = 3 }, "got number" },
      { "sequence", { type = "t", sequence = -1 }, "sequence" },
      { "sequence", { type = "t", sequence = 1.5 }, "integer" },
      { "attempt", { type = "t", attempt = 2 ^ 32 }, "attempt" },
      { "timestamp", { type = "t", timestamp = "2026-11-27 10:00" }, "timestamp" },
      { "metadata", { type = "t", metadata = "x" }, "must be a table" },
      { "step_id", { type = "t", step_id = 7 }, "must be a string" },
      { "events", { events = {} }, "non%-empty array" },
      { "events", { events = "e" }, "non%-empty array" },
      { "events", { events = { { type = "a" }, x = 1 } }, "keys 1..n" },
      { "framework", { framework = "crew", events = { { type = "a" } } }, "one of alephant" },
      { "events[2].type", { events = { { type = "a" }, { step_kind = "retry" } } }, "events%[2%]%.type is required" },
      { "events[1].step_source", { events = { { type = "a", step_source = "x" } } }, "events%[1%]%.step_source" },
      { "events[2]", { events = { { type = "a" }, "b" } }, "must be a table" },
    }
    for _, case in ipairs(cases) do
      local field, body, message = case[1], case[2], case[3]
      it(field .. ": " .. message, function()
        local data, err = c.gateway:agent_events(body)
        assert.is_nil(data)
        assert.equal("validation", err.kind)
        assert.equal(field, err.field)
        assert.matches(message, err.message)
        assert.equal(0, #emu:requests())
      end)
    end
  end)
end)

describe("alephant.gateway.events", function()
  it("lists the allowed values of each enum", function()
    assert.same({ "before", "after", "state", "unknown" }, events.enums.event_phase)
    assert.equal(events.enums.source, events.enums.framework)
  end)

  it("never changes the caller's events when filling attribution", function()
    local ev = { type = "a" }
    local out = events.attribute({ events = { ev } }, "agt", "run")
    assert.same({ type = "a" }, ev)
    assert.same({ type = "a", agent_id = "agt", run_id = "run" }, out.events[1])
  end)
end)
