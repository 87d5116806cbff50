-- Start/stop the local Alephant emulator (emulator/emulator) from busted specs.
-- Works under Lua 5.4 and LuaJIT; needs LuaSocket and lua-cjson (or dkjson).
--
--   local emulator = require("spec.support.emulator")
--   local emu = emulator.start({ ingest_delay_ms = 100 })
--   local status, body, headers, json = emu:request("GET", "/api/v1/cockpit/scope",
--     { token = emu.tokens.vk_agent })
--   emu:requests("/v1/chat")   -- inspection records
--   emu:stop()
--
-- In a describe block, `emulator.session(opts)` does the start, the reset before each
-- test and the stop for the block, and `emu:client(token_name)` makes an SDK client:
--
--   describe("... #integration", function()
--     local emu = emulator.session()        -- tokens and ids at once, the rest once started
--     it("...", function() local c = emu:client("vk_agent") ... end)
--   end)
--
-- Every emulator started here is also stopped when this Lua process exits
-- (finalizer at interpreter close, plus a watcher process started by the script
-- that stops nginx once this process is gone).
local http = require("socket.http")
local ltn12 = require("ltn12")

local M = {}

local okjson, cjson = pcall(require, "cjson.safe")
local json_decode, json_encode, json_null
if okjson then
  json_decode, json_encode, json_null = cjson.decode, cjson.encode, cjson.null
else
  local dk = require("dkjson")
  json_decode = function(s)
    local v, _, err = dk.decode(s, 1, dk.null)
    if err then return nil, err end
    return v
  end
  json_encode, json_null = dk.encode, dk.null
end
M.null = json_null
M.decode = json_decode
M.encode = json_encode

-- repository root = the directory above spec/support/
local function find_root()
  local src = debug.getinfo(1, "S").source
  if src:sub(1, 1) == "@" then
    local dir = src:sub(2):match("^(.*)/spec/support/[^/]+$")
    if dir then
      if dir:sub(1, 1) ~= "/" then
        local p = io.popen("pwd")
        local cwd = p:read("*l")
        p:close()
        dir = cwd .. "/" .. dir
      end
      return dir
    end
    if src:match("^@spec/support/") then return "." end
  end
  return "."
end

M.root = os.getenv("ALEPHANT_EMULATOR_ROOT") or find_root()
M.script = M.root .. "/emulator/emulator"
M.fixtures_file = M.root .. "/emulator/fixtures.json"

local function shq(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.shell_quote = shq

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then error("cannot read " .. path .. ": " .. tostring(err), 2) end
  local s = f:read("*a")
  f:close()
  return s
end

-- Decoded fixtures plus two derived maps:
--   fixtures.tokens[name] = token   (vk_agent, pat_read, jwt, ...)
--   fixtures.ids[name]    = id      (workspace_1, support_bot, alice, vk_agent, ...)
function M.fixtures(path)
  local fx, err = json_decode(read_file(path or M.fixtures_file))
  if not fx then error("bad fixtures JSON: " .. tostring(err), 2) end
  fx.tokens, fx.ids = {}, {}
  for _, coll in ipairs({ "virtual_keys", "pats", "jwts" }) do
    for _, it in ipairs(fx[coll] or {}) do fx.tokens[it.name] = it.token end
  end
  for _, coll in ipairs({ "workspaces", "departments", "agents", "members", "master_keys", "virtual_keys", "pats" }) do
    for _, it in ipairs(fx[coll] or {}) do fx.ids[it.name] = it.id end
  end
  return fx
end

local my_pid
local function self_pid()
  if not my_pid then
    -- the shell started by popen is our child, so its $PPID is this process
    local p = io.popen("echo $PPID")
    my_pid = tonumber(p:read("*l"))
    p:close()
  end
  return my_pid
end

local function unquote(v)
  -- values are printed with bash printf %q; our values only ever need \x unescaping
  return (v:gsub("\\(.)", "%1"))
end

local Emu = {}
Emu.__index = Emu

local running = {}

-- Starts the emulator into `self` (an Emu).
local function start(self, opts)
  local args = { shq(M.script), "start", "--watch-pid", tostring(self_pid()) }
  local function add(flag, v)
    if v ~= nil then
      args[#args + 1] = flag
      args[#args + 1] = shq(v)
    end
  end
  add("--port", opts.port)
  add("--tls-port", opts.tls_port)
  add("--dir", opts.dir)
  add("--ingest-delay-ms", opts.ingest_delay_ms)
  add("--workers", opts.workers)
  add("--fixtures", opts.fixtures)
  local remove_dir = not opts.dir and not opts.keep_dir and os.getenv("ALEPHANT_EMULATOR_KEEP") == nil
  if remove_dir then args[#args + 1] = "--rm-on-exit" end
  local p = io.popen(table.concat(args, " ") .. " 2>&1")
  local out = p:read("*a")
  p:close()
  local env = {}
  for line in out:gmatch("[^\n]+") do
    local k, v = line:match("^export (ALEPHANT_[%w_]+)=(.*)$")
    if k then env[k] = unquote(v) end
  end
  if not env.ALEPHANT_EMULATOR_DIR or not env.ALEPHANT_API_BASE_URL then
    error("emulator failed to start:\n" .. out, 2)
  end
  self.env = env
  self.dir = env.ALEPHANT_EMULATOR_DIR
  self.saas_url = env.ALEPHANT_API_BASE_URL
  self.analytics_url = env.ALEPHANT_ANALYTICS_BASE_URL
  self.gateway_url = env.ALEPHANT_GATEWAY_BASE_URL
  self.https_url = env.ALEPHANT_EMULATOR_HTTPS_URL
  self.ca_file = env.ALEPHANT_EMULATOR_CA
  self.admin_url = env.ALEPHANT_EMULATOR_ADMIN_URL
  self.base_url = self.saas_url
  self.port = tonumber(self.saas_url:match(":(%d+)$"))
  self.tls_port = tonumber(self.https_url:match(":(%d+)$"))
  self.fixtures = M.fixtures(opts.fixtures)
  self.tokens, self.ids = self.fixtures.tokens, self.fixtures.ids
  self.remove_dir = remove_dir
  self.pid = tonumber((read_file(self.dir .. "/emulator.pid"):match("%d+")))
  -- stop at interpreter close if the spec forgot (or crashed before) emu:stop()
  local function finalizer() self:stop() end
  if rawget(_G, "newproxy") then
    local proxy = newproxy(true) -- luacheck: ignore 113
    getmetatable(proxy).__gc = finalizer
    self._guard = proxy
  else
    self._guard = setmetatable({}, { __gc = finalizer })
  end
  running[self] = true
  return self
end

-- opts: port, tls_port, dir, ingest_delay_ms, workers, fixtures, keep_dir
function M.start(opts)
  return start(setmetatable({}, Emu), opts or {})
end

--- The emulator for the enclosing describe block: started before its first test
-- (lazy_setup), reset before each test unless `opts.reset == false`, stopped after its
-- last (lazy_teardown). `tokens`, `ids` and `fixtures` are there at once (they come
-- from the fixtures file); everything else once the block runs. `opts` as for `start`,
-- plus `client`: options every `emu:client` of the block starts from (e.g. max_retries).
function M.session(opts)
  local busted = require "busted"
  opts = opts or {}
  local self = setmetatable({ client_defaults = opts.client }, Emu)
  self.fixtures = M.fixtures(opts.fixtures)
  self.tokens, self.ids = self.fixtures.tokens, self.fixtures.ids
  busted.lazy_setup(function() start(self, opts) end)
  busted.lazy_teardown(function()
    if self.dir then
      self:stop()
      require("luassert").is_false(self:alive(), "the emulator outlived its stop")
    end
  end)
  if opts.reset ~= false then busted.before_each(function() self:reset() end) end
  return self
end

--- The `alephant.new` options of a client for a fixture token (default `vk_agent`)
-- pointed at this emulator and blind to the environment, with `workspace_id` for PATs
-- and JWTs, then the session's `client` options; `extra` options win.
function Emu:client_opts(token_name, extra)
  token_name = token_name or "vk_agent"
  local opts = { token = self.tokens[token_name], base_url = self.saas_url, analytics_url = self.analytics_url,
    gateway_url = self.gateway_url, getenv = function() return nil end }
  if token_name:match("^pat") or token_name:match("^jwt") then opts.workspace_id = self.ids.workspace_1 end
  for k, v in pairs(self.client_defaults or {}) do opts[k] = v end
  for k, v in pairs(extra or {}) do opts[k] = v end
  return opts
end

--- An SDK client with those options (raises if it cannot be made).
function Emu:client(token_name, extra)
  return assert(require("alephant").new(self:client_opts(token_name, extra)))
end

function Emu:stop()
  if self.stopped then return true end
  self.stopped = true
  running[self] = nil
  local cmd = shq(M.script) .. " stop " .. shq(self.dir) .. (self.remove_dir and " --rm" or "") .. " >/dev/null 2>&1"
  os.execute(cmd)
  return true
end

function M.stop_all()
  for emu in pairs(running) do emu:stop() end
end

-- Is the nginx master (or any of its workers) still running?
function Emu:alive()
  if not self.pid then return false end
  local p = io.popen("cat /proc/" .. self.pid .. "/stat 2>/dev/null")
  local s = p:read("*a") or ""
  p:close()
  if s == "" then return false end
  return s:match("^%d+ %b() (%a)") ~= "Z"
end

-- Environment lines for a child process: "ALEPHANT_API_BASE_URL='...' ..."
function Emu:env_prefix()
  local parts = {}
  for k, v in pairs(self.env) do parts[#parts + 1] = k .. "=" .. shq(v) end
  table.sort(parts)
  return table.concat(parts, " ")
end

function Emu:url(path)
  if path:match("^https?://") then return path end
  return self.base_url .. path
end

-- emu:request(method, path_or_url, opts) -> status, body, headers, decoded_json
-- opts: headers (table), body (string, or table -> JSON), token (Bearer), workspace
-- (X-Workspace-Id), query (table), timeout (seconds).  On a transport error returns
-- nil, err.
function Emu:request(method, path, opts)
  opts = opts or {}
  local url = self:url(path)
  if opts.query then
    local q = {}
    local keys = {}
    for k in pairs(opts.query) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local v = opts.query[k]
      -- integral floats (lua-cjson under 5.4 decodes every number as a float) print as integers
      if type(v) == "number" and v == math.floor(v) and math.abs(v) < 2 ^ 53 then v = string.format("%d", v) end
      q[#q + 1] = k .. "=" .. tostring(v):gsub("[^%w%-%._~]", function(c)
        return string.format("%%%02X", c:byte())
      end)
    end
    url = url .. (url:find("?", 1, true) and "&" or "?") .. table.concat(q, "&")
  end
  local headers = {}
  for k, v in pairs(opts.headers or {}) do headers[k:lower()] = v end
  if opts.token then headers["authorization"] = "Bearer " .. opts.token end
  if opts.workspace then headers["x-workspace-id"] = opts.workspace end
  local body = opts.body
  if type(body) == "table" then
    body = json_encode(body)
    headers["content-type"] = headers["content-type"] or "application/json"
  end
  if body then headers["content-length"] = tostring(#body) end
  local chunks = {}
  local old = http.TIMEOUT
  http.TIMEOUT = opts.timeout or 15
  local ok, code, rheaders = http.request({
    url = url, method = method, headers = headers,
    source = body and ltn12.source.string(body) or nil,
    sink = ltn12.sink.table(chunks),
  })
  http.TIMEOUT = old
  if not ok then return nil, code end
  local text = table.concat(chunks)
  local lower = {}
  for k, v in pairs(rheaders or {}) do lower[k:lower()] = v end
  local decoded = json_decode(text)
  return code, text, lower, decoded
end

-- Raw HTTP/1.1 exchange on a fresh TCP connection, for faults that break HTTP
-- (reset, truncated, trickle).  Sends `method path` with the given headers (a
-- table) and body, then reads until the server closes, `opts.timeout` passes or
-- `opts.until_bytes` bytes arrived.  Returns a table:
--   { data = all bytes, err = nil|"closed"|"timeout"|..., elapsed = seconds,
--     status = n|nil, headers = {lower-case}, body = bytes after the header block,
--     first_byte = seconds until the first byte arrived }
function Emu:raw(method, path, headers, body, opts)
  local socket = require("socket")
  opts = opts or {}
  local c = assert(socket.tcp())
  c:settimeout(opts.timeout or 10)
  local t0 = socket.gettime()
  assert(c:connect("127.0.0.1", self.port))
  local lines = { method .. " " .. path .. " HTTP/1.1", "Host: 127.0.0.1:" .. self.port }
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  if body then lines[#lines + 1] = "Content-Length: " .. #body end
  if not opts.keepalive then lines[#lines + 1] = "Connection: close" end
  c:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or ""))
  local parts, err, first = {}, nil, nil
  local got = 0
  while true do
    -- the first read takes one byte so that first_byte is the real arrival time
    local want = got == 0 and 1 or 4096
    if opts.until_bytes then want = math.min(want, opts.until_bytes - got) end
    local chunk, e, partial = c:receive(want)
    local piece = chunk or partial
    if piece and #piece > 0 then
      first = first or (socket.gettime() - t0)
      parts[#parts + 1] = piece
      got = got + #piece
    end
    if not chunk then
      err = e
      break
    end
    if opts.until_bytes and got >= opts.until_bytes then break end
  end
  c:close()
  local data = table.concat(parts)
  local res = { data = data, err = err, elapsed = socket.gettime() - t0, first_byte = first, headers = {} }
  local head, rest = data:match("^(.-)\r\n\r\n(.*)$")
  if head then
    res.status = tonumber(head:match("^HTTP/%d%.%d (%d%d%d)"))
    for k, v in head:gmatch("\r\n([^:\r\n]+):%s*([^\r\n]*)") do res.headers[k:lower()] = v end
    res.body = rest
  end
  return res
end

function Emu:admin(method, path, body)
  local status, text, _, decoded = self:request(method, self.admin_url .. path, { body = body })
  if status ~= 200 then
    error("admin " .. method .. " " .. path .. " failed: " .. tostring(status) .. " " .. tostring(text), 2)
  end
  return decoded
end

-- Inspection records since the last reset.  filter: nil, a Lua pattern matched
-- against the path, or a table { path = pattern, method = "GET" }.
function Emu:requests(filter)
  local all = self:admin("GET", "/requests").requests
  if filter == nil then return all end
  if type(filter) == "string" then filter = { path = filter } end
  local out = {}
  for _, r in ipairs(all) do
    if (not filter.path or r.path:find(filter.path))
      and (not filter.method or r.method == filter.method:upper()) then
      out[#out + 1] = r
    end
  end
  return out
end

function Emu:reset() return self:admin("POST", "/reset") end

-- emu:set({ ingest_delay_ms = 50 })
function Emu:set(config) return self:admin("POST", "/config", config) end

-- emu:arm({ fault = "status=503", count = 2, path = "/v1/chat/completions" })
function Emu:arm(rule) return self:admin("POST", "/faults", rule) end

function Emu:disarm() return self:admin("DELETE", "/faults") end

return M
