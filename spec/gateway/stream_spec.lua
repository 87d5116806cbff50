-- chat_stream over the real libcurl transport: against the emulator (long streams,
-- faults, errors before the stream) and a scripted event-stream server (awkward splits).
local emulator = require "spec.support.emulator"
local sse = require "alephant.gateway.sse"
local support = require "spec.gateway.support"

local MODEL, messages = support.MODEL, support.messages

local collect = support.drain -- every item the iterator yields, errors included ({false, err})

local function text_of(events)
  local parts = {}
  for _, ev in ipairs(events) do
    local c = ev.choices and ev.choices[1]
    if c and c.delta and c.delta.content then parts[#parts + 1] = c.delta.content end
  end
  return table.concat(parts)
end

describe("gateway chat_stream #integration", function()
  local emu = emulator.session()

  it("yields each chunk as a table and ends on [DONE]", function()
    local c = emu:client()
    local s = c.gateway:chat_stream{ model = MODEL, messages = messages("hello stream"), agent_id = "agt_stream" }
    assert.equal(200, s.meta.status)
    local events = collect(s)
    assert.equal(8, #events) -- role, 5 words, finish, usage (include_usage is on by default)
    for _, ev in ipairs(events) do assert.equal("chat.completion.chunk", ev.object) end
    assert.equal("Emulated reply to: hello stream", text_of(events))
    assert.equal("stop", events[#events - 1].choices[1].finish_reason)
    assert.equal(5, events[#events].usage.completion_tokens)
    assert.equal(8, s.events)
    local r = support.only(emu, "/v1/chat/completions")
    assert.is_true(emulator.decode(r.body).stream)
    assert.equal("text/event-stream", r.headers.accept)
    assert.equal("agt_stream", r.headers["alephant-agent-id"])
    assert.equal(s.request_id, r.headers["x-request-id"])
    assert.matches("^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$", s.request_id)
    assert.equal(s.request_id, s.meta.request_id)
    assert.is_nil((s())) -- ended: stays ended
  end)

  it("streams 50000 chunks with bounded memory", function()
    local c = emu:client()
    local s = c.gateway:chat_stream({ model = MODEL, messages = messages("hello stream") },
      { headers = { ["X-Emulator-Stream-Chunks"] = "50000" } })
    local n, growth = support.heap_growth(s)
    assert.equal(50003, n)
    -- about 10 MB went through; the parser and the transport keep only the unread tail
    assert.is_true(growth < 1024, ("memory grew by %.0f KiB"):format(growth))
  end)

  it("reuses the connection after a stream that ended on [DONE]", function()
    local c = emu:client()
    for _ = 1, 2 do collect(c.gateway:chat_stream{ model = MODEL, messages = messages() }) end
    assert(c.gateway:chat{ model = MODEL, messages = messages() })
    local conns = {}
    for _, r in ipairs(emu:requests("/v1/chat/completions")) do conns[r.connection] = true end
    local count = 0
    for _ in pairs(conns) do count = count + 1 end
    assert.equal(1, count)
  end)

  it("yields false, err once for an HTTP error before the stream (revoked key)", function()
    local c = emu:client("vk_revoked")
    local s = c.gateway:chat_stream{ model = MODEL, messages = messages() }
    local seen = collect(s)
    assert.equal(1, #seen)
    local err = seen[1][2]
    assert.is_false(seen[1][1])
    assert.equal("auth", err.kind)
    assert.equal(401, err.status)
    assert.equal("invalid_api_key", err.code)
    assert.equal("invalid_request_error", err.type)
    assert.equal(s.request_id, err.request_id)
    assert.equal("gateway.chat", err.endpoint)
    assert.not_matches("vk%-agent%-cc31", tostring(err))
  end)

  it("maps a 400 before the stream in the OpenAI shape", function()
    local c = emu:client()
    local seen = collect(c.gateway:chat_stream{ model = "acme/none", messages = messages() })
    local err = seen[1][2]
    assert.equal("http", err.kind)
    assert.equal(400, err.status)
    assert.equal("invalid_request_error", err.type)
    assert.equal("model", err.param)
    assert.is_nil(err.code)
    assert.matches("Unsupported model: acme/none", err.message)
  end)

  it("yields false, err (network) when the stream breaks mid-way", function()
    local c = emu:client()
    local s = c.gateway:chat_stream({ model = MODEL, messages = messages() },
      { headers = { ["X-Emulator-Stream-Chunks"] = "40", ["X-Emulator-Fault"] = "truncated" } })
    local seen = collect(s)
    local last = seen[#seen]
    assert.is_false(last[1])
    local err = last[2]
    assert.equal("network", err.kind)
    assert.is_true(err.events > 5)
    assert.equal(#seen - 1, err.events)
    assert.equal(s.request_id, err.request_id)
    assert.matches("the stream broke after %d+ events", err.message)
    assert.equal(1, #emu:requests("/v1/chat/completions")) -- never retried after the first byte
  end)

  it("yields false, err (timeout) when the stream outlives its timeout", function()
    local c = emu:client(nil, { max_retries = 2 })
    local s = c.gateway:chat_stream({ model = MODEL, messages = messages() },
      { timeout = 0.5, retry = true,
        headers = { ["X-Emulator-Stream-Chunks"] = "30", ["X-Emulator-Fault"] = "trickle=100" } })
    local seen = collect(s)
    local last = seen[#seen]
    assert.is_false(last[1])
    assert.equal("timeout", last[2].kind)
    assert.is_true(#seen > 2)
    assert.equal(1, #emu:requests("/v1/chat/completions")) -- not even with retry = true
  end)

  it("is bounded by the call's deadline", function()
    local c = emu:client()
    local t0 = os.time()
    local seen = collect(c.gateway:chat_stream({ model = MODEL, messages = messages() },
      { deadline = 0.4, headers = { ["X-Emulator-Stream-Chunks"] = "30", ["X-Emulator-Fault"] = "trickle=100" } }))
    assert.equal("timeout", seen[#seen][2].kind)
    assert.is_true(os.time() - t0 <= 2)
  end)

  it("yields false, err (decode) for a chunk that is not JSON", function()
    local c = emu:client()
    local seen = collect(c.gateway:chat_stream({ model = MODEL, messages = messages() },
      { headers = { ["X-Emulator-Fault"] = "malformed" } }))
    assert.equal(2, #seen)
    assert.equal("decode", seen[2][2].kind)
    assert.equal(1, seen[2][2].events)
  end)

  it("refuses an event larger than the parser's limit", function()
    local old = sse.MAX_EVENT_BYTES
    sse.MAX_EVENT_BYTES = 100000
    local c = emu:client()
    local ok, seen = pcall(collect, c.gateway:chat_stream({ model = MODEL, messages = messages() },
      { headers = { ["X-Emulator-Fault"] = "oversized=300000" } }))
    sse.MAX_EVENT_BYTES = old
    assert(ok, seen)
    assert.equal("too_large", seen[#seen][2].kind)
  end)

  it("retries a 503 before the first byte only with retry = true", function()
    local c = emu:client(nil, { max_retries = 2 })
    local seen = collect(c.gateway:chat_stream({ model = MODEL, messages = messages() },
      { headers = { ["X-Emulator-Fault"] = "503;count=1;key=a" } }))
    assert.equal(1, #seen)
    assert.equal(503, seen[1][2].status)
    assert.matches("not retried: POST is not idempotent", seen[1][2].message)
    emu:reset()
    local s = c.gateway:chat_stream({ model = MODEL, messages = messages() },
      { retry = true, headers = { ["X-Emulator-Fault"] = "503;count=1;key=b" } })
    assert.equal(7, #collect(s)) -- role, "Emulated reply to: hello", finish, usage
    assert.equal(2, s.meta.attempts)
    local reqs = emu:requests("/v1/chat/completions")
    assert.equal(2, #reqs)
    assert.equal(reqs[1].headers["x-request-id"], reqs[2].headers["x-request-id"])
  end)

  it("retries a reset before any byte with retry = true", function()
    local c = emu:client(nil, { max_retries = 1 })
    local s = c.gateway:chat_stream({ model = MODEL, messages = messages() },
      { retry = true, headers = { ["X-Emulator-Fault"] = "reset;count=1" } })
    assert.equal(7, #collect(s))
    assert.equal(2, s.meta.attempts)
  end)

  it("yields a validation error once and sends nothing", function()
    local c = emu:client()
    local s = c.gateway:chat_stream{ model = MODEL, messages = messages(), session = { id = "a\nb" } }
    local seen = collect(s)
    assert.equal(1, #seen)
    assert.equal("validation", seen[1][2].kind)
    assert.equal("session.id", seen[1][2].field)
    seen = collect(c.gateway:chat_stream{ messages = messages() })
    assert.equal("model", seen[1][2].field)
    assert.equal(0, #emu:requests())
  end)

  it("can be left early and closed; the client keeps working", function()
    local c = emu:client()
    local s = c.gateway:chat_stream({ model = MODEL, messages = messages() },
      { headers = { ["X-Emulator-Stream-Chunks"] = "5000" } })
    local n = 0
    for ev in s do
      n = n + 1
      if ev and n == 3 then break end
    end
    assert.is_true(s:close())
    assert.is_true(s:close())
    assert.is_nil(s()) -- a closed stream yields nothing more
    assert(c.gateway:chat{ model = MODEL, messages = messages() })
    local again = collect(c.gateway:chat_stream{ model = MODEL, messages = messages() })
    assert.equal(7, #again)
  end)

  if _VERSION == "Lua 5.4" then
    it("closes on leaving a <close> scope (Lua 5.4)", function()
      local c = emu:client()
      local s = assert(load([[
        local c, opts, MODEL, messages = ...
        local stream <close> = c.gateway:chat_stream({ model = MODEL, messages = messages() }, opts)
        for _ in stream do return stream end
      ]]))(c, { headers = { ["X-Emulator-Stream-Chunks"] = "5000" } }, MODEL, messages)
      assert.is_nil(s._s) -- the response was released
      assert.is_nil(s())  -- and the loop is over
      assert(c.gateway:chat{ model = MODEL, messages = messages() })
    end)
  end

  it("says so when the client's transport cannot stream (a request-only transport)", function()
    local calls = 0
    local c = emu:client("vk_agent", { transport = { request = function() calls = calls + 1 end } })
    local seen = collect(c.gateway:chat_stream{ model = MODEL, messages = messages() })
    assert.equal(1, #seen)
    assert.equal("config", seen[1][2].kind)
    assert.matches("cannot stream", seen[1][2].message)
    assert.equal(0, calls)
  end)

  it("refuses a token the gateway does not take, before sending", function()
    local c = emu:client("pat_read", { workspace_id = emu.ids.workspace_1 })
    local seen = collect(c.gateway:chat_stream{ model = MODEL, messages = messages() })
    assert.equal(1, #seen)
    assert.equal("auth", seen[1][2].kind)
    local data, err = c.gateway:chat{ model = MODEL, messages = messages() }
    assert.is_nil(data)
    assert.equal("auth", err.kind)
    assert.equal(0, #emu:requests())
  end)

  it("refuses stream = true on the non-streaming methods", function()
    local c = emu:client()
    local data, err = c.gateway:chat{ model = MODEL, messages = messages(), stream = true }
    assert.is_nil(data)
    assert.equal("stream", err.field)
    assert.matches("chat_stream", err.message)
    assert.equal(0, #emu:requests())
  end)
end)

describe("gateway chat_stream over awkward event streams #integration", function()
  local client = support.on_sse_server().client

  it("handles split events, CRLF, comments, multi-line data and a last line without a break", function()
    local s = client("split").gateway:chat_stream{ model = MODEL, messages = messages() }
    local seen = collect(s)
    -- an event: name sets type when the JSON has none
    assert.same({ { n = 1 }, { n = 2, m = "multi" }, { n = 3, type = "delta" } }, seen)
    assert.equal(s.request_id, s.meta.headers["x-request-id"])
  end)

  it("waits through keep-alive comments", function()
    assert.same({ { n = 1 } }, collect(client("idle").gateway:chat_stream{ model = MODEL, messages = messages() }))
  end)

  it("yields false, err when the stream ends without [DONE]", function()
    local seen = collect(client("nodone").gateway:chat_stream{ model = MODEL, messages = messages() })
    assert.same({ n = 1 }, seen[1])
    assert.equal("network", seen[2][2].kind)
    assert.matches("ended before data: %[DONE%]", seen[2][2].message)
  end)

  it("yields false, err when the answer is not an event stream", function()
    local seen = collect(client("json").gateway:chat_stream{ model = MODEL, messages = messages() })
    assert.equal(1, #seen)
    assert.equal("decode", seen[1][2].kind)
    assert.matches("application/json instead of text/event%-stream", seen[1][2].message)
  end)
end)
