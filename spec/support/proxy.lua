-- A tiny HTTP proxy on 127.0.0.1 for the proxy specs, recording every byte clients send
-- it. It runs as its own process (the client under test blocks inside libcurl):
--
--   local proxy = require("spec.support.proxy")
--   local p = proxy.start{ upstream = srv.tls_port }   -- p.url, p.port
--   p:log()    -- everything clients sent to the proxy, as one string
--   p:connections()  -- connections opened since the last p:clear()
--   p:stop()   -- idempotent; the process also exits once the spec process is gone
--
-- A CONNECT request is answered "200 Connection established" and tunnelled to
-- 127.0.0.1:upstream whatever host it names (so a name that resolves nowhere reaches the
-- loopback test server); any other request is answered by the proxy itself with
-- `{"code":0,"data":{"proxied":true}}` and never forwarded.
local sys = require("spec.support.sys")

local M = {}

-- The proxy process: proxy.lua PORT_FILE LOG_FILE UPSTREAM_PORT PARENT_PID
local function serve(port_file, log_file, upstream, parent)
  local socket = require("socket")
  local srv = assert(socket.bind("127.0.0.1", 0))
  srv:settimeout(0)
  local log = assert(io.open(log_file, "ab"))
  log:setvbuf("no")
  local _, port = srv:getsockname()
  local f = assert(io.open(port_file .. ".tmp", "wb"))
  f:write(tostring(port))
  f:close()
  os.rename(port_file .. ".tmp", port_file)
  local conns, n = {}, 0

  local function close(s)
    local st = conns[s]
    if not st then return end
    conns[s] = nil
    s:close()
    if st.peer then close(st.peer) end
  end

  local function send(s, data)
    s:settimeout(5)
    s:send(data)
    s:settimeout(0)
  end

  local function on_head(s, st)
    local head, rest = st.buf:match("^(.-\r\n\r\n)(.*)$")
    if not head then return end
    st.buf = ""
    local target = head:match("^CONNECT (%S+) HTTP/1%.%d\r\n")
    if not target then
      local body = '{"code":0,"data":{"proxied":true}}'
      send(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " .. #body
        .. "\r\nConnection: close\r\n\r\n" .. body)
      return close(s)
    end
    local up = socket.tcp()
    up:settimeout(5)
    if not up:connect("127.0.0.1", upstream) then
      send(s, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
      return close(s)
    end
    up:settimeout(0)
    st.mode, st.peer = "tunnel", up
    conns[up] = { mode = "tunnel", peer = s, upstream = true }
    send(s, "HTTP/1.1 200 Connection established\r\n\r\n")
    if rest ~= "" then send(up, rest) end
  end

  local idle = 0
  while true do
    local rd = { srv }
    for s in pairs(conns) do rd[#rd + 1] = s end
    local ready = socket.select(rd, nil, 1)
    if #ready == 0 then
      idle = idle + 1
      local st = io.open("/proc/" .. parent .. "/stat")
      local alive = st and st:read("*a"):match("^%d+ %b() (%a)") ~= "Z"
      if st then st:close() end
      if not alive or idle > 600 then break end
    else
      idle = 0
    end
    for _, s in ipairs(ready) do
      if s == srv then
        local c = srv:accept()
        if c then
          n = n + 1
          c:settimeout(0)
          conns[c] = { mode = "head", buf = "" }
          log:write(("\n[connection %d]\n"):format(n))
        end
      elseif conns[s] then
        local st = conns[s]
        local data, err, partial = s:receive(8192)
        data = data or partial
        if data and #data > 0 then
          if not st.upstream then log:write(data) end
          if st.mode == "tunnel" then
            send(st.peer, data)
          else
            st.buf = st.buf .. data
            on_head(s, st)
          end
        end
        if err == "closed" then close(s) end
      end
    end
  end
end

if arg and arg[0] and arg[0]:match("spec/support/proxy%.lua$") and arg[1] then
  serve(arg[1], arg[2], tonumber(arg[3]), arg[4])
  os.exit(0)
end

local Proxy = {}
Proxy.__index = Proxy

--- Starts the proxy process; `opts.upstream` is the port CONNECT tunnels reach.
function M.start(opts)
  local dir = sys.slurp("mktemp -d /tmp/alephant-proxy.XXXXXX"):gsub("%s+$", "")
  assert(dir ~= "", "mktemp failed")
  local me = sys.slurp("echo $PPID"):match("%d+") -- the popen shell's parent: this process
  local self = setmetatable({ dir = dir }, Proxy)
  local src = debug.getinfo(1, "S").source:sub(2)
  self.pid = tonumber(sys.slurp(("lua5.4 %s %s %s %d %s </dev/null >%s 2>&1 & echo $!"):format(sys.shq(src),
    sys.shq(dir .. "/port"), sys.shq(dir .. "/log"), opts.upstream or 9, me, sys.shq(dir .. "/out"))):match("%d+"))
  for _ = 1, 500 do
    local port = sys.read(dir .. "/port")
    if port then
      self.port = tonumber(port)
      break
    end
    sys.sh("sleep 0.01")
  end
  if not self.port then
    self:stop()
    error("the proxy did not start: " .. (sys.read(dir .. "/out") or ""), 2)
  end
  self.url = "http://127.0.0.1:" .. self.port
  return self
end

--- Everything clients sent to the proxy so far.
function Proxy:log()
  return sys.read(self.dir .. "/log") or ""
end

--- Connections opened to the proxy since the last clear (bytes of an older tunnel may
-- still arrive after a clear; they open no connection).
function Proxy:connections()
  local n = 0
  for _ in self:log():gmatch("\n%[connection %d+%]\n") do n = n + 1 end
  return n
end

--- Empties the log.
function Proxy:clear()
  sys.write(self.dir .. "/log", "")
end

function Proxy:stop()
  if self.stopped then return end
  self.stopped = true
  if self.pid then sys.sh("kill " .. self.pid .. " 2>/dev/null") end
  sys.sh("rm -rf " .. sys.shq(self.dir))
end

return M
