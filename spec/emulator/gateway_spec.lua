-- AI gateway /v1/*: chat (plain and SSE), embeddings, models, agent events (reference 3.7).
local emulator = require("spec.support.emulator")

describe("emulator gateway", function()
  local emu = emulator.session({ reset = false })
  local t = emu.tokens

  local function post(path, body, headers, token)
    local status, text, h, json = emu:request("POST", "/v1/" .. path, { token = token or t.vk_agent, body = body,
      headers = headers })
    assert.is_truthy(status, text)
    return status, json, text, h
  end

  local function chat(extra)
    local b = { model = "openai/gpt-4o-mini", messages = { { role = "system", content = "be brief" },
      { role = "user", content = "What is the capital of France?" } } }
    for k, v in pairs(extra or {}) do b[k] = v end
    return b
  end

  local function events(text)
    local out = {}
    for line in text:gmatch("[^\n]+") do
      local payload = line:match("^data: (.*)$")
      assert.is_truthy(payload, "not an SSE data line: " .. line)
      out[#out + 1] = payload
    end
    return out
  end

  describe("chat/completions", function()
    it("answers deterministically from the messages", function()
      local s, j = post("chat/completions", chat())
      assert.equal(200, s)
      assert.equal("chat.completion", j.object)
      assert.equal("openai/gpt-4o-mini", j.model)
      assert.equal("assistant", j.choices[1].message.role)
      assert.equal("Emulated reply to: What is the capital of France?", j.choices[1].message.content)
      assert.equal("stop", j.choices[1].finish_reason)
      assert.equal(j.usage.prompt_tokens + j.usage.completion_tokens, j.usage.total_tokens)
      local _, j2 = post("chat/completions", chat())
      assert.equal(j.id, j2.id)
      assert.equal(j.choices[1].message.content, j2.choices[1].message.content)
      local _, j3 = post("chat/completions", chat({ messages = { { role = "user", content = "Other" } } }))
      assert.is_not.equal(j.id, j3.id)
    end)

    it("accepts bare model names and truncates at max_tokens", function()
      local s, j = post("chat/completions", chat({ model = "gpt-4o-mini", max_tokens = 3 }))
      assert.equal(200, s)
      assert.equal("Emulated reply to:", j.choices[1].message.content)
      assert.equal("length", j.choices[1].finish_reason)
    end)

    it("errors use the OpenAI shape", function()
      local s, j = post("chat/completions", chat({ model = "unknown-provider/demo-model" }))
      assert.equal(400, s)
      assert.same({ message = "Unsupported model: unknown-provider/demo-model", type = "invalid_request_error",
        param = "model", code = emulator.null }, j.error)
      s, j = post("chat/completions", chat({ messages = {} }))
      assert.equal(400, s)
      assert.equal("messages", j.error.param)
      s, j = post("chat/completions", nil)
      assert.equal(400, s)
      assert.equal("Request body is empty", j.error.message)
      s, j = post("chat/completions", "{oops")
      assert.equal(400, s)
      assert.equal("invalid_request_error", j.error.type)
      s, j = post("chat/completions", chat({ max_tokens = 0 }))
      assert.equal(400, s)
      assert.equal("max_tokens", j.error.param)
    end)

    it("streams SSE chunks ending with data: [DONE]", function()
      local s, _, text, h = post("chat/completions", chat({ stream = true }))
      assert.equal(200, s)
      assert.matches("^text/event%-stream", h["content-type"])
      local ev = events(text)
      assert.equal("[DONE]", ev[#ev])
      local first = emulator.decode(ev[1])
      assert.equal("chat.completion.chunk", first.object)
      assert.equal("assistant", first.choices[1].delta.role)
      local content = {}
      for i = 2, #ev - 2 do
        local c = emulator.decode(ev[i])
        content[#content + 1] = c.choices[1].delta.content
        assert.equal(first.id, c.id)
      end
      assert.equal("Emulated reply to: What is the capital of France?", table.concat(content))
      local last = emulator.decode(ev[#ev - 1])
      assert.equal("stop", last.choices[1].finish_reason)
    end)

    it("max_tokens sets the number of content chunks", function()
      local _, _, text = post("chat/completions", chat({ stream = true, max_tokens = 40 }))
      local ev = events(text)
      assert.equal(1 + 40 + 1 + 1, #ev)
      assert.equal("stop", emulator.decode(ev[#ev - 1]).choices[1].finish_reason)
      _, _, text = post("chat/completions", chat({ stream = true, max_tokens = 2 }))
      ev = events(text)
      assert.equal(5, #ev)
      assert.equal("length", emulator.decode(ev[#ev - 1]).choices[1].finish_reason)
    end)

    it("streams thousands of chunks on request", function()
      local _, _, text = post("chat/completions", chat({ stream = true }), { ["X-Emulator-Stream-Chunks"] = "5000" })
      local ev = events(text)
      assert.equal(5000 + 3, #ev)
      assert.equal("[DONE]", ev[#ev])
      for i = 2, 5001, 997 do
        assert.is_string(emulator.decode(ev[i]).choices[1].delta.content)
      end
    end)

    it("adds a usage chunk with stream_options.include_usage", function()
      local _, _, text = post("chat/completions", chat({ stream = true, max_tokens = 3,
        stream_options = { include_usage = true } }))
      local ev = events(text)
      local usage = emulator.decode(ev[#ev - 1])
      assert.equal(0, #usage.choices)
      assert.equal(3, usage.usage.completion_tokens)
    end)
  end)

  it("embeddings are deterministic vectors", function()
    local s, j = post("embeddings", { model = "text-embedding-3-small", input = { "alpha", "beta" }, dimensions = 4 })
    assert.equal(200, s)
    assert.equal("list", j.object)
    assert.equal(2, #j.data)
    assert.equal(4, #j.data[1].embedding)
    assert.equal(1, j.data[2].index)
    local _, j2 = post("embeddings", { model = "text-embedding-3-small", input = "alpha", dimensions = 4 })
    assert.same(j.data[1].embedding, j2.data[1].embedding)
    s, j = post("embeddings", { model = "text-embedding-3-small" })
    assert.equal(400, s)
    assert.equal("input", j.error.param)
  end)

  it("models lists the catalog", function()
    local s, _, h, j = emu:request("GET", "/v1/models", { token = t.vk_member })
    assert.equal(200, s, h)
    assert.equal("list", j.object)
    local ids = {}
    for _, m in ipairs(j.data) do
      assert.equal("model", m.object)
      ids[m.id] = m.owned_by
    end
    assert.equal("openai", ids["openai/gpt-4o-mini"])
  end)

  describe("agent/events", function()
    it("accepts a single event", function()
      local s, j = post("agent/events", { type = "run.started", run_id = "run_1", event_id = "e1" })
      assert.equal(200, s)
      assert.same({ 1, 0, 1 }, { j.accepted, j.rejected, j.allowed })
      assert.equal("e1", j.decisions[1].eventId)
      assert.equal("run.started", j.decisions[1].eventType)
      assert.equal("run_1", j.decisions[1].runId)
      assert.is_true(j.decisions[1].allowed)
      assert.equal("audit_only", j.decisions[1].policyStage)
    end)

    it("validates each event of a batch (type is required)", function()
      local s, j = post("agent/events", { source = "langgraph", events = {
        { type = "step.started", step_id = "s1", step_kind = "tool_call" },
        { name = "no type here" },
        { event = "run.completed", step_kind = "dancing" },
      } })
      assert.equal(200, s)
      assert.equal(2, j.accepted)
      assert.equal(1, j.rejected)
      assert.equal(2, j.allowed)
      assert.is_false(j.decisions[2].allowed)
      assert.equal("type", j.decisions[2].violations[1].field)
      assert.equal("rejected", j.decisions[2].sinkStatus)
      assert.equal("run.completed", j.decisions[3].eventType)
      assert.equal("step_kind", j.decisions[3].warnings[1].field)
    end)

    it("400 for an empty batch or body", function()
      local s, j = post("agent/events", { events = {} })
      assert.equal(400, s)
      assert.equal("events", j.error.param)
      s = post("agent/events", nil)
      assert.equal(400, s)
    end)
  end)

  it("unknown gateway paths are 404 in the OpenAI shape", function()
    local s, j = post("router/abc/chat/completions", chat())
    assert.equal(404, s)
    assert.equal("invalid_request_error", j.error.type)
    local hs = emu:request("GET", "/health")
    assert.equal(200, hs)
  end)
end)
