-- A run context: the same attribution on chat, chat_stream and events; per-call overrides.
local emulator = require "spec.support.emulator"
local support = require "spec.gateway.support"

local MODEL, messages = support.MODEL, support.messages

describe("client:run #integration", function()
  local emu = emulator.session()
  local c
  lazy_setup(function() c = emu:client() end)

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

describe("run:step #integration", function()
  local ctx = support.on_emulator()

  local function step_headers(r)
    local out = {}
    for k, v in pairs(r.headers) do
      if k:match("step") or k == "alephant-iteration" or k == "alephant-tool-call-id" or k == "alephant-graph-node" then
        out[k] = v
      end
    end
    return out
  end

  it("assigns ids, parent ids and counts attempts", function()
    local run = assert(ctx.c:run{ agent_id = "agt_loop" })
    local llm = assert(run:step{ kind = "llm_call", iteration = 1 })
    assert.matches("^step_%x+%-", llm.id)
    assert.is_nil(llm.parent_id)
    assert(llm:chat{ model = MODEL, messages = messages() })
    assert(llm:chat{ model = MODEL, messages = messages() }) -- the same step again: attempt 2
    local tool = assert(llm:step{ kind = "tool_call", tool_call_id = "call_1" })
    assert.equal(llm.id, tool.parent_id)
    assert(tool:responses{ model = MODEL, input = "x" })
    local reqs = ctx.emu:requests()
    assert.same({ ["alephant-step-id"] = llm.id, ["alephant-step-kind"] = "llm_call", ["alephant-iteration"] = "1",
      ["alephant-step-attempt"] = "1" }, step_headers(reqs[1]))
    assert.equal("2", reqs[2].headers["alephant-step-attempt"])
    assert.same({ ["alephant-step-id"] = tool.id, ["alephant-parent-step-id"] = llm.id,
      ["alephant-step-kind"] = "tool_call", ["alephant-tool-call-id"] = "call_1", ["alephant-step-attempt"] = "1" },
      step_headers(reqs[3]))
    for _, r in ipairs(reqs) do
      assert.equal(run.run_id, r.headers["alephant-run-id"])
      assert.equal("agt_loop", r.headers["alephant-agent-id"])
    end
    assert.equal(2, llm.attempts)
    assert.matches("^alephant%.step<step_", tostring(tool))
  end)

  it("streams carry the step too; a call's own step fields win", function()
    local run = assert(ctx.c:run{})
    local st = assert(run:step{ kind = "llm_call", id = "st_fixed", parent_id = "st_root" })
    assert(st:messages_stream{ model = "anthropic/claude-3-5-haiku", max_tokens = 8, messages = messages(),
      step = { graph_node = "draft" } }:collect())
    local r = support.only(ctx.emu, "/v1/messages")
    assert.same({ ["alephant-step-id"] = "st_fixed", ["alephant-parent-step-id"] = "st_root",
      ["alephant-step-kind"] = "llm_call", ["alephant-graph-node"] = "draft", ["alephant-step-attempt"] = "1" },
      step_headers(r))
  end)

  it("fills the step into its agent events", function()
    local run = assert(ctx.c:run{ agent_id = "agt_e" })
    local st = assert(run:step{ kind = "tool_call" })
    assert(st:event{ type = "step.started", step_kind = "tool_call" })
    local body = emulator.decode(support.only(ctx.emu, "/v1/agent/events").body)
    assert.equal(st.id, body.step_id)
    assert.equal("agt_e", body.agent_id)
    assert.equal(run.run_id, body.run_id)
  end)

  it("refuses bad step fields before sending", function()
    local run = assert(ctx.c:run{})
    local st, err = run:step{ attempt = 3 }
    assert.is_nil(st)
    assert.equal("step.attempt", err.field)
    assert.matches("attempts are counted", err.message)
    st, err = run:step{ iteration = -1 }
    assert.is_nil(st)
    assert.equal("step.iteration", err.field)
    st, err = run:step{ kind = "a\nb" }
    assert.is_nil(st)
    assert.equal("step.kind", err.field)
    assert.has_error(function() run:step("llm") end)
    assert.equal(0, #ctx.emu:requests())
  end)

  it("makes one session id per run with session = { id = \"auto\" }", function()
    local run = assert(ctx.c:run{ session = { id = "auto" } })
    assert.matches("^sess_[%w_%-]+$", run.session_id)
    assert.equal(29, #run.session_id)
    assert(run:chat{ model = MODEL, messages = messages() })
    assert(run:completions{ model = MODEL, prompt = "x" })
    for _, r in ipairs(ctx.emu:requests()) do assert.equal(run.session_id, r.headers["alephant-session-id"]) end
  end)
end)
