--- The code `alephant.ngx` runs inside an nginx worker thread (`ngx.run_worker_thread`).
-- Such a thread has its own Lua VM, built from `lua_package_path`/`lua_package_cpath`
-- and reused between calls; only plain values cross into it (no userdata, no
-- functions). So each VM builds its own libcurl transport from a plain configuration
-- and keeps it, which keeps connections alive across the calls that VM serves.
-- Everything returned is a plain table: metatables do not survive the copy back.
-- @module alephant.ngx.worker
local config = require "alephant.config"
local core = require "alephant.core"

local worker = {}

-- One transport per distinct configuration, for the life of this VM.
local transports = {}

local function config_key(cfg)
  local parts = {}
  for i, k in ipairs(core.http_options) do parts[i] = tostring(cfg[k]) end
  return table.concat(parts, "\0")
end

--- This VM's transport for a plain configuration (made on first use, then kept).
-- @return the transport, or nil and an error
function worker.transport_for(cfg)
  local key = config_key(cfg)
  local t = transports[key]
  if t then return t end
  local err
  t, err = core.http_new(config.transport_options(cfg))
  if t then transports[key] = t end
  return t, err
end

-- A copy of an error table without its metatable.
local function plain_error(err)
  local out = {}
  for k, v in pairs(err) do out[k] = v end
  return out
end

--- Performs one request with this VM's transport for `cfg`.
-- @tparam table cfg transport options (`core.http_options`)
-- @tparam table req `{method, url, headers, body, timeout}` as for `core.http_new():request`
-- @return `{status, headers, body}`, or nil and a plain error table, or nil, nil and the
--   message of a programmer error (which the caller raises in its own VM)
function worker.request(cfg, req)
  local t, err = worker.transport_for(cfg)
  if not t then return nil, plain_error(err) end
  local ok, res, rerr = pcall(t.request, t, req)
  if not ok then return nil, nil, tostring(res) end
  if not res then return nil, plain_error(rerr) end
  return { status = res.status, headers = res.headers, body = res.body, new_connections = res.new_connections }
end

return worker
