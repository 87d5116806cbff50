-- Traces a gateway call to its request log: the log is ingested asynchronously
-- (the emulator's delay is 300 ms by default), so the lookup waits for it.
-- token: vk_agent
--   ALEPHANT_TOKEN=vk-... lua5.4 examples/gateway_trace.lua
local alephant = require "alephant"

local client = assert(alephant.new())

local reply, err, meta = client.gateway:chat{
  model = "openai/gpt-4o-mini",
  messages = { { role = "user", content = "What does this call cost?" } },
  agent_id = "agt_support_bot",
  run_id = "run_trace_example",
  properties = { example = "gateway_trace" },
}
if not reply then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
print("request id: " .. meta.request_id)

-- Polls while the answer is 404 / 40401 (0.1 s, then doubling up to 2 s) for up to 10 s.
local log, lerr, lmeta = client.collector:request_log(meta.request_id, { wait = 10 })
if not log then
  io.stderr:write(tostring(lerr), "\n") -- kind "timeout" if it never appeared
  os.exit(1)
end
local row = log.row
print(("found after %d polls (%.2f s)"):format(lmeta.polls, lmeta.waited))
print(("model %s, %d tokens in, %d out, cost $%.6f"):format(row.model, row.tokens_in, row.tokens_out, row.cost))
print(("agent %s, run %s, property example=%s"):format(row.agent_id, row.run_id, row.properties.example))

-- Without wait it is one call: right after a new request that is usually "not found yet".
local _, _, m2 = assert(client.gateway:chat{ model = "openai/gpt-4o-mini",
  messages = { { role = "user", content = "again" } } })
local _, early = client.collector:request_log(m2.request_id)
print("immediately: " .. (early and ("HTTP " .. tostring(early.status) .. " code " .. tostring(early.code)) or "found"))
