-- A chat completion through the AI gateway with agent attribution (agent, run,
-- session, properties), a run context for a multi-step task, and a refusal before sending.
-- token: vk_agent
--   ALEPHANT_TOKEN=vk-... lua5.4 examples/gateway_chat.lua
local alephant = require "alephant"

local client = assert(alephant.new())

-- One call: the tracking options become Alephant-* headers, the rest is the JSON body.
local reply, err, meta = client.gateway:chat{
  model = "openai/gpt-4o-mini",
  messages = { { role = "user", content = "Summarise ticket 8421" } },
  max_tokens = 64,
  agent_id = "agt_support_bot",
  session = { id = "sess_ticket_8421", name = "Ticket 8421", path = "support/triage" },
  properties = { ticket = 8421, channel = "email" },
}
if not reply then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
print("reply:      " .. reply.choices[1].message.content)
print("request id: " .. meta.request_id) -- look it up later with client.collector:request_log
print(("tokens:     %d in, %d out"):format(reply.usage.prompt_tokens, reply.usage.completion_tokens))

-- A run: every call and event of one task carries the same agent, run and session.
local run = assert(client:run{ agent_id = "agt_support_bot", session = { id = "sess_ticket_8421" } })
print("run id:     " .. run.run_id)
assert(run:event{ type = "run.started", step_kind = "planning" })
local answer = assert(run:chat{ model = "openai/gpt-4o-mini",
  messages = { { role = "user", content = "Draft a reply" } },
  session = { path = "support/draft" } }) -- adds a path to the run's session for this call
print("draft:      " .. answer.choices[1].message.content)
local decisions = assert(run:event{ type = "run.finished", step_kind = "final_answer" })
print(("events:     %d accepted"):format(decisions.accepted))

-- Checked before sending: a property that looks like a credential is refused.
local _, refused = client.gateway:chat{ model = "openai/gpt-4o-mini", messages = { { role = "user", content = "hi" } },
  properties = { api_key = "sk-..." } }
print("refused:    " .. tostring(refused))
