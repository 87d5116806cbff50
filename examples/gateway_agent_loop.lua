-- A small tool-calling agent loop: chat with tools -> collect the streamed answer ->
-- call the tools it asked for -> send the results -> until the model answers in text.
-- Every call carries the run's attribution and step headers (run:step): the model
-- calls are llm_call steps, each tool call a tool_call step under the model call that
-- asked for it, so the gateway's request logs show the agent's tree without bookkeeping.
-- token: vk_agent
--   ALEPHANT_TOKEN=vk-... lua5.4 examples/gateway_agent_loop.lua
local alephant = require "alephant"

local client = assert(alephant.new())
local MODEL = "openai/gpt-4o-mini"

-- The tools the model may call, and their Lua implementations.
local tools = {
  { type = "function", ["function"] = {
    name = "get_weather", description = "Today's weather in a city",
    parameters = { type = "object", properties = { city = { type = "string" } }, required = { "city" } },
  } },
}
local implementations = {
  get_weather = function(args) return { city = args.city, sky = "sunny", high_c = 21 } end,
}

local run = assert(client:run{ agent_id = "agt_support_bot", agent_name = "Support bot",
  session = { id = "auto", name = "weather question" } })
local messages = { { role = "user", content = "Lisbon" } }

for iteration = 1, 5 do
  local llm = assert(run:step{ kind = "llm_call", iteration = iteration })
  local reply, err = llm:chat_stream{ model = MODEL, messages = messages, tools = tools }:collect()
  if not reply then -- a failed attempt: calling llm:chat_stream again would be attempt 2
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  messages[#messages + 1] = { role = "assistant", content = reply.content, tool_calls = reply.tool_calls }
  if not reply.tool_calls then
    print(("answer after %d model call(s): %s"):format(iteration, reply.content))
    print(("tokens: %d in, %d out"):format(reply.usage.prompt_tokens, reply.usage.completion_tokens))
    break
  end
  for _, call in ipairs(reply.tool_calls) do
    local tool = assert(llm:step{ kind = "tool_call", tool_call_id = call.id })
    local args = assert(alephant.json_decode(call["function"].arguments))
    local result = implementations[call["function"].name](args)
    print(("step %s: %s(%s)"):format(tool.kind, call["function"].name, call["function"].arguments))
    assert(tool:event{ type = "step.completed", step_kind = "tool_call", tool_call_id = call.id })
    messages[#messages + 1] = { role = "tool", tool_call_id = call.id, content = assert(alephant.json_encode(result)) }
  end
end
print(("run %s, session %s"):format(run.run_id, run.session_id))
