-- A small nginx + lua-nginx-module server for the transport specs: real sockets on
-- 127.0.0.1, HTTP and HTTPS (with a CA generated here), and a handful of routes that
-- misbehave on purpose. Independent of emulator/ so that these specs test the
-- transport alone.
--
--   local server = require("spec.transport.server")
--   local srv = server.start()   -- srv.url, srv.https_url, srv.h2_url, srv.ca_file, srv.dir
--   srv:stop()                   -- idempotent; also runs when the Lua state closes
--
-- Routes (GET unless said otherwise; any method reaches /echo):
--   /echo                what arrived: JSON {method, uri, args, headers (raw names), body,
--                        connection, connection_requests, remote_port}
--   /stall?ms=N          waits N ms, then "ok"
--   /reset               closes the connection without an answer (a body left unread
--                        makes the kernel send RST)
--   /truncated           Content-Length 1000, 100 bytes, then the connection closes
--   /truncated-chunked   two chunks, then the connection closes without the last chunk
--   /bytes?n=N           N bytes of "x"
--   /gzip?n=N            N bytes of text, gzip-compressed by nginx
--   /headers             a response with repeated and mixed-case header names
--   /status?code=N       an empty response with that status
--   /stream?chunks=N&size=S&ms=D   chunked text/event-stream, N events of S bytes, D ms apart
--   /paging/forever/...  a SaaS list page that always says hasMore: new items per page/offset
--   /paging/same/...     the same page (same items, hasMore) whatever the page/offset asked
--   /http09              an HTTP/0.9 answer: the body alone, no status line, then close
--   /given-headers?h=H   a 200 with the header lines H (URL-encoded "Name: value\r\n"...), then close
--   /many-headers?n=N    a 200 with N header lines of distinct names ("h1: v" ...), then close
--   /raw-headers         a 100 Continue, then a 200 whose header lines repeat names out of
--                        order, fold a line and leave a value empty, then close
local socket = require("socket")
local sys = require("spec.support.sys")
local sh, slurp, read, write = sys.sh, sys.slurp, sys.read, sys.write

local M = {}

-- A port nothing listens on right now (the kernel picked it; we closed it again).
function M.free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

local function find_module(name)
  for _, d in ipairs({ "/usr/lib/nginx/modules", "/usr/share/nginx/modules", "/usr/lib64/nginx/modules" }) do
    if read(d .. "/" .. name) then return d .. "/" .. name end
  end
  return nil
end

-- CA, and a server certificate for 127.0.0.1, localhost and api.alephant.test (a name that
-- resolves nowhere: the proxy specs reach it through a CONNECT tunnel) signed by it.
local function make_certs(dir)
  local q = "'" .. dir .. "'"
  -- written here, not by a shell redirect: the commands' output goes to /dev/null
  write(dir .. "/ext.cnf",
    "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:api.alephant.test\nbasicConstraints=CA:FALSE\n")
  local cmds = {
    "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=alephant-transport-spec-CA"
      .. " -keyout " .. q .. "/ca.key -out " .. q .. "/ca.pem",
    "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " .. q .. "/server.key -out "
      .. q .. "/server.csr",
    "openssl x509 -req -in " .. q .. "/server.csr -CA " .. q .. "/ca.pem -CAkey " .. q .. "/ca.key"
      .. " -CAcreateserial -days 2 -extfile " .. q .. "/ext.cnf -out " .. q .. "/server.pem",
  }
  for _, c in ipairs(cmds) do
    assert(sh(c .. " >/dev/null 2>&1"), "openssl failed: " .. c)
  end
end

local CONF = [[
@USER@
worker_processes 1;
daemon on;
master_process on;
pid "@DIR@/nginx.pid";
error_log "@DIR@/error.log" warn;
load_module "@NDK@";
load_module "@LUA@";
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path "@DIR@/tmp";
  proxy_temp_path "@DIR@/tmp";
  fastcgi_temp_path "@DIR@/tmp";
  uwsgi_temp_path "@DIR@/tmp";
  scgi_temp_path "@DIR@/tmp";
  client_max_body_size 16m;
  client_body_buffer_size 16m;
  keepalive_timeout 60s;
  keepalive_requests 100000;
  lingering_close off;
  lua_package_cpath "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;;";
  lua_socket_log_errors off;
  server {
    listen 127.0.0.1:@PORT@;
    listen 127.0.0.1:@TLS_PORT@ ssl;
    listen 127.0.0.1:@H2_PORT@ ssl http2;
    ssl_certificate "@DIR@/server.pem";
    ssl_certificate_key "@DIR@/server.key";
    default_type text/plain;

    location = /echo {
      content_by_lua_block {
        local cjson = require("cjson")
        ngx.req.read_body()
        local body = ngx.req.get_body_data()
        if not body then
          local file = ngx.req.get_body_file()
          if file then
            local f = io.open(file, "rb"); body = f:read("*a"); f:close()
          end
        end
        local raw = {}
        for name, v in pairs(ngx.req.get_headers(200, true)) do raw[name] = v end
        ngx.header["Content-Type"] = "application/json"
        ngx.print(cjson.encode({
          method = ngx.req.get_method(), uri = ngx.var.request_uri, args = ngx.var.args or "",
          headers = raw, body = body or "", connection = tonumber(ngx.var.connection),
          connection_requests = tonumber(ngx.var.connection_requests),
          remote_port = tonumber(ngx.var.remote_port), protocol = ngx.var.server_protocol,
        }))
      }
    }
    location = /stall {
      content_by_lua_block {
        ngx.sleep((tonumber(ngx.var.arg_ms) or 1000) / 1000)
        ngx.print("ok")
      }
    }
    location = /reset {
      content_by_lua_block { ngx.exit(444) }
    }
    location = /truncated {
      content_by_lua_block {
        ngx.header["Content-Length"] = 1000
        ngx.print(string.rep("t", 100))
        ngx.flush(true)
        ngx.exit(444)
      }
    }
    location = /truncated-chunked {
      content_by_lua_block {
        ngx.print("first chunk\n"); ngx.flush(true)
        ngx.print("second chunk\n"); ngx.flush(true)
        ngx.exit(444)
      }
    }
    location = /bytes {
      content_by_lua_block {
        local n = tonumber(ngx.var.arg_n) or 0
        ngx.header["Content-Length"] = n
        local block = string.rep("x", 65536)
        while n > 0 do
          local k = n < 65536 and n or 65536
          ngx.print(k == 65536 and block or block:sub(1, k))
          n = n - k
        end
      }
    }
    location = /gzip {
      gzip on;
      gzip_types text/plain;
      gzip_min_length 1;
      content_by_lua_block {
        local n = tonumber(ngx.var.arg_n) or 10000
        local line = "the quick brown fox jumps over the lazy dog\n"
        local s = string.rep(line, math.floor(n / #line) + 1):sub(1, n)
        ngx.print(s)
      }
    }
    location = /headers {
      content_by_lua_block {
        ngx.header["X-Multi"] = { "one", "two" }
        ngx.header["X-MiXeD-Case"] = "Value Kept"
        ngx.header["X-Empty"] = ""
        ngx.print("headers")
      }
    }
    location = /status {
      content_by_lua_block {
        ngx.status = tonumber(ngx.var.arg_code) or 200
        ngx.header["Content-Length"] = 0
        ngx.exit(ngx.status)
      }
    }
    location ^~ /paging/ {
      content_by_lua_block {
        local at = ngx.var.arg_page or ngx.var.arg_offset or "0"
        local id = ngx.var.uri:find("^/paging/same/") and "same" or ("item-" .. at)
        ngx.header["Content-Type"] = "application/json"
        ngx.print('{"code":0,"data":[{"id":"' .. id .. '-a"},{"id":"' .. id .. '-b"}],'
          .. '"pagination":{"hasMore":true,"total":1000000000}}')
      }
    }
    location = /http09 {
      content_by_lua_block {
        local sock = ngx.req.socket(true)
        sock:send("hello from 1991\n")
        ngx.exit(444)
      }
    }
    location = /raw-headers {
      content_by_lua_block {
        local sock = ngx.req.socket(true)
        sock:send("HTTP/1.1 100 Continue\r\nX-Early: dropped\r\n\r\n"
          .. "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n"
          .. "X-A: 1\r\nX-B: 2\r\nx-a: 3\r\n  folded \r\nX-Empty:\r\nX-B:  4 \r\n\r\nok")
        ngx.exit(444)
      }
    }
    location = /given-headers {
      content_by_lua_block {
        local sock = ngx.req.socket(true)
        sock:send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n"
          .. ngx.unescape_uri(ngx.var.arg_h or "") .. "\r\nok")
        ngx.exit(444)
      }
    }
    location = /many-headers {
      content_by_lua_block {
        local n = tonumber(ngx.var.arg_n) or 1000
        local lines = { "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n" }
        for i = 1, n do lines[#lines + 1] = "h" .. i .. ":v\r\n" end
        lines[#lines + 1] = "\r\nok"
        local sock = ngx.req.socket(true)
        sock:send(table.concat(lines))
        ngx.exit(444)
      }
    }
    location = /stream {
      content_by_lua_block {
        local n = tonumber(ngx.var.arg_chunks) or 10
        local size = tonumber(ngx.var.arg_size) or 100
        local ms = tonumber(ngx.var.arg_ms) or 0
        ngx.header["Content-Type"] = "text/event-stream"
        ngx.header["Cache-Control"] = "no-cache"
        for i = 1, n do
          local head = "data: " .. i .. " "
          local ok = ngx.print(head .. string.rep("s", size - #head - 2) .. "\n\n")
          if not ok then return end
          ngx.flush(true)
          if ms > 0 then ngx.sleep(ms / 1000) end
        end
      }
    }
  }
}
]]

local Server = {}
Server.__index = Server

local function try_start(dir)
  local port, tls_port, h2_port = M.free_port(), M.free_port(), M.free_port()
  local user = slurp("id -u"):match("^0") and "user root;" or ""
  local conf = CONF:gsub("@([%u%d_]+)@", {
    USER = user, DIR = dir, PORT = tostring(port), TLS_PORT = tostring(tls_port), H2_PORT = tostring(h2_port),
    NDK = find_module("ndk_http_module.so"), LUA = find_module("ngx_http_lua_module.so"),
  })
  write(dir .. "/nginx.conf", conf)
  os.remove(dir .. "/nginx.pid")
  if not sh("nginx -p '" .. dir .. "' -c '" .. dir .. "/nginx.conf' -e '" .. dir .. "/error.log' >>'"
      .. dir .. "/start.log' 2>&1") then
    return nil
  end
  -- wait for both listeners
  local deadline = socket.gettime() + 10
  for _, p in ipairs({ port, tls_port, h2_port }) do
    while true do
      local c = socket.tcp()
      c:settimeout(0.2)
      local ok = c:connect("127.0.0.1", p)
      c:close()
      if ok then break end
      if socket.gettime() > deadline then return nil end
      socket.sleep(0.02)
    end
  end
  return port, tls_port, h2_port
end

function M.start()
  local dir = slurp("mktemp -d /tmp/alephant-transport-XXXXXX"):gsub("%s+$", "")
  assert(dir ~= "", "mktemp failed")
  assert(sh("mkdir -p '" .. dir .. "/tmp'"))
  make_certs(dir)
  local self = setmetatable({ dir = dir, ca_file = dir .. "/ca.pem" }, Server)
  -- stops nginx if this process dies, even by kill -9 of its process group mid-start
  local ngx_support = require("spec.support.nginx")
  self.watcher = ngx_support.watch(ngx_support.self_pid(), dir, dir .. "/nginx.pid")
  -- stop nginx even if the spec dies before its teardown
  if rawget(_G, "newproxy") then
    self._guard = newproxy(true) -- luacheck: ignore 113
    getmetatable(self._guard).__gc = function() self:stop() end
  else
    self._guard = setmetatable({}, { __gc = function() self:stop() end })
  end
  local port, tls_port, h2_port
  for _ = 1, 5 do
    port, tls_port, h2_port = try_start(dir)
    if port then break end
    self:stop_nginx()
  end
  if not port then
    local log = (read(dir .. "/start.log") or "") .. (read(dir .. "/error.log") or "")
    self:stop()
    error("could not start nginx for the transport specs:\n" .. log, 2)
  end
  self.port, self.tls_port = port, tls_port
  self.url = "http://127.0.0.1:" .. port
  self.https_url = "https://127.0.0.1:" .. tls_port
  self.h2_url = "https://127.0.0.1:" .. h2_port -- TLS with HTTP/2 offered (ALPN)
  return self
end

function Server:pid()
  return tonumber((read(self.dir .. "/nginx.pid") or ""):match("%d+"))
end

function Server:stop_nginx()
  local pid = self:pid()
  if not pid then return end
  sh("kill -TERM " .. pid .. " 2>/dev/null") -- fast shutdown: stalled requests do not delay it
  for _ = 1, 250 do
    if not sh("kill -0 " .. pid .. " 2>/dev/null") then break end
    socket.sleep(0.02)
  end
  if sh("kill -0 " .. pid .. " 2>/dev/null") then sh("kill -KILL " .. pid .. " 2>/dev/null") end
  os.remove(self.dir .. "/nginx.pid")
end

function Server:stop()
  if self.stopped then return end
  self.stopped = true
  self:stop_nginx()
  if self.watcher then sh("kill " .. self.watcher .. " 2>/dev/null") end
  if self.dir:match("^/tmp/alephant%-transport%-") then sh("rm -rf '" .. self.dir .. "'") end
end

return M
