-- A tiny event-stream server for the gateway stream specs: real sockets on 127.0.0.1,
-- answers written in scripted pieces with pauses, so that libcurl hands the client
-- events cut mid-line and mid-CRLF, comments, multi-line data and a last line without
-- its line break; things the emulator's well-formed streams never do.
--
--   lua5.4 spec/gateway/sse_server.lua PORT_FILE   (exits after 60 s without a request)
--
-- POST /v1/<script>/chat/completions answers with the named script.
local socket = require "socket"

local HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n"

local scripts = {
  -- one event cut in three writes, a CRLF cut in two, a comment, multi-line data,
  -- a named event, and [DONE] without a line break before the connection closes
  split = { 'data: {"n":', '1}\r', '\n\r\n', ': keep-alive\n\n', 'data: {"n":2,\ndata: "m":"multi"}\n',
    '\n', 'event: delta\ndata: {"n":3}\n\n', "data: [DONE]" },
  -- the connection closes cleanly but [DONE] never came
  nodone = { 'data: {"n":1}\n\n' },
  -- keep-alive comments only, for a while, then one event
  idle = { ": ping\n\n", ": ping\n\n", ": ping\n\n", 'data: {"n":1}\n\ndata: [DONE]\n\n' },
  -- a Responses stream whose JSON has no type: the event: names carry it
  named = { 'event: response.created\ndata: {"n":1}\n\n',
    'event: response.completed\ndata: {"response":{"id":"r1","output":[]}}\n\n' },
  -- a Responses stream failing with an error event (no response.failed)
  resperror = { 'event: response.created\ndata: {"type":"response.created","response":{}}\n\n',
    'event: error\ndata: {"type":"error","code":"rate_limit_exceeded","message":"Slow down"}\n\n' },
  -- a Responses stream whose response.completed carries no response
  nocompleted = { 'event: response.created\ndata: {"type":"response.created","response":{}}\n\n',
    'event: response.completed\ndata: {"type":"response.completed"}\n\n' },
  -- a Messages stream without its message_start
  nostart = { 'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    .. '"content_block":{"type":"text","text":""}}\n\n',
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    .. '"delta":{"type":"text_delta","text":"hi"}}\n\n',
    'event: message_stop\ndata: {"type":"message_stop"}\n\n' },
  -- a Messages stream whose tool input pieces do not add up to JSON
  badtool = { 'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","role":"assistant",'
    .. '"content":[]}}\n\n',
    'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
    .. '"content_block":{"type":"tool_use","id":"tu_1","name":"get_weather","input":{}}}\n\n',
    'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    .. '"delta":{"type":"input_json_delta","partial_json":"{\\"city\\": \\"Par"}}\n\n',
    'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
    'event: message_stop\ndata: {"type":"message_stop"}\n\n' },
  -- a JSON answer to a stream request
  json = { head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n",
    '{"id":"x","object":"chat.completion"}' },
}

local port_file = assert(arg[1], "usage: sse_server.lua PORT_FILE")
local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
local f = assert(io.open(port_file .. ".tmp", "w"))
f:write(port, "\n")
f:close()
os.rename(port_file .. ".tmp", port_file)

server:settimeout(60)
while true do
  local c = server:accept()
  if not c then break end -- idle for a minute: the spec is gone
  c:settimeout(5)
  local line = c:receive("*l") or ""
  local name = line:match("^%u+ /v1/([%w_]+)/") or "split"
  local length, rid = 0, "none"
  while true do
    local h = c:receive("*l")
    if not h or h == "" then break end
    local k, v = h:match("^([^:]+):%s*(.*)$")
    if k and k:lower() == "content-length" then length = tonumber(v) end
    if k and k:lower() == "x-request-id" then rid = v end
  end
  if length > 0 then c:receive(length) end
  local script = scripts[name] or scripts.split
  c:send((script.head or HEAD) .. "x-request-id: " .. rid .. "\r\n\r\n")
  for _, piece in ipairs(script) do
    socket.sleep(0.03) -- separate writes reach the client as separate reads
    c:send(piece)
  end
  socket.sleep(0.03)
  c:close()
end
server:close()
os.remove(port_file)
