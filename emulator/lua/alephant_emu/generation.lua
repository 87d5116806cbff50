-- Generation endpoints beside chat: the OpenAI Responses API (/v1/responses), the
-- Anthropic Messages shape (/v1/messages) and legacy completions (/v1/completions),
-- each as one JSON answer or, with "stream": true, as the provider's own event stream:
--
--   responses    `event: <type>` frames: response.created, response.in_progress,
--                response.output_item.added, response.content_part.added,
--                response.output_text.delta..., response.output_text.done,
--                response.content_part.done, response.output_item.done,
--                response.completed (no [DONE])
--   messages     `event: <type>` frames: message_start, content_block_start, ping,
--                content_block_delta..., content_block_stop, message_delta,
--                message_stop (no [DONE])
--   completions  `data:` text_completion chunks, a usage chunk when
--                stream_options.include_usage, then data: [DONE]
--
-- Tool calling (chat and messages): when the request has `tools` and the last message
-- is not a tool result, the answer calls every tool (at most 2) with arguments built
-- from the tool's JSON schema; streamed, the arguments come in small pieces, the calls
-- interleaved, so a client must merge them by index. A tool result in the last
-- message gets a text answer quoting it.
--
-- Mid-stream faults (resp.lua): `cut` ends the body cleanly halfway without the
-- terminal event; `stream-error` sends the endpoint's error event halfway instead
-- (`error_event` below).
local json = require("alephant_emu.json")
local resp = require("alephant_emu.resp")
local util = require("alephant_emu.util")

local null = json.null
local floor = math.floor
local M = {}

local h -- helpers from gateway.lua: record, resolve_model, content_text, oai400, approx_tokens

function M.init(helpers) h = helpers end

local function words_of(text)
  local words = {}
  for w in text:gmatch("%S+") do words[#words + 1] = w end
  return words
end

-- n pieces of text, word by word ("Emulated", " reply", ...), words repeating past the end
local function text_pieces(words, n)
  local out = {}
  for i = 1, n do
    local w = words[((i - 1) % #words) + 1]
    out[i] = (i > 1 and " " or "") .. w
  end
  return out
end

-- Cuts s into pieces of at most `size` bytes (an empty string gives no piece).
local function cut(s, size)
  local out = {}
  for i = 1, #s, size do out[#out + 1] = s:sub(i, i + size - 1) end
  return out
end
M.cut = cut

-- The stream length a request asks for: X-Emulator-Stream-Chunks (words repeat), else
-- the words, at most `limit`.
local function chunk_count(req, limit, words)
  local n = tonumber(req.headers["x-emulator-stream-chunks"] or "")
  n = n and floor(n) or (limit and math.min(limit, #words)) or #words
  if n < 1 then n = 1 end
  return n
end

-- The arguments of a call to `tool` for the user's text, from its JSON schema.
local function tool_arguments(schema, text, nwords)
  local props = type(schema) == "table" and type(schema.properties) == "table" and schema.properties or {}
  local keys = {}
  for k in pairs(props) do keys[#keys + 1] = k end
  table.sort(keys)
  local args = json.object()
  for _, k in ipairs(keys) do
    local t = type(props[k]) == "table" and props[k].type
    if t == "number" or t == "integer" then args[k] = nwords
    elseif t == "boolean" then args[k] = true
    else args[k] = text end
  end
  return args
end

-- Tool calls for a request: { {id, name, arguments (JSON text)} }, or nil when it calls none.
-- `name_of(tool)`, `schema_of(tool)` read the provider's tool shape.
function M.tool_calls(tools, choice, text, seed, name_of, schema_of)
  if type(tools) ~= "table" or #tools == 0 or choice == "none" then return nil end
  local calls = {}
  for i, tool in ipairs(tools) do
    if i > 2 then break end
    local name = type(tool) == "table" and name_of(tool)
    if type(name) == "string" and name ~= "" then
      calls[#calls + 1] = { id = util.hex_from(seed .. "|" .. i .. "|" .. name, 24), name = name,
        arguments = json.encode(tool_arguments(schema_of(tool), text, #words_of(text))) }
    end
  end
  return #calls > 0 and calls or nil
end

-- A streaming answer from a list of SSE frames (strings), for resp.send.
local function frames_answer(frames, error_event)
  local i = 0
  return {
    status = 200,
    headers = { ["Content-Type"] = "text/event-stream", ["Cache-Control"] = "no-cache" },
    expected = #frames,
    error_event = error_event,
    gen = function()
      i = i + 1
      return frames[i]
    end,
  }
end
M.frames_answer = frames_answer

local function named(name, t)
  return "event: " .. name .. "\ndata: " .. json.encode(t) .. "\n\n"
end

local function data_frame(t)
  return "data: " .. json.encode(t) .. "\n\n"
end

local function check_body(req)
  local b = req.json
  if req.body == nil or req.body == "" then return nil, h.oai400("Request body is empty") end
  if type(b) ~= "table" then return nil, h.oai400("Request body must be a JSON object") end
  if type(b.model) ~= "string" or b.model == "" then return nil, h.oai400("model is required", "model") end
  local model = h.resolve_model(b.model)
  if not model then return nil, h.oai400("Unsupported model: " .. b.model, "model") end
  return b, model
end

local function positive_int(v)
  return type(v) == "number" and v >= 1 and v == floor(v)
end

local function include_usage(b)
  return type(b.stream_options) == "table" and b.stream_options.include_usage == true
end

---------------------------------------------------------------------------
-- /v1/completions
---------------------------------------------------------------------------
function M.completions(req)
  local b, model = check_body(req)
  if not b then return model end
  local prompt = b.prompt
  if type(prompt) == "table" then prompt = prompt[1] end
  if type(prompt) ~= "string" then return h.oai400("prompt must be a string or an array of strings", "prompt") end
  if b.max_tokens ~= nil and not positive_int(b.max_tokens) then
    return h.oai400("max_tokens must be a positive integer", "max_tokens")
  end
  local words = words_of("Emulated completion of: " .. prompt)
  local prompt_tokens = h.approx_tokens(prompt)
  local id = "cmpl-" .. util.hex_from(prompt .. "|" .. model.id, 24)
  local created = ngx.time()
  local limited = b.max_tokens and b.max_tokens < #words
  if b.stream == true then
    local n = chunk_count(req, b.max_tokens, words)
    local finish = (limited and not req.headers["x-emulator-stream-chunks"]) and "length" or "stop"
    h.record(req, model, prompt_tokens, n, 200, { stream = true })
    local frames = {}
    local function chunk(text, fin)
      return data_frame({ id = id, object = "text_completion", created = created, model = model.id,
        choices = json.array({ { text = text, index = 0, logprobs = null, finish_reason = fin or null } }) })
    end
    for i, piece in ipairs(text_pieces(words, n)) do frames[i] = chunk(piece) end
    frames[#frames + 1] = chunk("", finish)
    if include_usage(b) then
      frames[#frames + 1] = data_frame({ id = id, object = "text_completion", created = created, model = model.id,
        choices = json.array(), usage = { prompt_tokens = prompt_tokens, completion_tokens = n,
          total_tokens = prompt_tokens + n } })
    end
    frames[#frames + 1] = "data: [DONE]\n\n"
    return frames_answer(frames, data_frame({ error = { message = "Emulated fault: the upstream failed mid-stream",
      type = "server_error", code = "upstream_error", param = null } }))
  end
  local n = limited and b.max_tokens or #words
  local text = table.concat(text_pieces(words, n))
  h.record(req, model, prompt_tokens, n, 200)
  return resp.json(200, {
    id = id, object = "text_completion", created = created, model = model.id,
    choices = json.array({ { text = text, index = 0, logprobs = null,
      finish_reason = limited and "length" or "stop" } }),
    usage = { prompt_tokens = prompt_tokens, completion_tokens = n, total_tokens = prompt_tokens + n },
  })
end

---------------------------------------------------------------------------
-- /v1/responses
---------------------------------------------------------------------------
local function input_text(input)
  if type(input) == "string" then return input end
  local last = ""
  if type(input) == "table" then
    for _, item in ipairs(input) do
      if type(item) == "table" and (item.role == "user" or item.type == "message") then
        last = h.content_text(item.content)
        if type(item.content) == "table" and last == "" then
          for _, p in ipairs(item.content) do
            if type(p) == "table" and type(p.text) == "string" then last = p.text end
          end
        end
      end
    end
  end
  return last
end

function M.responses(req)
  local b, model = check_body(req)
  if not b then return model end
  if b.input == nil then return h.oai400("input is required", "input") end
  local text = input_text(b.input)
  if type(b.input) ~= "string" and type(b.input) ~= "table" then
    return h.oai400("input must be a string or an array of input items", "input")
  end
  local limit = b.max_output_tokens
  if limit ~= nil and not positive_int(limit) then
    return h.oai400("max_output_tokens must be a positive integer", "max_output_tokens")
  end
  local words = words_of("Emulated response to: " .. text)
  local in_tokens = h.approx_tokens(text .. (type(b.instructions) == "string" and b.instructions or ""))
  local id = "resp_" .. util.hex_from(json.encode(b.input) .. "|" .. model.id, 24)
  local msg_id = "msg_" .. util.hex_from(id, 24)
  local created = ngx.time()
  local n = b.stream == true and chunk_count(req, limit, words) or (limit and math.min(limit, #words) or #words)
  local incomplete = limit and limit < #words and not req.headers["x-emulator-stream-chunks"]
  local pieces = text_pieces(words, n)
  local full = table.concat(pieces)
  local function response(status, output, usage)
    return { id = id, object = "response", created_at = created, status = status, model = model.id,
      output = output, instructions = b.instructions or null, error = null,
      incomplete_details = (status == "incomplete") and { reason = "max_output_tokens" } or null,
      usage = usage or null, metadata = json.object(type(b.metadata) == "table" and b.metadata or nil) }
  end
  local part = { type = "output_text", text = full, annotations = json.array() }
  local item = { type = "message", id = msg_id, status = "completed", role = "assistant",
    content = json.array({ part }) }
  local usage = { input_tokens = in_tokens, output_tokens = n, total_tokens = in_tokens + n }
  local final_status = incomplete and "incomplete" or "completed"
  if b.stream ~= true then
    h.record(req, model, in_tokens, n, 200)
    return resp.json(200, response(final_status, json.array({ item }), usage))
  end
  h.record(req, model, in_tokens, n, 200, { stream = true })
  local frames, seq = {}, -1
  local function ev(t)
    seq = seq + 1
    t.sequence_number = seq
    frames[#frames + 1] = named(t.type, t)
  end
  ev({ type = "response.created", response = response("in_progress", json.array()) })
  ev({ type = "response.in_progress", response = response("in_progress", json.array()) })
  ev({ type = "response.output_item.added", output_index = 0, item = { type = "message", id = msg_id,
    status = "in_progress", role = "assistant", content = json.array() } })
  ev({ type = "response.content_part.added", item_id = msg_id, output_index = 0, content_index = 0,
    part = { type = "output_text", text = "", annotations = json.array() } })
  for _, p in ipairs(pieces) do
    ev({ type = "response.output_text.delta", item_id = msg_id, output_index = 0, content_index = 0, delta = p })
  end
  ev({ type = "response.output_text.done", item_id = msg_id, output_index = 0, content_index = 0, text = full })
  ev({ type = "response.content_part.done", item_id = msg_id, output_index = 0, content_index = 0, part = part })
  ev({ type = "response.output_item.done", output_index = 0, item = item })
  ev({ type = "response." .. final_status, response = response(final_status, json.array({ item }), usage) })
  local failed = response("failed", json.array())
  failed.error = { code = "server_error", message = "Emulated fault: the upstream failed mid-stream" }
  return frames_answer(frames, named("response.failed", { type = "response.failed", sequence_number = seq + 1,
    response = failed }))
end

---------------------------------------------------------------------------
-- /v1/messages (Anthropic)
---------------------------------------------------------------------------
-- The text of the last user turn, and whether it carries tool results.
local function last_user(messages)
  local text, tool_result = "", false
  for _, m in ipairs(messages) do
    if type(m) == "table" and m.role == "user" then
      tool_result = false
      if type(m.content) == "string" then
        text = m.content
      elseif type(m.content) == "table" then
        local parts = {}
        for _, blk in ipairs(m.content) do
          if type(blk) == "table" and blk.type == "tool_result" then
            tool_result = true
            parts[#parts + 1] = h.content_text(blk.content)
          elseif type(blk) == "table" and type(blk.text) == "string" then
            parts[#parts + 1] = blk.text
          end
        end
        text = table.concat(parts, " ")
      end
    end
  end
  return text, tool_result
end

function M.messages(req)
  local b, model = check_body(req)
  if not b then return model end
  if type(b.messages) ~= "table" or #b.messages == 0 then
    return h.oai400("messages must be a non-empty array", "messages")
  end
  if not positive_int(b.max_tokens) then
    return h.oai400("max_tokens is required and must be a positive integer", "max_tokens")
  end
  local text, from_tool = last_user(b.messages)
  local id = "msg_" .. util.hex_from(json.encode(b.messages) .. "|" .. model.id, 24)
  local in_tokens = h.approx_tokens(text)
  local calls = not from_tool and M.tool_calls(b.tools,
    type(b.tool_choice) == "table" and b.tool_choice.type or nil, text, id,
    function(t) return t.name end, function(t) return t.input_schema end)
  local lead = from_tool and "Emulated answer from the tool result: " or "Emulated message to: "
  local words = words_of(lead .. text)
  local limited = b.max_tokens < #words
  local n = b.stream == true and chunk_count(req, b.max_tokens, words) or (limited and b.max_tokens or #words)
  local pieces = text_pieces(words, n)
  local content = json.array()
  if calls then
    for _, c in ipairs(calls) do
      content[#content + 1] = { type = "tool_use", id = "toolu_" .. c.id, name = c.name,
        input = json.decode(c.arguments) }
    end
    n = 0
    for _, c in ipairs(calls) do n = n + h.approx_tokens(c.arguments) end
  else
    content[1] = { type = "text", text = table.concat(pieces) }
  end
  local stop = calls and "tool_use" or ((limited and not req.headers["x-emulator-stream-chunks"]) and "max_tokens"
    or "end_turn")
  if b.stream ~= true then
    h.record(req, model, in_tokens, n, 200)
    return resp.json(200, { id = id, type = "message", role = "assistant", model = model.id,
      content = content, stop_reason = stop, stop_sequence = null,
      usage = { input_tokens = in_tokens, output_tokens = n } })
  end
  h.record(req, model, in_tokens, n, 200, { stream = true })
  local frames = {}
  local function ev(t) frames[#frames + 1] = named(t.type, t) end
  ev({ type = "message_start", message = { id = id, type = "message", role = "assistant", model = model.id,
    content = json.array(), stop_reason = null, stop_sequence = null,
    usage = { input_tokens = in_tokens, output_tokens = 1 } } })
  if calls then
    for i, c in ipairs(calls) do
      ev({ type = "content_block_start", index = i - 1, content_block = { type = "tool_use",
        id = "toolu_" .. c.id, name = c.name, input = json.object() } })
      if i == 1 then ev({ type = "ping" }) end
      for _, p in ipairs(cut(c.arguments, 5)) do
        ev({ type = "content_block_delta", index = i - 1, delta = { type = "input_json_delta", partial_json = p } })
      end
      ev({ type = "content_block_stop", index = i - 1 })
    end
  else
    ev({ type = "content_block_start", index = 0, content_block = { type = "text", text = "" } })
    ev({ type = "ping" })
    for _, p in ipairs(pieces) do
      ev({ type = "content_block_delta", index = 0, delta = { type = "text_delta", text = p } })
    end
    ev({ type = "content_block_stop", index = 0 })
  end
  ev({ type = "message_delta", delta = { stop_reason = stop, stop_sequence = null }, usage = { output_tokens = n } })
  ev({ type = "message_stop" })
  return frames_answer(frames, named("error", { type = "error",
    error = { type = "overloaded_error", message = "Emulated fault: Overloaded" } }))
end

return M
