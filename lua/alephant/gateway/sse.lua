--- An incremental Server-Sent Events parser (the WHATWG event-stream format).
--
--     local p = sse.parser()
--     p:feed(chunk)                 -- any split: mid-line, mid-CRLF, many events at once
--     local data, name = p:next()   -- one complete event's data, or nil
--     p:finish()                    -- at the end of the body: a last unterminated line counts
--
-- Lines end in LF, CRLF or CR; `data:` lines of one event are joined with "\n";
-- lines starting with ":" are comments (keep-alives); `event:` names the event;
-- `id:`, `retry:` and unknown fields are ignored. The parser keeps only what it has
-- not consumed: the unterminated tail line and the events of the last chunk not yet
-- taken, so memory stays bounded however long the stream. One event (or one line)
-- larger than `max_event_bytes` is refused with a `too_large` error.
-- @module alephant.gateway.sse
local errors = require "alephant.errors"

local sse = {}

--- Largest event (all its data lines together) or single line accepted, in bytes.
sse.MAX_EVENT_BYTES = 8 * 1024 * 1024

local BOM = "\239\187\191"

local Parser = {}
Parser.__index = Parser

--- A new parser.
-- @tparam[opt] number max_event_bytes default `sse.MAX_EVENT_BYTES`
function sse.parser(max_event_bytes)
  return setmetatable({
    max = max_event_bytes or sse.MAX_EVENT_BYTES,
    tail = {}, tail_n = 0, tail_bytes = 0, -- pieces of the unterminated line
    data = {}, data_n = 0, data_bytes = 0, -- data lines of the event being read
    name = nil,
    skip_lf = false,  -- the last chunk ended in CR: a leading LF belongs to it
    started = false,  -- a leading byte-order mark is dropped once
    queue = {}, names = {}, head = 1, last = 0,
  }, Parser)
end

local function too_large(max)
  return nil, errors.new("too_large", ("an event-stream event or line is larger than %d bytes"):format(max),
    { retryable = false })
end

function Parser:_dispatch()
  if self.data_n > 0 then
    local last = self.last + 1
    self.queue[last] = table.concat(self.data, "\n", 1, self.data_n)
    self.names[last] = self.name
    self.last = last
  end
  for i = 1, self.data_n do self.data[i] = nil end
  self.data_n, self.data_bytes, self.name = 0, 0, nil
end

function Parser:_line(line)
  if line == "" then
    self:_dispatch()
    return true
  end
  if line:byte(1) == 58 then return true end -- ":" comment, e.g. a keep-alive
  local field, value = line, ""
  local colon = line:find(":", 1, true)
  if colon then
    field, value = line:sub(1, colon - 1), line:sub(colon + 1)
    if value:byte(1) == 32 then value = value:sub(2) end
  end
  if field == "data" then
    self.data_bytes = self.data_bytes + #value + 1
    if self.data_bytes > self.max then return too_large(self.max) end
    self.data_n = self.data_n + 1
    self.data[self.data_n] = value
  elseif field == "event" then
    self.name = value
  end
  return true
end

--- Feeds the next bytes of the stream.
-- @tparam string chunk any number of bytes
-- @return true, or nil and a `too_large` error
function Parser:feed(chunk)
  if not self.started then -- a byte-order mark may come split over the first chunks
    chunk = (self.bom or "") .. chunk
    if #chunk < 3 and BOM:sub(1, #chunk) == chunk then
      self.bom = chunk
      return true
    end
    self.started, self.bom = true, nil
    if chunk:sub(1, 3) == BOM then chunk = chunk:sub(4) end
  end
  local pos, n = 1, #chunk
  if self.skip_lf and pos <= n then
    self.skip_lf = false
    if chunk:byte(pos) == 10 then pos = pos + 1 end
  end
  while pos <= n do
    local s = chunk:find("[\r\n]", pos)
    if not s then -- an unterminated line: keep its pieces, join them once it ends
      local piece = chunk:sub(pos)
      self.tail_bytes = self.tail_bytes + #piece
      if self.tail_bytes > self.max then return too_large(self.max) end
      self.tail_n = self.tail_n + 1
      self.tail[self.tail_n] = piece
      return true
    end
    local line = chunk:sub(pos, s - 1)
    if self.tail_n > 0 then
      self.tail_n = self.tail_n + 1
      self.tail[self.tail_n] = line
      line = table.concat(self.tail, "", 1, self.tail_n)
      for i = 1, self.tail_n do self.tail[i] = nil end
      self.tail_n, self.tail_bytes = 0, 0
      if #line > self.max then return too_large(self.max) end
    end
    if chunk:byte(s) == 13 then
      if s == n then self.skip_lf = true
      elseif chunk:byte(s + 1) == 10 then s = s + 1 end
    end
    pos = s + 1
    local ok, err = self:_line(line)
    if not ok then return nil, err end
  end
  return true
end

--- Ends the stream: a last line without its line break is still read, and an event
-- whose blank line never came is still delivered.
-- @return true, or nil and a `too_large` error
function Parser:finish()
  if self.bom then -- fewer than three bytes in all, and not a whole mark: they are text
    local partial = self.bom
    self.started, self.bom = true, nil
    local ok, err = self:feed(partial)
    if not ok then return nil, err end
  end
  if self.tail_n > 0 then
    local line = table.concat(self.tail, "", 1, self.tail_n)
    for i = 1, self.tail_n do self.tail[i] = nil end
    self.tail_n, self.tail_bytes = 0, 0
    local ok, err = self:_line(line)
    if not ok then return nil, err end
  end
  self:_dispatch()
  return true
end

--- The next complete event.
-- @treturn string|nil its data (data lines joined with "\n"), nil when none is complete
-- @treturn string|nil its `event:` name
function Parser:next()
  local head = self.head
  if head > self.last then return nil end
  local data, name = self.queue[head], self.names[head]
  self.queue[head], self.names[head] = nil, nil
  if head == self.last then
    self.head, self.last = 1, 0
  else
    self.head = head + 1
  end
  return data, name
end

--- Bytes held for the unterminated line and the event being read (for tests).
function Parser:buffered()
  return self.tail_bytes + self.data_bytes
end

return sse
