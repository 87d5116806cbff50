-- A run context: the same attribution on chat, chat_stream and events; per-call overrides.
local emulator = require "spec.support.emulator"
local support = require "spec.gateway.support"

local MODEL, messages = support.MODEL, support.messages

describe("client:run #integration", function()
  local emu, c

  lazy_setup(function()
    emu = emulator.start()
    c = support.client(emu)
  end)
  lazy_teardown(function() if emu then emu:stop() end end)
  before_each(function() emu:reset() end)

  it("generates run_<uuid> when no run_id is given", function()
    local a, b = assert(c:run{}), assert(c:run{ agent_id = "agt" })
    assert.matches("^run_%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$", a.run_id)
    assert.are_not.equal(a.run_id, b.run_id)
    assert.equal("agt", b.agent_id)
    assert.equal("run_given", assert(c:run{ run_id = "run_given" }).run_id)
    assert.matches("^alephant%.run<run_", tostring(a))
  end)

  it("carries the same attribution on chat, chat_stream and events", function()
    local run = assert(c:run{ agent_id = "agt_support_bot", session = { id = "sess_9", name = "Ticket 9" },
      properties = { ticket = 9 }, cache = { enabled = true } })
    assert(run:chat{ model = MODEL, messages = messages() })
    for ev, err in run:chat_stream{ model = MODEL, messages = messages() } do assert(ev, tostring(err)) end
    assert(run:event{ type = "run.started" })
    local want = { ["alephant-agent-id"] = "agt_support_bot", ["alephant-run-id"] = run.run_id,
      ["alephant-session-id"] = "sess_9", ["alephant-session-name"] = "Ticket 9", ["alephant-property-ticket"] = "9",
      ["alephant-cache-enabled"] = "true" }
    local reqs = emu:requests()
    assert.equal(3, #reqs)
    local ids = {}
    for _, r in ipairs(reqs) do
      local h = support.tracking_headers(r)
      ids[h["x-request-id"]] = true
      h["x-request-id"] = nil
      assert.same(want, h)
    end
    local n = 0
    for _ in pairs(ids) do n = n + 1 end
    assert.equal(3, n) -- one request id per call, never per run
    local body = emulator.decode(reqs[3].body)
    assert.equal("agt_support_bot", body.agent_id)
    assert.equal(run.run_id, body.run_id)
    assert.equal("run.started", body.type)
  end)

  it("lets a call override the run's options, merging tables key by key", function()
    local run = assert(c:run{ agent_id = "agt_a", run_id = "run_a", session = { id = "s1", path = "/root" },
      properties = { env = "prod", team = "support" } })
    assert(run:chat{ model = MODEL, messages = messages(), agent_id = "agt_b", session = { path = "draft" },
      properties = { team = "billing" }, request_id = "call-1", omit_response = true })
    local h = support.tracking_headers(support.only(emu, "/v1/chat/completions"))
    assert.same({ ["alephant-agent-id"] = "agt_b", ["alephant-run-id"] = "run_a", ["alephant-session-id"] = "s1",
      ["alephant-session-path"] = "/draft", ["alephant-property-env"] = "prod", ["alephant-property-team"] = "billing",
      ["alephant-omit-response"] = "true", ["x-request-id"] = "call-1" }, h)
  end)

  it("fills the run into every event of a batch that has none", function()
    local run = assert(c:run{ agent_id = "agt_r" })
    local data, err = run:event{ events = { { type = "step.started", step_kind = "planning" },
      { type = "step.finished", run_id = "run_other" } } }
    assert.is_table(data, tostring(err))
    local body = emulator.decode(support.only(emu, "/v1/agent/events").body)
    assert.equal(run.run_id, body.events[1].run_id)
    assert.equal("agt_r", body.events[1].agent_id)
    assert.equal("run_other", body.events[2].run_id)
  end)

  it("refuses bad run options before any request", function()
    local run, err = c:run{ agent_id = "bad\nid" }
    assert.is_nil(run)
    assert.equal("agent_id", err.field)
    run, err = c:run{ request_id = "r" }
    assert.is_nil(run)
    assert.equal("request_id", err.field)
    run, err = c:run{ model = MODEL }
    assert.is_nil(run)
    assert.equal("validation", err.kind)
    assert.matches('"model" is not a tracking option', err.message)
    assert.has_error(function() c:run("agt") end, "alephant: client:run: options must be a table, got string")
    -- an event refused by the checks is not sent either
    local r = assert(c:run{})
    local data
    data, err = r:event{ type = "x", step_kind = "nope" }
    assert.is_nil(data)
    assert.equal("step_kind", err.field)
    assert.equal(0, #emu:requests())
  end)

  it("gives its headers for another HTTP client", function()
    local run = assert(c:run{ agent_id = "a", run_id = "r", session = { id = "s" } })
    assert.same({ ["Alephant-Agent-Id"] = "a", ["Alephant-Run-Id"] = "r", ["alephant-session-id"] = "s" },
      run:headers())
  end)
end)
