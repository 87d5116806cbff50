-- responses_stream, messages_stream, completions_stream and chat_stream's collect():
-- each stream kind end to end against the emulator (events, terminal events, early
-- end, error events, assembled answers incl. tool calls split over many deltas).
local emulator = require "spec.support.emulator"
local support = require "spec.gateway.support"

local MODEL, messages = support.MODEL, support.messages
local CLAUDE = "anthropic/claude-3-5-haiku"

local drain = support.drain

local function types(events)
  local out = {}
  for i, ev in ipairs(events) do out[i] = ev[1] == false and "ERR" or ev.type end
  return out
end

local WEATHER = { { type = "function", ["function"] = { name = "get_weather", parameters = { type = "object",
  properties = { city = { type = "string" }, days = { type = "integer" } } } } },
  { type = "function", ["function"] = { name = "get_time", parameters = { type = "object",
    properties = { zone = { type = "string" } } } } } }

describe("gateway streams #integration", function()
  local ctx = support.on_emulator()

  local function fault(name) return { headers = { ["X-Emulator-Fault"] = name } } end

  describe("responses_stream", function()
    it("yields typed events and ends on response.completed (no [DONE])", function()
      local s = ctx.c.gateway:responses_stream{ model = MODEL, input = "hello there", agent_id = "agt_r" }
      local events = drain(s)
      local t = types(events)
      assert.equal("response.created", t[1])
      assert.equal("response.completed", t[#t])
      for i, ev in ipairs(events) do assert.equal(i - 1, ev.sequence_number) end
      assert.equal(#events, s.events)
      assert.is_true(s.complete)
      local r = support.only(ctx.emu, "/v1/responses")
      assert.is_true(emulator.decode(r.body).stream)
      assert.is_nil(emulator.decode(r.body).stream_options) -- include_usage is a chat default only
      assert.equal("agt_r", r.headers["alephant-agent-id"])
      assert.equal("text/event-stream", r.headers.accept)
    end)

    it("collects the completed response plus output_text", function()
      local reply, err, meta = ctx.c.gateway:responses_stream{ model = MODEL, input = "hello there" }:collect()
      assert.is_table(reply, tostring(err))
      assert.equal("response", reply.object)
      assert.equal("completed", reply.status)
      assert.equal("Emulated response to: hello there", reply.output_text)
      assert.equal(reply.usage.input_tokens + reply.usage.output_tokens, reply.usage.total_tokens)
      assert.equal(200, meta.status)
      -- the same as the non-streaming call
      local plain = assert(ctx.c.gateway:responses{ model = MODEL, input = "hello there" })
      assert.equal(plain.output[1].content[1].text, reply.output_text)
    end)

    it("iterates 20000 events with bounded memory", function()
      local s = ctx.c.gateway:responses_stream({ model = MODEL, input = "hello there" },
        { headers = { ["X-Emulator-Stream-Chunks"] = "20000" } })
      local n, growth = support.heap_growth(s)
      assert.equal(20008, n) -- 8 events around the deltas
      assert.is_true(growth < 1024, ("memory grew by %.0f KiB"):format(growth))
    end)

    it("ends on response.incomplete too", function()
      local reply = assert(ctx.c.gateway:responses_stream{ model = MODEL, input = "a b c d e",
        max_output_tokens = 2 }:collect())
      assert.equal("incomplete", reply.status)
      assert.equal("Emulated response", reply.output_text)
    end)

    it("yields response.failed as false, err", function()
      local events = drain(ctx.c.gateway:responses_stream({ model = MODEL, input = "hello there" },
        fault("stream-error")))
      local last = events[#events]
      assert.is_false(last[1])
      assert.equal("http", last[2].kind)
      assert.equal("server_error", last[2].code)
      assert.matches("the stream sent an error after %d+ events: Emulated fault", last[2].message)
      assert.equal("gateway.responses", last[2].endpoint)
    end)

    it("is a network error when the body ends before response.completed", function()
      local reply, err = ctx.c.gateway:responses_stream({ model = MODEL, input = "hello there" }, fault("cut"))
        :collect()
      assert.is_nil(reply)
      assert.equal("network", err.kind)
      assert.matches("response ended before response.completed", err.message)
      assert.is_nil(err.partial) -- no response yet
    end)
  end)

  describe("messages_stream", function()
    local function params(extra)
      local p = { model = CLAUDE, max_tokens = 64, messages = messages("hi claude") }
      for k, v in pairs(extra or {}) do p[k] = v end
      return p
    end

    it("passes ping through and ends on message_stop", function()
      local t = types(drain(ctx.c.gateway:messages_stream(params())))
      assert.equal("message_start", t[1])
      assert.equal("ping", t[3])
      assert.equal("message_stop", t[#t])
    end)

    it("collects the message with its content, stop_reason and usage", function()
      local msg, err = ctx.c.gateway:messages_stream(params()):collect()
      assert.is_table(msg, tostring(err))
      assert.equal("message", msg.type)
      assert.equal("text", msg.content[1].type)
      assert.equal("Emulated message to: hi claude", msg.content[1].text)
      assert.equal("end_turn", msg.stop_reason)
      assert.is_number(msg.usage.input_tokens)
      assert.equal(5, msg.usage.output_tokens)
      local plain = assert(ctx.c.gateway:messages(params()))
      assert.same(plain.content, msg.content)
    end)

    it("collects tool_use blocks with their input decoded from many pieces", function()
      local tools = { { name = "get_weather", input_schema = { type = "object",
        properties = { city = { type = "string" } } } } }
      local msg = assert(ctx.c.gateway:messages_stream(params({ tools = tools })):collect())
      assert.equal("tool_use", msg.stop_reason)
      assert.equal("tool_use", msg.content[1].type)
      assert.equal("get_weather", msg.content[1].name)
      assert.same({ city = "hi claude" }, msg.content[1].input)
    end)

    it("yields an error event as false, err", function()
      local events = drain(ctx.c.gateway:messages_stream(params(), fault("stream-error")))
      local last = events[#events]
      assert.is_false(last[1])
      assert.equal("http", last[2].kind)
      assert.equal("overloaded_error", last[2].type)
      assert.matches("Overloaded", last[2].message)
      assert.equal(#events - 1, last[2].events)
    end)

    it("is a network error when the body ends before message_stop", function()
      local events = drain(ctx.c.gateway:messages_stream(params(), fault("cut")))
      local err = events[#events][2]
      assert.equal("network", err.kind)
      assert.matches("response ended before message_stop", err.message)
    end)
  end)

  describe("completions_stream", function()
    it("yields text_completion chunks and ends on [DONE]", function()
      local events = drain(ctx.c.gateway:completions_stream{ model = MODEL, prompt = "once upon" })
      assert.equal("text_completion", events[1].object)
      assert.equal("stop", events[#events].choices[1].finish_reason)
    end)

    it("collects text, finish_reason and usage", function()
      local reply = assert(ctx.c.gateway:completions_stream{ model = MODEL, prompt = "once upon",
        stream_options = { include_usage = true } }:collect())
      assert.equal("text_completion", reply.object)
      assert.equal("Emulated completion of: once upon", reply.text)
      assert.equal(reply.text, reply.choices[1].text)
      assert.equal("stop", reply.finish_reason)
      assert.equal(5, reply.usage.completion_tokens)
    end)

    it("yields a mid-stream error chunk as false, err", function()
      local events = drain(ctx.c.gateway:completions_stream({ model = MODEL, prompt = "once upon" },
        fault("stream-error")))
      assert.equal("upstream_error", events[#events][2].code)
    end)
  end)

  describe("chat_stream", function()
    it("collects role, content, finish_reason and usage (include_usage on by default)", function()
      local reply, err, meta = ctx.c.gateway:chat_stream{ model = MODEL, messages = messages("hello stream") }:collect()
      assert.is_table(reply, tostring(err))
      assert.equal("assistant", reply.role)
      assert.equal("Emulated reply to: hello stream", reply.content)
      assert.equal("stop", reply.finish_reason)
      assert.equal(5, reply.usage.completion_tokens)
      assert.equal("chat.completion", reply.object)
      assert.equal(reply.content, reply.choices[1].message.content)
      assert.is_nil(reply.tool_calls)
      assert.equal(meta.request_id, support.only(ctx.emu, "/v1/chat/completions").headers["x-request-id"])
      assert.same({ include_usage = true },
        emulator.decode(support.only(ctx.emu, "/v1/chat/completions").body).stream_options)
    end)

    it("sends the caller's stream_options instead (include_usage = false: no usage)", function()
      local reply = assert(ctx.c.gateway:chat_stream{ model = MODEL, messages = messages(),
        stream_options = { include_usage = false } }:collect())
      assert.is_nil(reply.usage)
    end)

    it("merges tool_calls by index over many deltas", function()
      local seen = 0
      local reply = assert(ctx.c.gateway:chat_stream{ model = MODEL, messages = messages("Paris"),
        tools = WEATHER }:collect(function() seen = seen + 1 end))
      assert.is_true(seen > 10) -- the arguments came in 4-byte pieces, interleaved
      assert.equal("tool_calls", reply.finish_reason)
      assert.is_nil(reply.content)
      assert.equal(2, #reply.tool_calls)
      local plain = assert(ctx.c.gateway:chat{ model = MODEL, messages = messages("Paris"), tools = WEATHER })
      assert.same(plain.choices[1].message.tool_calls, reply.tool_calls)
      assert.equal("get_weather", reply.tool_calls[1]["function"].name)
      assert.equal("function", reply.tool_calls[1].type)
      assert.matches("^call_", reply.tool_calls[1].id)
      assert.same({ city = "Paris", days = 1 }, emulator.decode(reply.tool_calls[1]["function"].arguments))
      assert.same({ zone = "Paris" }, emulator.decode(reply.tool_calls[2]["function"].arguments))
    end)

    it("returns nil, err with what was assembled when the stream breaks", function()
      local reply, err = ctx.c.gateway:chat_stream({ model = MODEL, messages = messages() },
        { headers = { ["X-Emulator-Stream-Chunks"] = "40", ["X-Emulator-Fault"] = "cut" } }):collect()
      assert.is_nil(reply)
      assert.equal("network", err.kind)
      assert.matches("response ended before data: %[DONE%]", err.message)
      assert.matches("^Emulated reply", err.partial.content)
    end)

    it("yields a mid-stream error chunk as false, err", function()
      local reply, err = ctx.c.gateway:chat_stream({ model = MODEL, messages = messages() }, fault("stream-error"))
        :collect()
      assert.is_nil(reply)
      assert.equal("http", err.kind)
      assert.equal("server_error", err.type)
    end)
  end)

  describe("collect()", function()
    it("raises once events were read; a closed stream is an error", function()
      local s = ctx.c.gateway:chat_stream{ model = MODEL, messages = messages() }
      s()
      assert.has_error(function() s:collect() end)
      s:close()
      local s2 = ctx.c.gateway:chat_stream{ model = MODEL, messages = messages() }
      s2:close()
      local reply, err = s2:collect()
      assert.is_nil(reply)
      assert.matches("closed before its end", err.message)
      assert.has_error(function() s2:collect("x") end)
    end)

    it("returns a validation failure as nil, err, nothing sent", function()
      for _, method in ipairs({ "chat_stream", "responses_stream", "messages_stream", "completions_stream" }) do
        local reply, err = ctx.c.gateway[method](ctx.c.gateway, { model = MODEL, agentId = "x" }):collect()
        assert.is_nil(reply)
        assert.equal("validation", err.kind)
        assert.equal("agentId", err.field)
      end
      assert.equal(0, #ctx.emu:requests())
    end)
  end)

  describe("every kind", function()
    local KINDS = {
      chat_stream = { { model = MODEL, messages = messages() }, "data: %[DONE%]" },
      completions_stream = { { model = MODEL, prompt = "once upon a time" }, "data: %[DONE%]" },
      responses_stream = { { model = MODEL, input = "hello there" }, "response.completed" },
      messages_stream = { { model = CLAUDE, max_tokens = 64, messages = messages("hi there") }, "message_stop" },
    }
    for method, k in pairs(KINDS) do
      it(method .. ": an early end names the terminal event; a broken body is a network error", function()
        local events = drain(ctx.c.gateway[method](ctx.c.gateway, k[1], fault("cut")))
        local err = events[#events][2]
        assert.equal("network", err.kind)
        assert.matches("response ended before " .. k[2], err.message)
        assert.equal(#events - 1, err.events)
        events = drain(ctx.c.gateway[method](ctx.c.gateway, k[1], fault("truncated")))
        err = events[#events][2]
        assert.equal("network", err.kind)
        assert.matches("the stream broke after", err.message)
        local s = ctx.c.gateway[method](ctx.c.gateway, k[1])
        assert.is_table(s())
        s:close()
        assert.is_nil(s())
        assert.is_table((ctx.c.gateway[method](ctx.c.gateway, k[1]):collect()))
      end)
    end
  end)

  it("refuses stream = true on the one-answer methods, naming the stream method", function()
    for method, stream in pairs({ responses = "responses_stream", messages = "messages_stream",
      completions = "completions_stream" }) do
      local data, err = ctx.c.gateway[method](ctx.c.gateway, { model = MODEL, stream = true })
      assert.is_nil(data)
      assert.equal("stream", err.field)
      assert.matches(stream, err.message)
    end
    assert.equal(0, #ctx.emu:requests())
  end)

  it("says so on every stream when the transport cannot stream", function()
    local calls = 0
    local rc = ctx.emu:client("vk_agent", { transport = { request = function() calls = calls + 1 end } })
    for method, params in pairs({ responses_stream = { model = MODEL, input = "x" },
      messages_stream = { model = CLAUDE, max_tokens = 5, messages = messages() },
      completions_stream = { model = MODEL, prompt = "x" } }) do
      local events = drain(rc.gateway[method](rc.gateway, params))
      assert.equal(1, #events)
      assert.equal("config", events[1][2].kind)
      assert.matches("cannot stream", events[1][2].message)
    end
    assert.equal(0, calls)
  end)
end)

describe("gateway streams over a scripted event stream #integration", function()
  local scripted = support.on_sse_server().client

  it("sets type from the event: name when the JSON has none", function()
    local c = scripted("named")
    local events = drain(c.gateway:responses_stream{ model = MODEL, input = "x" })
    assert.same({ "response.created", "response.completed" }, types(events))
    assert.equal(1, events[1].n)
  end)

  it("yields a Responses error event as false, err", function()
    local reply, err = scripted("resperror").gateway:responses_stream{ model = MODEL, input = "x" }:collect()
    assert.is_nil(reply)
    assert.equal("http", err.kind)
    assert.equal("rate_limit_exceeded", err.code)
    assert.matches("Slow down", err.message)
    assert.equal(1, err.events)
  end)

  -- the stream ends properly, but what it sent does not add up to an answer
  local function unassembled(reply, err, meta)
    assert.is_nil(reply)
    assert.is_nil(meta)
    assert.equal("decode", err.kind, tostring(err))
    assert.is_string(err.request_id)
    return err
  end

  it("collect(): a decode error when response.completed carries no response", function()
    local s = scripted("nocompleted").gateway:responses_stream{ model = MODEL, input = "x" }
    local err = unassembled(s:collect())
    assert.equal("the stream ended without the response (no response.completed event)", err.message)
    assert.equal("gateway.responses", err.endpoint)
    assert.equal(2, s.events)
  end)

  it("collect(): a decode error for a Messages stream without its message_start", function()
    local s = scripted("nostart").gateway:messages_stream{ model = CLAUDE, max_tokens = 5, messages = messages() }
    local err = unassembled(s:collect())
    assert.equal("the stream ended without a message_start event", err.message)
    assert.equal("gateway.messages", err.endpoint)
    assert.equal(3, s.events)
  end)

  it("collect(): a decode error naming the content block whose tool input is not JSON", function()
    local s = scripted("badtool").gateway:messages_stream{ model = CLAUDE, max_tokens = 5, messages = messages() }
    local err = unassembled(s:collect())
    assert.equal("content block 0: the tool input is not JSON: invalid JSON at offset 9: unterminated string "
      .. "(found end of input)", err.message)
    assert.equal("gateway.messages", err.endpoint)
    -- iterated instead, every event is there: only the assembled answer fails
    local events = drain(scripted("badtool").gateway:messages_stream{ model = CLAUDE, max_tokens = 5,
      messages = messages() })
    assert.same({ "message_start", "content_block_start", "content_block_delta", "content_block_stop",
      "message_stop" }, types(events))
  end)
end)
