--- Streamed gateway answers: a callable object to use in a generic `for`.
--
--     local s = client.gateway:chat_stream{ model = "openai/gpt-4o-mini", messages = msgs }
--     for event, err in s do
--       if not event then error(tostring(err)) end   -- false, err on failure (once)
--       io.write(event.choices[1].delta.content or "")
--     end
--     print(s.request_id, s.events)
--
--     local reply, err = client.gateway:chat_stream{ ... }:collect()   -- the whole answer
--
-- Each event is the decoded `data:` JSON; when the SSE frame has an `event:` name and
-- the JSON has no `type`, `type` is set to that name. How a stream ends depends on its
-- kind (`alephant.gateway.assemble`): chat and completions on `data: [DONE]`, Responses
-- on `response.completed` (or `response.incomplete`), Messages on `message_stop` (both
-- yielded before the loop ends); failure events (`error`, `response.failed`, an OpenAI
-- `{"error": ...}` chunk) are yielded as `false, err` (kind `http`). A body that ends
-- before its terminal event is a `network` error saying so.
--
-- The request goes through the client's pipeline (validation, rate limit, retries with
-- backoff, deadline) with a transport adapter that keeps the response open once its
-- status and headers are known. So a stream is retried only before its first byte,
-- under the normal rules (a POST only with `retry = true`); after that a failure ends
-- it with `false, err`. The body is read with libcurl's multi interface one step at a
-- time (`core.http_new():stream{}`): no Lua runs inside libcurl, and the buffers hold
-- only what was not consumed yet.
-- @module alephant.gateway.stream
local core = require "alephant.core"
local errors = require "alephant.errors"
local scrub = require "alephant.scrub"
local sse = require "alephant.gateway.sse"

local stream = {}

--- Bytes of an error answer read before giving up on the rest.
stream.MAX_ERROR_BODY = 1024 * 1024
--- Bytes read after `data: [DONE]` (normally none) so the connection can be reused.
stream.MAX_DRAIN = 64 * 1024

-- A transport for Client:_send: request{} opens a stream; an error status gets its
-- (bounded) body read so the usual error mapping applies; a success leaves the
-- stream open in self.open for the caller.
local Adapter = {}
Adapter.__index = Adapter

function Adapter:request(r)
  local t = self.transport
  if type(t.stream) ~= "function" then
    return nil, errors.new("config", "the client's transport cannot stream (it has no stream{} method)")
  end
  local s, err = t:stream(r)
  if not s then return nil, err end
  local status, headers = s:status(), s:headers()
  if status >= 300 then
    local parts, size = {}, 0
    while size < stream.MAX_ERROR_BODY do
      local chunk = s:next()
      if not chunk then break end
      parts[#parts + 1] = chunk
      size = size + #chunk
    end
    s:close()
    return { status = status, headers = headers, body = table.concat(parts) }
  end
  self.open = s
  return { status = status, headers = headers, body = "" }
end

local Stream = {}
Stream.__index = Stream

local function failed(self, err)
  if self._secrets then scrub.deep(self._secrets, err) end -- server text may echo the token
  self.done = true
  self.err = err
  self:close()
  return false, err
end

-- The error for a stream that broke after it started.
local function broken(self, err, what)
  err.endpoint = self.endpoint
  err.request_id = self.request_id
  err.events = self.events
  err.message = ("%s: the stream %s after %d event%s: %s"):format(self.endpoint, what, self.events,
    self.events == 1 and "" or "s", err.message)
  return failed(self, err)
end

-- Reads what is left after [DONE] so libcurl can finish the transfer and keep the
-- connection; gives up (closing it) past MAX_DRAIN bytes or on any error.
local function drain(self)
  local s, got = self._s, 0
  while s and got <= stream.MAX_DRAIN do
    local chunk = s:next()
    if not chunk then break end
    got = got + #chunk
  end
  self:close()
end

-- The next event: a decoded table, nil at the end, or false and an error (once).
local function step(self)
  if self.done then return nil end
  local pending = self._pending
  if pending then
    self._pending = nil
    return failed(self, pending)
  end
  if self._ended then -- the terminal event was yielded: the stream is over
    self.done, self.complete = true, true
    drain(self)
    return nil
  end
  local kind = self._kind
  while true do
    local data, name = self._parser:next()
    if data ~= nil then
      if data == "[DONE]" then
        if kind.done then
          self.done, self.complete = true, true
          drain(self)
          return nil
        end
        return broken(self, errors.new("network", ("response ended (data: [DONE]) before %s"):format(kind.ending),
          { retryable = true }), "ended early")
      end
      local ev, derr = core.json_decode(data)
      if ev == nil and derr then
        derr.kind = "decode"
        derr.status = self.meta.status
        return broken(self, derr, "sent an event that is not JSON")
      end
      if type(ev) == "table" then
        if name and ev.type == nil then ev.type = name end
        local verdict, ferr = kind.check(ev)
        if verdict == false then
          ferr.status = self.meta.status
          return broken(self, ferr, "sent an error")
        end
        if verdict == "end" then self._ended = true end
      end
      self.events = self.events + 1
      return ev
    end
    if self._eof then
      return broken(self, errors.new("network", ("response ended before %s"):format(kind.ending), { retryable = true }),
        "ended early")
    end
    local chunk, err = self._s:next()
    if chunk then
      local ok, perr = self._parser:feed(chunk)
      if not ok then return broken(self, perr, "was refused") end
    elseif err then
      return broken(self, err, "broke")
    else
      self._eof = true
      local ok, perr = self._parser:finish()
      if not ok then return broken(self, perr, "was refused") end
    end
  end
end

--- The iterator: each call returns the next event (a decoded table), nil at the end,
-- or false and an error once.
Stream.__call = step

--- Releases the response (aborting it if it is still running). Idempotent; also
-- `__close` on Lua 5.4. Call it when leaving the loop early.
function Stream:close()
  local s = self._s
  self._s = nil
  self.done = true -- a closed stream yields nothing more
  if s then s:close() end
  return true
end
Stream.__close = Stream.close

--- Reads the rest of the stream and returns the answer the non-streaming call would
-- have returned, in the endpoint's own shape (see `alephant.gateway.assemble`):
--
-- * chat: `{ role, content, tool_calls = { { id, type, ["function"] = { name, arguments } } },
--   finish_reason, usage }` for the first choice, plus `id`, `model`, `created` and
--   `choices` as in a `chat.completion` (tool calls merged from their deltas by `index`,
--   `arguments` concatenated);
-- * completions: a `text_completion` plus `text` and `finish_reason` of the first choice;
-- * responses: the `response` of the `response.completed` event plus `output_text`;
-- * messages: the message with its content blocks (tool inputs decoded), `stop_reason`
--   and `usage`.
--
-- Call it before reading any event (it raises otherwise); `on_event`, when given, is
-- called with each event as it is read, e.g. to print text as it comes.
-- @tparam[opt] function on_event called with each event
-- @return result, nil, meta; or nil, err (with `err.partial`, what was assembled so far)
function Stream:collect(on_event)
  if on_event ~= nil and type(on_event) ~= "function" then
    error("alephant: collect: on_event must be a function, got " .. type(on_event), 2)
  end
  if self.events > 0 or self._collected then
    error("alephant: collect() reads the whole stream: call it before reading any event (pass a function to "
      .. "see each event as it comes)", 2)
  end
  self._collected = true
  local acc = self._kind.collector()
  while true do
    local ev, err = step(self)
    if ev == false then
      err.partial = acc:result()
      return nil, err
    end
    if ev == nil then break end
    acc:add(ev)
    if on_event then on_event(ev) end
  end
  if not self.complete then
    return nil, errors.new("config", ("%s: the stream was closed before its end"):format(self.endpoint),
      { endpoint = self.endpoint, request_id = self.request_id })
  end
  local result, err = acc:result()
  if result == nil then
    err.endpoint, err.request_id = self.endpoint, self.request_id
    return nil, err
  end
  return result, nil, self.meta
end

function Stream:__tostring()
  return ("alephant.stream<%s %s%s>"):format(self.endpoint, self.request_id or "?",
    self.done and (self.err and " failed" or " done") or "")
end

--- A stream that only yields `false, err` once (validation and pre-stream failures).
-- @tparam table err the error
-- @tparam table kind the stream kind (`alephant.gateway.assemble.kinds`)
-- @tparam[opt] table fields `endpoint`, `request_id`
function stream.failed(err, kind, fields)
  fields = fields or {}
  return setmetatable({ endpoint = fields.endpoint or kind.endpoint, request_id = fields.request_id, events = 0,
    meta = {}, done = false, _kind = kind, _parser = sse.parser(), _eof = true, _pending = err }, Stream)
end

--- Opens a stream through the client's request pipeline.
-- @tparam table client the client
-- @tparam table kind the stream kind (`alephant.gateway.assemble.kinds`)
-- @tparam table params the body parameters and tracking options (`stream = true` set)
-- @tparam table opts call options
-- @return the stream object; on failure one that yields `false, err` once
function stream.open(client, kind, params, opts)
  local name = kind.endpoint
  local adapter = setmetatable({ transport = client._transport }, Adapter)
  local ok, err, meta = client:call(name, params, opts, adapter)
  if ok == nil then
    if adapter.open then adapter.open:close() end
    return stream.failed(err, kind, { endpoint = name, request_id = err.request_id })
  end
  local s = adapter.open
  local self = setmetatable({ endpoint = name, request_id = meta.request_id, meta = meta,
    events = 0, done = false, _kind = kind, _s = s, _parser = sse.parser(), _eof = false,
    _secrets = client._secrets }, Stream)
  local status = meta.status
  local ctype = (meta.headers and meta.headers["content-type"]) or ""
  if status < 200 or status >= 300 then
    self._pending = errors.new("http", ("%s answered HTTP %d instead of an event stream"):format(name, status),
      { status = status, endpoint = name, request_id = self.request_id })
  elseif not ctype:lower():find("^%s*text/event%-stream") then
    self._pending = errors.new("decode", ("%s answered %s instead of text/event-stream"):format(name,
      ctype ~= "" and ctype or "no Content-Type"), { status = status, endpoint = name, request_id = self.request_id })
  end
  return self
end

return stream
