-- Streams a chat completion token by token (server-sent events), with a timeout
-- sized for a long answer, and shows how a failure arrives inside the loop.
-- token: vk_agent
--   ALEPHANT_TOKEN=vk-... lua5.4 examples/gateway_stream.lua
local alephant = require "alephant"

local client = assert(alephant.new())

-- The timeout bounds the whole stream (default 600 s for streams); a deadline would too.
local stream = client.gateway:chat_stream({
  model = "openai/gpt-4o-mini",
  messages = { { role = "user", content = "Tell me about streaming in Lua" } },
  agent_id = "agt_support_bot",
}, { timeout = 120 })

io.write("reply: ")
for event, err in stream do
  if not event then -- false, err: before the stream (HTTP status) or when it breaks mid-way
    io.stderr:write("\n", tostring(err), "\n")
    os.exit(1)
  end
  local choice = event.choices[1]
  if choice and choice.delta.content then io.write(choice.delta.content) end
  if choice and choice.finish_reason then io.write("  [", choice.finish_reason, "]") end
end
print()
print(("%d events, request id %s"):format(stream.events, stream.request_id))

-- A bad model is an HTTP 400 before the stream starts: the loop sees false, err once.
for event, err in client.gateway:chat_stream{ model = "acme/none", messages = { { role = "user", content = "hi" } } } do
  if not event then print(("refused: HTTP %d, %s"):format(err.status, err.type)) end
end
