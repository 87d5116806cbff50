-- The emulator's other generation endpoints: /v1/responses, /v1/messages, /v1/completions
-- as JSON and as each provider's own event stream; chat tool calls; mid-stream faults
-- (cut, stream-error); the agent and cache headers in request logs.
local emulator = require("spec.support.emulator")

describe("emulator generation endpoints", function()
  local emu, t

  lazy_setup(function()
    emu = emulator.start({ ingest_delay_ms = 0 })
    t = emu.tokens
  end)
  lazy_teardown(function() if emu then emu:stop() end end)
  before_each(function() emu:reset() end)

  local function post(path, body, headers)
    local status, text, h, json = emu:request("POST", "/v1/" .. path, { token = t.vk_agent, body = body,
      headers = headers })
    assert.is_truthy(status, text)
    return status, json, text, h
  end

  -- SSE frames of a body: { {event = name or nil, data = decoded or "[DONE]"} }
  local function frames(text)
    local out = {}
    for block in (text .. "\n\n"):gmatch("(.-)\n\n") do
      if block ~= "" then
        local name = block:match("^event: ([^\n]+)\n")
        local data = block:match("data: ([^\n]*)$")
        assert.is_truthy(data, "no data line in " .. block)
        out[#out + 1] = { event = name, data = data == "[DONE]" and data or emulator.decode(data) }
      end
    end
    return out
  end

  describe("responses", function()
    it("answers a Response object", function()
      local s, j = post("responses", { model = "openai/gpt-4o-mini", input = "hello there" })
      assert.equal(200, s)
      assert.equal("response", j.object)
      assert.equal("completed", j.status)
      assert.equal("Emulated response to: hello there", j.output[1].content[1].text)
      assert.equal("output_text", j.output[1].content[1].type)
      assert.equal(j.usage.input_tokens + j.usage.output_tokens, j.usage.total_tokens)
    end)

    it("streams named events ending on response.completed, no [DONE]", function()
      local s, _, text, h = post("responses", { model = "openai/gpt-4o-mini", input = "hello there", stream = true })
      assert.equal(200, s)
      assert.matches("^text/event%-stream", h["content-type"])
      local f = frames(text)
      assert.equal("response.created", f[1].event)
      assert.equal("response.completed", f[#f].event)
      local deltas = {}
      for i, fr in ipairs(f) do
        assert.equal(fr.event, fr.data.type)
        assert.equal(i - 1, fr.data.sequence_number)
        if fr.event == "response.output_text.delta" then deltas[#deltas + 1] = fr.data.delta end
      end
      assert.equal("Emulated response to: hello there", table.concat(deltas))
      assert.equal(table.concat(deltas), f[#f].data.response.output[1].content[1].text)
      assert.is_nil(text:find("[DONE]", 1, true))
    end)

    it("ends incomplete at max_output_tokens; 400 without input", function()
      local _, _, text = post("responses", { model = "openai/gpt-4o-mini", input = "a b c d", stream = true,
        max_output_tokens = 2 })
      local f = frames(text)
      assert.equal("response.incomplete", f[#f].event)
      assert.equal("max_output_tokens", f[#f].data.response.incomplete_details.reason)
      local s, j = post("responses", { model = "openai/gpt-4o-mini" })
      assert.equal(400, s)
      assert.equal("input", j.error.param)
    end)

    it("stream-error sends response.failed halfway", function()
      local _, _, text = post("responses", { model = "openai/gpt-4o-mini", input = "hello there", stream = true },
        { ["X-Emulator-Fault"] = "stream-error" })
      local f = frames(text)
      assert.equal("response.failed", f[#f].event)
      assert.equal("server_error", f[#f].data.response.error.code)
    end)
  end)

  describe("messages", function()
    local function msgs(extra)
      local b = { model = "anthropic/claude-3-5-haiku", max_tokens = 100,
        messages = { { role = "user", content = "hi claude" } } }
      for k, v in pairs(extra or {}) do b[k] = v end
      return b
    end

    it("answers a message; max_tokens is required", function()
      local s, j = post("messages", msgs())
      assert.equal(200, s, emulator.encode(j))
      assert.equal("message", j.type)
      assert.equal("Emulated message to: hi claude", j.content[1].text)
      assert.equal("end_turn", j.stop_reason)
      s, j = post("messages", msgs({ max_tokens = false }))
      assert.equal(400, s)
      assert.equal("max_tokens", j.error.param)
    end)

    it("streams message_start .. message_stop with a ping", function()
      local _, _, text = post("messages", msgs({ stream = true }))
      local f = frames(text)
      local names = {}
      for i, fr in ipairs(f) do names[i] = fr.event end
      assert.equal("message_start", names[1])
      assert.equal("content_block_start", names[2])
      assert.equal("ping", names[3])
      assert.equal("message_delta", names[#names - 1])
      assert.equal("message_stop", names[#names])
      assert.equal("end_turn", f[#f - 1].data.delta.stop_reason)
    end)

    it("streams tool_use blocks with input_json_delta pieces", function()
      local tools = { { name = "get_weather", input_schema = { type = "object",
        properties = { city = { type = "string" } } } } }
      local _, _, text = post("messages", msgs({ stream = true, tools = tools }))
      local f = frames(text)
      local json = {}
      for _, fr in ipairs(f) do
        if fr.event == "content_block_delta" then json[#json + 1] = fr.data.delta.partial_json end
      end
      assert.is_true(#json > 2)
      assert.same({ city = "hi claude" }, emulator.decode(table.concat(json)))
      assert.equal("tool_use", f[#f - 1].data.delta.stop_reason)
    end)

    it("stream-error sends an error event halfway; cut ends without message_stop", function()
      local _, _, text = post("messages", msgs({ stream = true }), { ["X-Emulator-Fault"] = "stream-error" })
      local f = frames(text)
      assert.equal("error", f[#f].event)
      assert.equal("overloaded_error", f[#f].data.error.type)
      _, _, text = post("messages", msgs({ stream = true }), { ["X-Emulator-Fault"] = "cut" })
      f = frames(text)
      assert.not_equal("message_stop", f[#f].event)
      assert.is_true(#f > 2)
    end)
  end)

  describe("completions", function()
    it("answers a text_completion and streams chunks, usage and [DONE]", function()
      local s, j = post("completions", { model = "openai/gpt-4o-mini", prompt = "once upon" })
      assert.equal(200, s)
      assert.equal("text_completion", j.object)
      assert.equal("Emulated completion of: once upon", j.choices[1].text)
      local _, _, text = post("completions", { model = "openai/gpt-4o-mini", prompt = "once upon", stream = true,
        stream_options = { include_usage = true } })
      local f = frames(text)
      assert.equal("[DONE]", f[#f].data)
      assert.equal(0, #f[#f - 1].data.choices)
      assert.equal(5, f[#f - 1].data.usage.completion_tokens)
      assert.equal("stop", f[#f - 2].data.choices[1].finish_reason)
    end)
  end)

  describe("chat tool calls", function()
    local tools = {
      { type = "function", ["function"] = { name = "lookup", parameters = { type = "object",
        properties = { query = { type = "string" }, limit = { type = "integer" } } } } },
      { type = "function", ["function"] = { name = "clock", parameters = { type = "object" } } },
    }
    local messages = { { role = "user", content = "find cats" } }

    it("calls every tool; a tool result gets a text answer", function()
      local _, j = post("chat/completions", { model = "openai/gpt-4o-mini", messages = messages, tools = tools })
      local msg = j.choices[1].message
      assert.equal("tool_calls", j.choices[1].finish_reason)
      assert.equal(2, #msg.tool_calls)
      assert.equal("lookup", msg.tool_calls[1]["function"].name)
      assert.same({ query = "find cats", limit = 2 }, emulator.decode(msg.tool_calls[1]["function"].arguments))
      local _, j2 = post("chat/completions", { model = "openai/gpt-4o-mini", tools = tools, messages = {
        messages[1], msg, { role = "tool", tool_call_id = msg.tool_calls[1].id, content = "3 cats" } } })
      assert.equal("Emulated answer from the tool result: 3 cats", j2.choices[1].message.content)
    end)

    it("streams the arguments in interleaved pieces", function()
      local _, _, text = post("chat/completions", { model = "openai/gpt-4o-mini", messages = messages, tools = tools,
        stream = true })
      local f = frames(text)
      assert.equal(2, #f[1].data.choices[1].delta.tool_calls)
      local args, order = { [0] = {}, [1] = {} }, {}
      for i = 2, #f - 2 do
        local tc = f[i].data.choices[1].delta.tool_calls[1]
        args[tc.index][#args[tc.index] + 1] = tc["function"].arguments
        order[#order + 1] = tc.index
      end
      assert.same({ query = "find cats", limit = 2 }, emulator.decode(table.concat(args[0])))
      assert.equal("{}", table.concat(args[1]))
      assert.same({ 0, 1, 0 }, { order[1], order[2], order[3] })
      assert.equal("tool_calls", f[#f - 1].data.choices[1].finish_reason)
    end)

    it("stream-error sends an error data line halfway", function()
      local _, _, text = post("chat/completions", { model = "openai/gpt-4o-mini", messages = messages,
        stream = true }, { ["X-Emulator-Fault"] = "stream-error" })
      local f = frames(text)
      assert.equal("upstream_error", f[#f].data.error.code)
    end)
  end)

  it("records the agent, prompt, webhook and cache headers; redacts the embeddings key", function()
    local key = "emb-secret-0123456789abcdef"
    local rid = "7d2c54a0-1111-4222-8333-444455556666"
    post("chat/completions", { model = "openai/gpt-4o-mini", messages = { { role = "user", content = "x" } } }, {
      ["x-request-id"] = rid, ["alephant-agent-name"] = "Support", ["alephant-step-id"] = "st1",
      ["alephant-parent-step-id"] = "st0", ["alephant-step-kind"] = "tool_call", ["alephant-step-attempt"] = "2",
      ["alephant-iteration"] = "3", ["alephant-prompt-id"] = "pr1", ["x-alephant-webhook-enabled"] = "true",
      ["Alephant-Cache-Control"] = "no-store", ["Alephant-Embeddings-Key"] = key,
    })
    local r = emu:requests("/v1/chat/completions")[1]
    assert.not_equal(key, r.headers["alephant-embeddings-key"])
    assert.is_nil(emulator.encode(r):find(key, 1, true))
    local s, _, _, j = emu:request("GET", "/v1/analytics/request-logs/" .. rid, { token = t.vk_agent,
      workspace = emu.ids.workspace_1 })
    assert.equal(200, s)
    local row = j.data.row
    assert.equal("Support", row.agent_name)
    assert.equal("st0", row.parent_step_id)
    assert.equal("tool_call", row.step_kind)
    assert.equal("2", row.step_attempt)
    assert.equal("3", row.iteration)
    assert.equal("pr1", row.prompt_id)
    assert.is_true(row.webhook)
    assert.equal("no-store", row.cache_control)
    assert.is_true(row.embeddings_key_sent)
  end)
end)
