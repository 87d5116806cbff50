--- What each generation endpoint's event stream looks like, and how its events add up
-- to the answer the non-streaming call returns.
--
-- A kind says how its stream ends and which events are failures:
--
-- * `chat`, `completions` (OpenAI): `data:` chunks, ended by `data: [DONE]`; a chunk
--   `{"error": {...}}` is a failure.
-- * `responses` (OpenAI Responses): named events; `response.completed` and
--   `response.incomplete` end it (yielded, then the loop ends); `response.failed` and
--   `error` are failures. No `[DONE]`.
-- * `messages` (Anthropic Messages): named events; `message_stop` ends it (yielded);
--   `ping` is passed through; `error` is a failure. No `[DONE]`.
--
-- `kind.collector()` returns an object with `add(event)` and `result()`: the answer in
-- the endpoint's own shape (see `alephant.gateway.stream`'s `collect`).
-- @module alephant.gateway.assemble
local core = require "alephant.core"
local errors = require "alephant.errors"
local util = require "alephant.util"

local assemble = {}

local null = core.null

local function present(v)
  return v ~= nil and v ~= null
end

-- Keys of a table with integer keys, sorted.
local function sorted_indexes(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

-- The error for a failure event: kind `http` with the provider's code and type.
local function event_error(message, code, etype)
  return errors.new("http", message, { code = present(code) and code or nil, type = present(etype) and etype or nil })
end

-- An OpenAI `{"error": {...}}` chunk, or nil.
local function openai_error(ev)
  local e = ev.error
  if type(e) ~= "table" or ev.choices ~= nil then return nil end
  local msg = type(e.message) == "string" and e.message or "the gateway sent an error event"
  return event_error(msg, e.code, e.type)
end

local copy = util.copy

---------------------------------------------------------------------------
-- chat and completions: chunks with id, model, ..., usage and choices by index
---------------------------------------------------------------------------
local HEAD = { "id", "model", "created", "system_fingerprint", "service_tier" }

-- Adds an OpenAI chunk: its head fields and usage, and each choice through
-- self:_choice(state, choice), the state made by self:_new() on its first delta.
local function add_chunk(self, ev)
  for _, k in ipairs(HEAD) do
    if present(ev[k]) then self.head[k] = ev[k] end
  end
  if type(ev.usage) == "table" then self.usage = ev.usage end
  if type(ev.choices) ~= "table" then return end
  for _, c in ipairs(ev.choices) do
    local i = type(c.index) == "number" and c.index or 0
    local ch = self.choices[i]
    if not ch then
      ch = self:_new()
      self.choices[i] = ch
    end
    self:_choice(ch, c)
    if present(c.finish_reason) then ch.finish_reason = c.finish_reason end
  end
end

-- The answer: `object`, the head fields, `choices` by index (each from
-- self:_result(i, state)), `usage`, and `fields` of the first choice copied to the top.
local function chunk_result(self, object, fields)
  local out = { object = object, choices = {} }
  for k, v in pairs(self.head) do out[k] = v end
  for _, i in ipairs(sorted_indexes(self.choices)) do
    out.choices[#out.choices + 1] = self:_result(i, self.choices[i])
  end
  out.usage = self.usage
  local first = out.choices[1]
  if first then
    for top, get in pairs(fields) do out[top] = get(first) end
  end
  return out
end

local Chat = { add = add_chunk }
Chat.__index = Chat

function Chat._new() return { content = {}, refusal = {}, calls = {} } end

function Chat._choice(_, ch, c)
  local d = type(c.delta) == "table" and c.delta or {}
  if type(d.role) == "string" then ch.role = d.role end
  if type(d.content) == "string" then ch.content[#ch.content + 1] = d.content end
  if type(d.refusal) == "string" then ch.refusal[#ch.refusal + 1] = d.refusal end
  if type(d.tool_calls) == "table" then
    for n, tc in ipairs(d.tool_calls) do
      local ti = type(tc.index) == "number" and tc.index or n - 1
      local call = ch.calls[ti]
      if not call then
        call = { arguments = {} }
        ch.calls[ti] = call
      end
      if type(tc.id) == "string" and tc.id ~= "" then call.id = call.id or tc.id end
      if type(tc.type) == "string" then call.type = tc.type end
      local f = tc["function"]
      if type(f) == "table" then
        if type(f.name) == "string" and f.name ~= "" then call.name = call.name or f.name end
        if type(f.arguments) == "string" then call.arguments[#call.arguments + 1] = f.arguments end
      end
    end
  end
end

function Chat._result(_, i, ch)
  local msg = { role = ch.role or "assistant" }
  if #ch.content > 0 then msg.content = table.concat(ch.content) end
  if #ch.refusal > 0 then msg.refusal = table.concat(ch.refusal) end
  local ti = sorted_indexes(ch.calls)
  if #ti > 0 then
    msg.tool_calls = {}
    for _, t in ipairs(ti) do
      local call = ch.calls[t]
      msg.tool_calls[#msg.tool_calls + 1] = { id = call.id, type = call.type or "function",
        ["function"] = { name = call.name, arguments = table.concat(call.arguments) } }
    end
  end
  return { index = i, message = msg, finish_reason = ch.finish_reason }
end

local CHAT_TOP = {
  role = function(c) return c.message.role end, content = function(c) return c.message.content end,
  tool_calls = function(c) return c.message.tool_calls end, refusal = function(c) return c.message.refusal end,
  finish_reason = function(c) return c.finish_reason end,
}

function Chat:result()
  return chunk_result(self, "chat.completion", CHAT_TOP)
end

---------------------------------------------------------------------------
-- completions
---------------------------------------------------------------------------
local Completion = { add = add_chunk }
Completion.__index = Completion

function Completion._new() return { text = {} } end

function Completion._choice(_, ch, c)
  if type(c.text) == "string" then ch.text[#ch.text + 1] = c.text end
end

function Completion._result(_, i, ch)
  return { index = i, text = table.concat(ch.text), finish_reason = ch.finish_reason }
end

local COMPLETION_TOP = {
  text = function(c) return c.text end, finish_reason = function(c) return c.finish_reason end,
}

function Completion:result()
  return chunk_result(self, "text_completion", COMPLETION_TOP)
end

---------------------------------------------------------------------------
-- responses
---------------------------------------------------------------------------
local Response = {}
Response.__index = Response

function Response:add(ev)
  if ev.type == "response.output_text.delta" and type(ev.delta) == "string" then
    self.deltas[#self.deltas + 1] = ev.delta
  elseif (ev.type == "response.completed" or ev.type == "response.incomplete") and type(ev.response) == "table" then
    self.response = ev.response
  end
end

-- The text of every output_text part of the response's message items, in order.
local function output_text(response)
  local parts = {}
  if type(response.output) == "table" then
    for _, item in ipairs(response.output) do
      if type(item) == "table" and item.type == "message" and type(item.content) == "table" then
        for _, part in ipairs(item.content) do
          if type(part) == "table" and part.type == "output_text" and type(part.text) == "string" then
            parts[#parts + 1] = part.text
          end
        end
      end
    end
  end
  return table.concat(parts)
end

function Response:result()
  local r = self.response
  if not r then
    return nil, errors.new("decode", "the stream ended without the response (no response.completed event)")
  end
  local text = output_text(r)
  if text == "" and #self.deltas > 0 then text = table.concat(self.deltas) end
  r.output_text = text
  return r
end

---------------------------------------------------------------------------
-- messages
---------------------------------------------------------------------------
local Message = {}
Message.__index = Message

local DELTA_FIELDS = { text_delta = "text", thinking_delta = "thinking", input_json_delta = "partial_json" }

function Message:add(ev)
  local t = ev.type
  if t == "message_start" and type(ev.message) == "table" then
    self.message = copy(ev.message)
  elseif t == "content_block_start" and type(ev.index) == "number" and type(ev.content_block) == "table" then
    self.blocks[ev.index] = { block = copy(ev.content_block), parts = {} }
  elseif t == "content_block_delta" and type(ev.delta) == "table" then
    local b = self.blocks[ev.index]
    if not b then
      b = { block = {}, parts = {} }
      self.blocks[ev.index] = b
    end
    local d = ev.delta
    local field = DELTA_FIELDS[d.type]
    if field and type(d[field]) == "string" then
      b.parts[#b.parts + 1] = d[field]
      b.field = field
    elseif d.type == "signature_delta" and type(d.signature) == "string" then
      b.block.signature = (b.block.signature or "") .. d.signature
    elseif d.type == "citations_delta" and type(d.citation) == "table" then
      b.block.citations = b.block.citations or {}
      b.block.citations[#b.block.citations + 1] = d.citation
    end
  elseif t == "message_delta" then
    self.message = self.message or {}
    if type(ev.delta) == "table" then
      for k, v in pairs(ev.delta) do self.message[k] = v end
    end
    if type(ev.usage) == "table" then
      self.message.usage = self.message.usage or {}
      for k, v in pairs(ev.usage) do self.message.usage[k] = v end
    end
  end
end

function Message:result()
  local m = self.message
  if not m then return nil, errors.new("decode", "the stream ended without a message_start event") end
  local content = {}
  for _, i in ipairs(sorted_indexes(self.blocks)) do
    local b = self.blocks[i]
    local block = b.block
    if b.field == "partial_json" then
      local text = table.concat(b.parts)
      if text ~= "" then
        local input, err = core.json_decode(text)
        if input == nil and err then
          err.kind = "decode"
          err.message = ("content block %d: the tool input is not JSON: %s"):format(i, err.message)
          return nil, err
        end
        block.input = input
      end
    elseif b.field then
      block[b.field] = (type(block[b.field]) == "string" and block[b.field] or "") .. table.concat(b.parts)
    end
    content[#content + 1] = block
  end
  m.content = content
  return m
end

---------------------------------------------------------------------------
-- the kinds
---------------------------------------------------------------------------
local function collector(mt, fields)
  return function()
    local t = {}
    for k, v in pairs(fields()) do t[k] = v end
    return setmetatable(t, mt)
  end
end

-- An OpenAI stream (chat, completions): ends on [DONE], an error chunk is a failure.
local function openai_kind(endpoint, mt)
  return {
    endpoint = endpoint, done = true, ending = "data: [DONE]",
    check = function(ev)
      local err = openai_error(ev)
      if err then return false, err end
    end,
    collector = collector(mt, function() return { head = {}, choices = {} } end),
  }
end

--- The stream kinds by method name (`chat_stream`, ...). Fields: `endpoint` (catalog
-- name), `done` (true: ends on `data: [DONE]`), `ending` (its end, for messages),
-- `check(event)` (nil, `"end"` for the terminal event, or false plus the failure),
-- `collector()`.
assemble.kinds = {
  chat_stream = openai_kind("gateway.chat", Chat),
  completions_stream = openai_kind("gateway.completions", Completion),
  responses_stream = {
    endpoint = "gateway.responses", done = false, ending = "response.completed",
    check = function(ev)
      local t = ev.type
      if t == "response.completed" or t == "response.incomplete" then return "end" end
      if t == "response.failed" then
        local r = type(ev.response) == "table" and ev.response or {}
        local e = type(r.error) == "table" and r.error or {}
        return false, event_error(type(e.message) == "string" and e.message or "the response failed", e.code)
      end
      if t == "error" then
        return false, event_error(type(ev.message) == "string" and ev.message or "the gateway sent an error event",
          ev.code)
      end
    end,
    collector = collector(Response, function() return { deltas = {} } end),
  },
  messages_stream = {
    endpoint = "gateway.messages", done = false, ending = "message_stop",
    check = function(ev)
      local t = ev.type
      if t == "message_stop" then return "end" end
      if t == "error" then
        local e = type(ev.error) == "table" and ev.error or {}
        return false, event_error(type(e.message) == "string" and e.message or "the gateway sent an error event",
          nil, e.type)
      end
    end,
    collector = collector(Message, function() return { blocks = {} } end),
  },
}

return assemble
