-- Start/stop Debian's nginx with the Lua module from busted specs (spec/ngx), with the
-- SDK on its Lua paths: `lua/` and the LuaJIT build of alephant.core (nginx embeds
-- LuaJIT whichever interpreter runs the specs). Works under Lua 5.4 and LuaJIT; needs
-- LuaSocket.
--
--   local nginx = require("spec.support.nginx")
--   local srv = nginx.start({
--     workers = 2, thread_pool = "alephant threads=4",
--     http = [[ server { listen 127.0.0.1:@PORT@; location / { return 200 "hi"; } } ]],
--     env = { ALEPHANT_API_BASE_URL = emu.saas_url },     -- declared with `env` and exported
--   })
--   local status, body, headers, json = srv:request("GET", "/", { token = t })
--   srv:stop()                                             -- QUIT, then KILL
--
-- `start{ conf = text }` renders a whole configuration instead (examples/openresty).
-- Placeholders @NAME@ are replaced from `vars` and the built-ins PORT, DIR, ROOT,
-- LUA_PATH, LUA_CPATH; one left over is an error. nginx runs with `-p DIR`, a fresh
-- temporary prefix holding the config, the logs (`srv:log()`) and the pid file.
-- Every nginx started here is stopped in `srv:stop()`, when the Lua state closes, and
-- by a watcher process once the spec process is gone (even after kill -9, and even when
-- it is killed with its whole process group while nginx is starting: the watcher runs
-- in its own session and is started before nginx).
local socket = require("socket")
local sys = require("spec.support.sys")
local sh, slurp, read, write, shq = sys.sh, sys.slurp, sys.read, sys.write, sys.shq

local M = {}

-- repository root = the directory above spec/support/
local function find_root()
  local src = debug.getinfo(1, "S").source
  local dir = src:sub(1, 1) == "@" and src:sub(2):match("^(.*)/spec/support/[^/]+$")
  if src == "@spec/support/nginx.lua" then dir = "." end
  if not dir then return "." end
  if dir == "." or dir:sub(1, 1) ~= "/" then
    local cwd = slurp("pwd"):gsub("%s+$", "")
    dir = dir == "." and cwd or cwd .. "/" .. dir
  end
  return dir
end

M.root = find_root()

-- The build directory: the one busted's --cpath points at (build/lua5.4/?.so or
-- build/luajit/?.so), else ALEPHANT_BUILD, else build/. nginx always gets the LuaJIT one.
local function find_build()
  local env = os.getenv("ALEPHANT_BUILD")
  if env and env ~= "" then return env:sub(1, 1) == "/" and env or M.root .. "/" .. env end
  for entry in package.cpath:gmatch("[^;]+") do
    local b = entry:match("^(.-)/lua5%.4/%?%.so$") or entry:match("^(.-)/luajit/%?%.so$")
    if b then return b:sub(1, 1) == "/" and b or M.root .. "/" .. b:gsub("^%./", "") end
  end
  return M.root .. "/build"
end

-- nginx cannot load a module built with sanitizers (its runtime must come first in the
-- process): under scripts/check-asan.sh nginx gets the plain build instead.
local function sanitized(build)
  return sh("grep -q __asan_init " .. shq(build .. "/luajit/alephant/core.so") .. " 2>/dev/null")
end

M.build = find_build()
if sanitized(M.build) then M.build = M.root .. "/build" end
M.lua_path = table.concat({ M.root .. "/lua/?.lua", M.root .. "/lua/?/init.lua", M.root .. "/spec/ngx/lua/?.lua",
  "/usr/share/lua/5.1/?.lua", "/usr/share/lua/5.1/?/init.lua", ";" }, ";")
M.lua_cpath = M.build .. "/luajit/?.so;;"
M.modules = "load_module /usr/lib/nginx/modules/ndk_http_module.so;\n"
  .. "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;"

local BASE = [[
worker_processes @WORKERS@;
daemon on;
master_process on;
pid "@DIR@/logs/nginx.pid";
error_log "@DIR@/logs/error.log" @LOG_LEVEL@;
@MODULES@
@THREAD_POOL@
@ENV@
@MAIN@
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path "@DIR@/tmp/body";
  proxy_temp_path "@DIR@/tmp/proxy";
  fastcgi_temp_path "@DIR@/tmp/fastcgi";
  uwsgi_temp_path "@DIR@/tmp/uwsgi";
  scgi_temp_path "@DIR@/tmp/scgi";
  default_type application/json;
  lua_package_path "@LUA_PATH@";
  lua_package_cpath "@LUA_CPATH@";
  lua_socket_log_errors off;
@HTTP@
}
]]

local function fill(text, vars)
  return (text:gsub("@([%u_]+)@", function(name)
    local v = vars[name]
    if v == nil then return nil end
    return tostring(v)
  end))
end

--- Replaces @NAME@ placeholders from `vars`; raises on one without a value.
function M.render(text, vars)
  -- two rounds: fragments (MAIN, HTTP) may hold placeholders themselves
  text = fill(fill(text, vars), vars)
  local left = text:match("@([%u_]+)@")
  if left then error("nginx config: no value for placeholder @" .. left .. "@", 2) end
  return text
end

-- Is anything listening on TCP port p (IPv4 or IPv6)?
local function port_in_use(p)
  local hex = (":%04X"):format(p)
  for _, f in ipairs({ "/proc/net/tcp", "/proc/net/tcp6" }) do
    for line in (read(f) or ""):gmatch("[^\n]+") do
      local l, st = line:match("^%s*%d+:%s+(%S+)%s+%S+%s+(%x%x)")
      if l and st == "0A" and l:sub(-5) == hex then return true end
    end
  end
  return false
end

-- A random free port outside the Linux ephemeral range (clients use that range).
local function pick_port()
  math.randomseed(os.time() + math.floor(socket.gettime() * 1000) % 100000)
  for _ = 1, 200 do
    local p = 20000 + math.random(0, 11999)
    if not port_in_use(p) then return p end
  end
  error("no free port found")
end

local my_pid
local function self_pid()
  if not my_pid then
    -- the shell started by popen is our child, so its $PPID is this process
    my_pid = tonumber(slurp("echo $PPID"):match("%d+"))
  end
  return my_pid
end

--- Starts a detached watcher (its own session, so a kill of this process group spares
-- it) that waits while process `pid` lives (a zombie counts as gone) and `dir` exists;
-- then, if `dir` is still there, it waits up to 5 s for the nginx pid file (a start may
-- be under way), stops that master (QUIT, then KILL with its workers) and removes `dir`.
-- @return the watcher's pid
function M.watch(pid, dir, pid_file)
  local d, f = shq(dir), shq(pid_file)
  local script = "alive() { s=$(cat /proc/$1/stat 2>/dev/null) || return 1; s=${s##*) }; [ \"${s%% *}\" != Z ]; }; "
    .. "while alive " .. pid .. " && [ -d " .. d .. " ]; do sleep 0.2; done; "
    .. "[ -d " .. d .. " ] || exit 0; "
    .. "i=0; while [ ! -s " .. f .. " ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; "
    .. "p=$(cat " .. f .. " 2>/dev/null); "
    .. "if [ -n \"$p\" ] && alive $p; then kill -QUIT $p; i=0; while alive $p && [ $i -lt 20 ]; do sleep 0.1;"
    .. " i=$((i+1)); done; pkill -KILL -P $p; kill -KILL $p; fi 2>/dev/null; rm -rf " .. d
  return tonumber(slurp("setsid sh -c " .. shq(script) .. " </dev/null >/dev/null 2>&1 & echo $!"):match("%d+"))
end

--- This process's pid.
M.self_pid = self_pid

local Server = {}
Server.__index = Server

local running = {}

local function pid_alive(pid)
  local st = read("/proc/" .. pid .. "/stat")
  return st ~= nil and st:match("^%d+ %b() (%a)") ~= "Z"
end

local function children(pid)
  local out = {}
  for line in slurp("pgrep -P " .. pid .. " 2>/dev/null"):gmatch("%d+") do out[#out + 1] = tonumber(line) end
  return out
end

function Server:master()
  return tonumber((read(self.dir .. "/logs/nginx.pid") or ""):match("%d+"))
end

-- QUIT (graceful), then KILL the master and every worker still there after `grace` s.
function Server:stop_nginx(grace)
  local master = self:master()
  if not master or not pid_alive(master) then return end
  local workers = children(master)
  sh("kill -QUIT " .. master .. " 2>/dev/null")
  local deadline = socket.gettime() + (grace or 3)
  while pid_alive(master) and socket.gettime() < deadline do socket.sleep(0.02) end
  if pid_alive(master) then
    for _, w in ipairs(children(master)) do workers[#workers + 1] = w end
    sh("kill -KILL " .. master .. " 2>/dev/null")
  end
  for _, w in ipairs(workers) do
    if pid_alive(w) then sh("kill -KILL " .. w .. " 2>/dev/null") end
  end
  deadline = socket.gettime() + 5
  while socket.gettime() < deadline do
    local alive = pid_alive(master)
    for _, w in ipairs(workers) do alive = alive or pid_alive(w) end
    if not alive then break end
    socket.sleep(0.02)
  end
  os.remove(self.dir .. "/logs/nginx.pid")
end

--- Stops nginx (QUIT, then KILL after `grace` seconds, default 3) and removes its
-- directory. Idempotent.
function Server:stop(grace)
  if self.stopped then return true end
  self.stopped = true
  running[self] = nil
  self:stop_nginx(grace)
  if self.watcher then sh("kill " .. self.watcher .. " 2>/dev/null") end
  if not os.getenv("ALEPHANT_NGINX_KEEP") then sh("rm -rf " .. shq(self.dir)) end
  return true
end

function M.stop_all()
  for srv in pairs(running) do srv:stop() end
end

--- The error log so far.
function Server:log()
  return read(self.dir .. "/logs/error.log") or ""
end

-- One full configuration from the options (see start).
local function build_conf(opts)
  local env = {}
  for name in pairs(opts.env or {}) do env[#env + 1] = "env " .. name .. ";" end
  table.sort(env)
  local pool = opts.thread_pool == nil and "alephant threads=4" or opts.thread_pool
  -- PORT, DIR and the caller's own placeholders stay for try_start
  return fill(BASE, {
    WORKERS = opts.workers or 2, LOG_LEVEL = opts.log_level or "warn", MODULES = M.modules,
    THREAD_POOL = pool and ("thread_pool " .. pool .. ";") or "", ENV = table.concat(env, "\n"),
    MAIN = opts.main or "", HTTP = opts.http or "",
    LUA_PATH = (opts.lua_path and opts.lua_path .. ";" or "") .. M.lua_path, LUA_CPATH = M.lua_cpath,
  })
end

local function try_start(self, template, vars)
  local port = pick_port()
  local all = { PORT = port, DIR = self.dir, ROOT = M.root, LUA_PATH = M.lua_path, LUA_CPATH = M.lua_cpath,
    MODULES = M.modules }
  for k, v in pairs(vars or {}) do all[k] = v end
  write(self.dir .. "/nginx.conf", M.render(template, all))
  os.remove(self.dir .. "/logs/nginx.pid")
  -- secrets travel in a private file, not on a command line
  local ok = sh("set -a; . " .. shq(self.dir .. "/env.sh") .. "; set +a; nginx -p " .. shq(self.dir .. "/")
    .. " -c " .. shq(self.dir .. "/nginx.conf") .. " -e " .. shq(self.dir .. "/logs/error.log")
    .. " >" .. shq(self.dir .. "/logs/start.log") .. " 2>&1")
  if not ok then
    local log = read(self.dir .. "/logs/start.log") or ""
    return nil, log, log:find("Address already in use", 1, true) ~= nil
  end
  local deadline = socket.gettime() + 10
  while true do
    local c = socket.tcp()
    c:settimeout(0.2)
    local connected = c:connect("127.0.0.1", port)
    c:close()
    if connected then return port end
    if socket.gettime() > deadline then return nil, "nginx did not listen on " .. port .. ":\n" .. self:log() end
    socket.sleep(0.01)
  end
end

--- Starts nginx.
-- opts: `conf` (a whole template) or the pieces of the generated one: `workers` (2),
-- `thread_pool` ("alephant threads=4"; false for none), `main` (main-context lines),
-- `http` (inside the http block), `lua_path` (prepended), `log_level` ("warn");
-- `env` (name -> value: exported to nginx and, for generated configs, declared with
-- `env`), `vars` (extra placeholder values), `prepare` (a function called with the
-- prefix directory before nginx starts).
function M.start(opts)
  opts = opts or {}
  local dir = slurp("mktemp -d /tmp/alephant-ngx.XXXXXX"):gsub("%s+$", "")
  assert(dir ~= "", "mktemp failed")
  -- workers run as nobody (no `user` directive): they must reach the prefix
  assert(sh("chmod 755 " .. shq(dir) .. " && mkdir -p " .. shq(dir .. "/logs") .. " " .. shq(dir .. "/tmp")))
  if opts.prepare then opts.prepare(dir) end
  local lines = {}
  for k, v in pairs(opts.env or {}) do lines[#lines + 1] = k .. "=" .. shq(v) end
  write(dir .. "/env.sh", table.concat(lines, "\n") .. "\n", "600")
  local self = setmetatable({ dir = dir }, Server)
  running[self] = true
  -- the watcher comes first: nginx daemonizes (its master is nobody's child), so once it
  -- runs, only the watcher can stop it when this process dies, whenever that happens
  self.watcher = M.watch(self_pid(), dir, dir .. "/logs/nginx.pid")
  local function finalizer() self:stop(0.5) end
  if rawget(_G, "newproxy") then
    self._guard = newproxy(true) -- luacheck: ignore 113
    getmetatable(self._guard).__gc = finalizer
  else
    self._guard = setmetatable({}, { __gc = finalizer })
  end
  local template = opts.conf or build_conf(opts)
  local port, err, busy
  for _ = 1, 10 do
    port, err, busy = try_start(self, template, opts.vars)
    if port or not busy then break end
  end
  if not port then
    self:stop(0.5)
    error("nginx failed to start: " .. tostring(err), 2)
  end
  self.port = port
  self.url = "http://127.0.0.1:" .. port
  return self
end

local function request_text(method, path, opts)
  local lines = { method .. " " .. path .. " HTTP/1.0", "Host: 127.0.0.1" }
  local headers = {}
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  if opts.token then headers["Authorization"] = "Bearer " .. opts.token end
  for k, v in pairs(headers) do lines[#lines + 1] = k .. ": " .. v end
  if opts.body then lines[#lines + 1] = "Content-Length: " .. #opts.body end
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. (opts.body or "")
end

local okjson, cjson = pcall(require, "cjson.safe")

local function parse(data)
  local head, body = data:match("^(.-)\r\n\r\n(.*)$")
  if not head then return nil end
  local headers = {}
  for k, v in head:gmatch("\r\n([^:\r\n]+):%s*([^\r\n]*)") do headers[k:lower()] = v end
  local json = okjson and body:match("^%s*[%[{]") and cjson.decode(body) or nil
  return tonumber(head:match("^HTTP/%d%.%d (%d%d%d)")), body, headers, json
end

--- Sends a request on a new connection (HTTP/1.0, so the answer ends with the close).
-- opts: `headers`, `token` (Bearer), `body`, `timeout` (seconds, default 15).
-- @return status, body, headers (lower-case names), decoded JSON body (or nil); nil, err
function Server:request(method, path, opts)
  local pending = self:send(method, path, opts)
  local r = self:collect({ pending }, (opts and opts.timeout) or 15)[1]
  if not r.status then return nil, r.err end
  return r.status, r.body, r.headers, r.json
end

--- Sends a request and returns without waiting for the answer (see collect).
function Server:send(method, path, opts)
  opts = opts or {}
  local c = assert(socket.tcp())
  c:settimeout(5)
  local t0 = socket.gettime()
  assert(c:connect("127.0.0.1", self.port))
  assert(c:send(request_text(method, path, opts)))
  c:settimeout(0)
  return { sock = c, started = t0, parts = {} }
end

--- Reads the answers of requests made with `send`, all at once, until each connection
-- closes or `timeout` seconds pass. Each result: `status`, `body`, `headers`, `json`,
-- `started`, `finished` (socket.gettime() when the answer was complete), `elapsed`, `err`.
function Server.collect(_, pending, timeout)
  local deadline = socket.gettime() + (timeout or 15)
  local open = {}
  for _, p in ipairs(pending) do open[#open + 1] = p end
  while #open > 0 do
    local socks = {}
    for i, p in ipairs(open) do socks[i] = p.sock end
    local left = deadline - socket.gettime()
    if left <= 0 then break end
    local readable = socket.select(socks, nil, math.min(left, 1))
    for _, s in ipairs(readable) do
      for i, p in ipairs(open) do
        if p.sock == s then
          local chunk, err, partial = s:receive(65536)
          local piece = chunk or partial
          if piece and #piece > 0 then p.parts[#p.parts + 1] = piece end
          if not chunk and err ~= "timeout" then
            p.finished = socket.gettime()
            p.err = err ~= "closed" and err or nil
            s:close()
            table.remove(open, i)
          end
          break
        end
      end
    end
  end
  local out = {}
  for i, p in ipairs(pending) do
    if not p.finished then
      p.sock:close()
      p.err = "timeout"
    end
    local r = { started = p.started, finished = p.finished, err = p.err }
    r.elapsed = p.finished and p.finished - p.started
    r.status, r.body, r.headers, r.json = parse(table.concat(p.parts))
    if not r.status and not r.err then r.err = "no HTTP answer" end
    out[i] = r
  end
  return out
end

--- `n` requests at once, each on its own connection; the results in order.
function Server:parallel(n, method, path, opts, timeout)
  local pending = {}
  for i = 1, n do
    local p = type(path) == "function" and path(i) or path
    pending[i] = self:send(method, p, opts)
  end
  return self:collect(pending, timeout)
end

return M
