-- AI Gateway /v1/* (OpenAI-compatible, docs/api-notes.md#gateway).  Answers are
-- deterministic functions of the request; every authenticated call on chat,
-- completions and embeddings is queued as a request log that becomes visible on
-- /v1/analytics/request-logs/{x-request-id} after ingest_delay_ms.
local json = require("alephant_emu.json")
local util = require("alephant_emu.util")
local store = require("alephant_emu.store")
local resp = require("alephant_emu.resp")
local generation = require("alephant_emu.generation")

local null = json.null
local floor = math.floor
local M = {}

local function oai400(msg, param)
  return resp.oai_err(400, msg, "invalid_request_error", null, param)
end

-- bare names (gpt-4o-mini) resolve to provider/model ids
local function resolve_model(name)
  if type(name) ~= "string" or name == "" then return nil end
  local m = store.model(name)
  if m then return m end
  for _, mm in ipairs(store.models()) do
    if mm.id:match("/(.+)$") == name then return mm end
  end
  return nil
end

local function approx_tokens(s)
  return math.max(1, math.ceil(#s / 4))
end

local function content_text(c)
  if type(c) == "string" then return c end
  if type(c) == "table" then
    local parts = {}
    for _, p in ipairs(c) do
      if type(p) == "table" and type(p.text) == "string" then parts[#parts + 1] = p.text end
    end
    return table.concat(parts, " ")
  end
  return ""
end

local function entity_dept(vk)
  local e
  if vk.entity_type == "agent" then e = store.get("agents", vk.entity_id)
  elseif vk.entity_type == "member" then e = store.get("members", vk.entity_id) end
  if e and type(e.department_id) == "string" then return e.department_id end
  return null
end

-- Queue a request-log row built from the gateway call's headers.
local function record(req, model, tokens_in, tokens_out, status, extra)
  local vk = req.ident.vk
  local h = req.headers
  local function hv(name)
    local v = h[name]
    if type(v) == "table" then v = v[1] end
    if type(v) ~= "string" then return nil end
    v = util.trim(v)
    if v == "" then return nil end
    return v
  end
  local props = {}
  for k, v in pairs(h) do
    local key = type(k) == "string" and k:match("^alephant%-property%-(.+)$")
    if key then props[key] = type(v) == "table" and v[1] or v end
  end
  local m = model or {}
  local micros = floor(tokens_in * (m.input_usd_per_mtok or 0) + tokens_out * (m.output_usd_per_mtok or 0))
  local now = ngx.now()
  local session = hv("alephant-session-id")
  local row = {
    request_id = req.request_id, workspace_id = vk.workspace_id, virtual_key_id = vk.id,
    model = m.id or null, provider = m.provider or null, status = status,
    tokens_in = tokens_in, tokens_out = tokens_out, cost = util.round(micros / 1e6, 6),
    cost_cents = floor(micros / 1e4 + 0.5), latency_ms = floor((ngx.now() - ngx.req.start_time()) * 1000),
    entity_type = type(vk.entity_type) == "string" and vk.entity_type or null,
    entity_id = type(vk.entity_id) == "string" and vk.entity_id or null,
    agent_id = hv("alephant-agent-id") or (vk.entity_type == "agent" and vk.entity_id) or null,
    member_id = vk.entity_type == "member" and vk.entity_id or null,
    department_id = entity_dept(vk), master_key_id = vk.master_key_id or null,
    run_id = hv("alephant-run-id") or null, session_id = session or null,
    session_path = session and hv("alephant-session-path") or null,
    session_name = session and hv("alephant-session-name") or null,
    agent_name = hv("alephant-agent-name") or null, step_id = hv("alephant-step-id") or null,
    parent_step_id = hv("alephant-parent-step-id") or null, step_kind = hv("alephant-step-kind") or null,
    step_source = hv("alephant-step-source") or null, step_attempt = hv("alephant-step-attempt") or null,
    step_input_hash = hv("alephant-step-input-hash") or null, tool_call_id = hv("alephant-tool-call-id") or null,
    handoff_id = hv("alephant-handoff-id") or null, graph_node = hv("alephant-graph-node") or null,
    iteration = hv("alephant-iteration") or null, state_hash = hv("alephant-state-hash") or null,
    prompt_id = hv("alephant-prompt-id") or null, webhook = h["x-alephant-webhook-enabled"] ~= nil,
    cache_control = hv("alephant-cache-control") or null,
    cache_semantic_threshold = hv("alephant-cache-semantic-threshold") or null,
    embeddings_model = hv("alephant-embeddings-model") or null,
    embeddings_key_sent = h["alephant-embeddings-key"] ~= nil,
    properties = json.object(props), path = req.path, stream = extra and extra.stream or false,
    created_at = util.fmt_iso(now), ts = now, source = "gateway",
  }
  store.add_log(row, now + (store.config("ingest_delay_ms") or 0) / 1000)
end

-- The reply's words; the second result is true when the last message is a tool result
-- (then the reply quotes it).
local function reply_words(messages)
  local last = ""
  for _, msg in ipairs(messages) do
    if type(msg) == "table" and msg.role == "user" then last = content_text(msg.content) end
  end
  if last == "" and #messages > 0 and type(messages[#messages]) == "table" then
    last = content_text(messages[#messages].content)
  end
  local final = messages[#messages]
  local from_tool = type(final) == "table" and final.role == "tool"
  local text = from_tool and ("Emulated answer from the tool result: " .. content_text(final.content))
    or ("Emulated reply to: " .. last)
  local words = {}
  for w in text:gmatch("%S+") do words[#words + 1] = w end
  return words, text, from_tool
end

generation.init({ record = record, resolve_model = resolve_model, content_text = content_text,
  oai400 = oai400, approx_tokens = approx_tokens })
M.completions = generation.completions
M.responses = generation.responses
M.messages = generation.messages

-- Chat tool calls, streamed: the first chunk of each call has its id, type and name;
-- then the arguments come 4 bytes at a time, the calls interleaved.
local function tool_call_stream(req, b, model, calls, id, created, prompt_tokens)
  local frames = {}
  local function chunk(delta, fin, usage)
    local t = { id = id, object = "chat.completion.chunk", created = created, model = model.id,
      choices = json.array({ { index = 0, delta = delta, finish_reason = fin or null } }) }
    if usage then t.choices, t.usage = json.array(), usage end
    return "data: " .. json.encode(t) .. "\n\n"
  end
  local first = json.array()
  local pieces, most, n = {}, 0, 0
  for i, c in ipairs(calls) do
    first[i] = { index = i - 1, id = "call_" .. c.id, type = "function",
      ["function"] = { name = c.name, arguments = "" } }
    pieces[i] = generation.cut(c.arguments, 4)
    most = math.max(most, #pieces[i])
    n = n + approx_tokens(c.arguments)
  end
  frames[1] = chunk({ role = "assistant", content = null, tool_calls = first })
  for k = 1, most do
    for i = 1, #calls do
      local p = pieces[i][k]
      if p then
        local delta = { index = i - 1, ["function"] = { arguments = p } }
        frames[#frames + 1] = chunk({ tool_calls = json.array({ delta }) })
      end
    end
  end
  frames[#frames + 1] = chunk(json.object(), "tool_calls")
  if type(b.stream_options) == "table" and b.stream_options.include_usage == true then
    frames[#frames + 1] = chunk(nil, nil, { prompt_tokens = prompt_tokens, completion_tokens = n,
      total_tokens = prompt_tokens + n })
  end
  frames[#frames + 1] = "data: [DONE]\n\n"
  record(req, model, prompt_tokens, n, 200, { stream = true })
  return generation.frames_answer(frames, M.chat_error_event)
end

-- What `stream-error` sends in the middle of a chat or completions stream.
M.chat_error_event = "data: " .. json.encode({ error = { message = "Emulated fault: the upstream failed mid-stream",
  type = "server_error", code = "upstream_error", param = null } }) .. "\n\n"

function M.chat(req)
  local b = req.json
  if req.body == nil or req.body == "" then return oai400("Request body is empty") end
  if type(b) ~= "table" then return oai400("Request body must be a JSON object") end
  if type(b.model) ~= "string" or b.model == "" then return oai400("model is required", "model") end
  local model = resolve_model(b.model)
  if not model then return oai400("Unsupported model: " .. b.model, "model") end
  if type(b.messages) ~= "table" or #b.messages == 0 then
    return oai400("messages must be a non-empty array", "messages")
  end
  for i, m in ipairs(b.messages) do
    if type(m) ~= "table" or type(m.role) ~= "string" then
      return oai400("messages[" .. (i - 1) .. "].role is required", "messages")
    end
  end
  local max_tokens = b.max_tokens or b.max_completion_tokens
  if max_tokens ~= nil and (type(max_tokens) ~= "number" or max_tokens < 1 or max_tokens ~= floor(max_tokens)) then
    return oai400("max_tokens must be a positive integer", "max_tokens")
  end
  local words, text, from_tool = reply_words(b.messages)
  local prompt_chars = 0
  for _, m in ipairs(b.messages) do prompt_chars = prompt_chars + #content_text(m.content) + 4 end
  local prompt_tokens = math.max(1, math.ceil(prompt_chars / 4))
  local id = "chatcmpl-" .. util.hex_from(json.encode(b.messages) .. "|" .. model.id, 24)
  local created = ngx.time()
  local calls = not from_tool and generation.tool_calls(b.tools, b.tool_choice, text:gsub("^Emulated reply to: ", ""),
    id, function(t) return type(t["function"]) == "table" and t["function"].name end,
    function(t) return type(t["function"]) == "table" and t["function"].parameters end)

  if calls and b.stream == true then
    return tool_call_stream(req, b, model, calls, id, created, prompt_tokens)
  elseif calls then
    local tcs, n = json.array(), 0
    for i, c in ipairs(calls) do
      tcs[i] = { id = "call_" .. c.id, type = "function", ["function"] = { name = c.name, arguments = c.arguments } }
      n = n + approx_tokens(c.arguments)
    end
    record(req, model, prompt_tokens, n, 200)
    return resp.json(200, {
      id = id, object = "chat.completion", created = created, model = model.id,
      choices = json.array({ { index = 0, message = { role = "assistant", content = null, tool_calls = tcs },
        finish_reason = "tool_calls", logprobs = null } }),
      usage = { prompt_tokens = prompt_tokens, completion_tokens = n, total_tokens = prompt_tokens + n },
      system_fingerprint = "alephant-emulator",
    })
  end

  if b.stream == true then
    local n = tonumber(req.headers["x-emulator-stream-chunks"] or "")
    n = n and floor(n) or max_tokens or #words
    if n < 1 then n = 1 end
    local finish = (max_tokens and not req.headers["x-emulator-stream-chunks"] and max_tokens < #words) and "length"
      or "stop"
    local include_usage = type(b.stream_options) == "table" and b.stream_options.include_usage == true
    record(req, model, prompt_tokens, n, 200, { stream = true })
    local i = -1
    local done = false
    local function chunk(delta, fin, usage)
      local t = { id = id, object = "chat.completion.chunk", created = created, model = model.id,
        choices = json.array({ { index = 0, delta = delta, finish_reason = fin or null } }) }
      if usage then
        t.choices = json.array()
        t.usage = usage
      end
      return "data: " .. json.encode(t) .. "\n\n"
    end
    return {
      status = 200,
      headers = { ["Content-Type"] = "text/event-stream", ["Cache-Control"] = "no-cache" },
      expected = n + 3,
      error_event = M.chat_error_event,
      gen = function()
        if done then return nil end
        i = i + 1
        if i == 0 then return chunk({ role = "assistant", content = "" }) end
        if i <= n then
          local w = words[((i - 1) % #words) + 1]
          return chunk({ content = (i > 1 and " " or "") .. w })
        end
        if i == n + 1 then return chunk(json.object(), finish) end
        if i == n + 2 and include_usage then
          return chunk(nil, nil, { prompt_tokens = prompt_tokens, completion_tokens = n,
            total_tokens = prompt_tokens + n })
        end
        done = true
        return "data: [DONE]\n\n"
      end,
    }
  end

  local finish = "stop"
  if max_tokens and max_tokens < #words then
    local cut = {}
    for k = 1, max_tokens do cut[k] = words[k] end
    text = table.concat(cut, " ")
    finish = "length"
  end
  local completion_tokens = approx_tokens(text)
  record(req, model, prompt_tokens, completion_tokens, 200)
  return resp.json(200, {
    id = id, object = "chat.completion", created = created, model = model.id,
    choices = json.array({ { index = 0, message = { role = "assistant", content = text },
      finish_reason = finish, logprobs = null } }),
    usage = { prompt_tokens = prompt_tokens, completion_tokens = completion_tokens,
      total_tokens = prompt_tokens + completion_tokens },
    system_fingerprint = "alephant-emulator",
  })
end

function M.embeddings(req)
  local b = req.json
  if req.body == nil or req.body == "" then return oai400("Request body is empty") end
  if type(b) ~= "table" then return oai400("Request body must be a JSON object") end
  local model = resolve_model(b.model)
  if not model then return oai400("Unsupported model: " .. tostring(b.model), "model") end
  local inputs = b.input
  if type(inputs) == "string" then inputs = { inputs } end
  if type(inputs) ~= "table" or #inputs == 0 then
    return oai400("input must be a string or an array of strings", "input")
  end
  local dims = b.dimensions or 8
  if type(dims) ~= "number" or dims < 1 or dims > 4096 then
    return oai400("dimensions must be 1..4096", "dimensions")
  end
  local data = json.array()
  local total = 0
  for i, s in ipairs(inputs) do
    if type(s) ~= "string" then return oai400("input must be a string or an array of strings", "input") end
    total = total + approx_tokens(s)
    local x = util.hash(s)
    local vec = json.array()
    for k = 1, dims do
      local r
      x, r = util.lcg(x)
      vec[k] = util.round(r * 2 - 1, 6)
    end
    data[#data + 1] = { object = "embedding", index = i - 1, embedding = vec }
  end
  record(req, model, total, 0, 200)
  return resp.json(200, { object = "list", data = data, model = model.id,
    usage = { prompt_tokens = total, total_tokens = total } })
end

-- POST /v1/images/generations: prompt required; model optional (the key's default).
function M.images(req)
  local b = req.json
  if req.body == nil or req.body == "" then return oai400("Request body is empty") end
  if type(b) ~= "table" then return oai400("Request body must be a JSON object") end
  if type(b.prompt) ~= "string" or b.prompt == "" then return oai400("prompt is required", "prompt") end
  local model = resolve_model(b.model or "openai/gpt-4o-mini")
  if not model then return oai400("Unsupported model: " .. tostring(b.model), "model") end
  local n = b.n or 1
  if type(n) ~= "number" or n < 1 or n > 10 or n ~= floor(n) then return oai400("n must be 1..10", "n") end
  local data = json.array()
  for i = 1, n do
    data[i] = { url = "https://images.emulator.invalid/" .. util.hash(b.prompt) .. "-" .. i .. ".png" }
  end
  record(req, model, approx_tokens(b.prompt), 0, 200)
  return resp.json(200, { created = ngx.time(), data = data })
end

function M.models()
  local data = json.array()
  for _, m in ipairs(store.models()) do
    data[#data + 1] = { id = m.id, object = "model", created = 1735689600, owned_by = m.provider }
  end
  return resp.json(200, { object = "list", data = data })
end

local ENUMS = {
  step_kind = { "planning", "reasoning", "llm_call", "tool_call", "tool_result", "handoff", "approval", "checkpoint",
    "final_answer", "retry", "error_recovery", "unknown" },
  step_source = { "runtime", "gateway", "rule", "heuristic", "unknown" },
  step_confidence = { "high", "medium", "low", "unknown" },
  event_phase = { "before", "after", "state", "unknown" },
  policy_stage = { "pre_action", "post_action", "audit_only" },
}
local ENUM_SET = {}
for k, list in pairs(ENUMS) do
  ENUM_SET[k] = {}
  for _, v in ipairs(list) do ENUM_SET[k][v] = true end
end

local function decide(ev, idx)
  local violations, warnings = json.array(), json.array()
  local etype = type(ev) == "table" and (ev.type or ev.event) or nil
  if type(ev) ~= "table" then
    violations[1] = { field = "event", reason = "invalid_type", reason_message = "event must be an object" }
  elseif type(etype) ~= "string" or etype == "" then
    violations[#violations + 1] = { field = "type", reason = "missing_field",
      reason_message = "event type is required (field type or event)" }
  end
  if type(ev) == "table" then
    for field, set in pairs(ENUM_SET) do
      local v = ev[field]
      if v ~= nil and (type(v) ~= "string" or not set[v]) then
        warnings[#warnings + 1] = { field = field, reason = "unknown_value", actual = tostring(v),
          reason_message = field .. " is not a known value; recorded as unknown" }
      end
    end
    if ev.sequence ~= nil and (type(ev.sequence) ~= "number" or ev.sequence < 0) then
      violations[#violations + 1] = { field = "sequence", reason = "invalid_type",
        reason_message = "sequence must be a non-negative integer" }
    end
  end
  local accepted = #violations == 0
  local e = type(ev) == "table" and ev or {}
  return {
    eventId = type(e.event_id) == "string" and e.event_id or ("evt_" .. util.hex_from(json.encode(e) .. idx, 16)),
    eventType = type(etype) == "string" and etype or null,
    runId = e.run_id or null, stepId = e.step_id or null,
    allowed = accepted, policyDecision = accepted and "allow" or "reject",
    policyStage = ENUM_SET.policy_stage[e.policy_stage or ""] and e.policy_stage or "audit_only",
    sinkStatus = accepted and "accepted" or "rejected",
    reason = accepted and null or "invalid_event", blockedBy = null, routeHint = null, snapshotRevision = 0,
    reasonMessage = accepted and null or violations[1].reason_message, policyId = null, policyScope = null,
    violations = violations, warnings = warnings,
  }
end

function M.agent_events(req)
  local b = req.json
  if req.body == nil or req.body == "" then return oai400("Request body is empty") end
  if type(b) ~= "table" then return oai400("Request body must be a JSON object") end
  local events
  if b.events ~= nil then
    if type(b.events) ~= "table" then return oai400("events must be an array", "events") end
    if #b.events == 0 then return oai400("events must not be empty", "events") end
    events = b.events
  else
    events = { b }
  end
  local decisions = json.array()
  local acc, rej = 0, 0
  for i, ev in ipairs(events) do
    local d = decide(ev, i)
    decisions[#decisions + 1] = d
    if d.allowed then acc = acc + 1 else rej = rej + 1 end
  end
  return resp.json(200, { accepted = acc, rejected = rej, allowed = acc, decisions = decisions })
end

return M
