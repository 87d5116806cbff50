-- One stream per generation endpoint: chat, the Responses API, Anthropic Messages and
-- legacy completions. Each is read event by event with a generic for, or whole with
-- collect(), which returns what the non-streaming call would have returned.
-- token: vk_agent
--   ALEPHANT_TOKEN=vk-... lua5.4 examples/gateway_streams.lua
local alephant = require "alephant"

local client = assert(alephant.new())

-- Chat: data: chunks until [DONE]; usage comes in a last chunk (include_usage is on).
io.write("chat: ")
for event, err in client.gateway:chat_stream{ model = "openai/gpt-4o-mini",
  messages = { { role = "user", content = "Say hi" } } } do
  if not event then error(tostring(err)) end
  local choice = event.choices[1]
  if choice and choice.delta.content then io.write(choice.delta.content) end
  if event.usage then io.write(("  [%d tokens]"):format(event.usage.total_tokens)) end
end
print()

-- Responses: named events (event.type) until response.completed.
io.write("responses: ")
for event, err in client.gateway:responses_stream{ model = "openai/gpt-4o-mini", input = "Say hi" } do
  if not event then error(tostring(err)) end
  if event.type == "response.output_text.delta" then io.write(event.delta) end
  if event.type == "response.completed" then io.write(("  [%s]"):format(event.response.status)) end
end
print()

-- Messages: message_start .. message_stop; ping events pass through; an error event
-- arrives as false, err.
io.write("messages: ")
local message = assert(client.gateway:messages_stream{ model = "anthropic/claude-3-5-haiku", max_tokens = 64,
  messages = { { role = "user", content = "Say hi" } } }:collect(function(event)
    if event.type == "content_block_delta" then io.write(event.delta.text or "") end
  end))
print(("  [%s, %d tokens out]"):format(message.stop_reason, message.usage.output_tokens))

-- Completions: collect() gives the text_completion with .text.
local completion = assert(client.gateway:completions_stream{ model = "openai/gpt-4o-mini", prompt = "Once upon" }
  :collect())
print("completions: " .. completion.text .. ("  [%s]"):format(completion.finish_reason))
