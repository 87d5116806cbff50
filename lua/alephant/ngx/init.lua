--- OpenResty / lua-nginx-module integration.
--
--     -- nginx.conf (main context): thread_pool alephant threads=8;
--     -- http block: lua_shared_dict alephant 1m;
--     local alephant_ngx = require "alephant.ngx"
--     local client = assert(alephant_ngx.new{ token = key, shared_dict = "alephant", budget_cache_ttl = 10 })
--     local budget, err, meta = client.cockpit:budget_status()
--
-- A client made here is an ordinary `alephant` client whose libcurl requests run in an
-- nginx worker thread (`ngx.run_worker_thread`), so the event loop never waits on the
-- network; retries and rate limiting wait with `ngx.sleep`. With `shared_dict`, a
-- virtual key's resolved context (and, with `budget_cache_ttl`, its
-- `cockpit.budget_status` answers) are shared by every client in every worker:
-- one scope call per key per `scope_ttl` for the whole nginx instance.
-- @module alephant.ngx
local core = require "alephant.core"
local config = require "alephant.config"
local errors = require "alephant.errors"
local Client = require "alephant.client"
local ngx_cache = require "alephant.ngx.cache"
local ngx_worker = require "alephant.ngx.worker"
local util = require "alephant.util"

local ngx = ngx -- luacheck: ignore 113 (the host's API table, only inside nginx)

local M = {}

--- Defaults of the options this module adds to the client's.
M.defaults = { thread_pool = "alephant", lock_timeout = 5 }

--- The module a worker thread runs (`alephant.ngx.worker`).
M.worker_module = "alephant.ngx.worker"

-- Phases where ngx.run_worker_thread and ngx.sleep work.
local yieldable = { rewrite = true, access = true, content = true, timer = true }

local own_options = { thread_pool = "string", blocking = "boolean", shared_dict = "string",
  budget_cache_ttl = "number", lock_timeout = "number" }

local function phase_error(phase)
  return errors.new("config", ("alephant.ngx: SDK calls cannot run in the %s phase (nginx offers no worker "
    .. "threads or cosockets there): call the client from rewrite_by_lua*, access_by_lua*, content_by_lua* or a "
    .. "timer, e.g. schedule the call here with ngx.timer.at(0, function(premature) ... end)"):format(phase),
    { field = "phase" })
end

local function pool_error(pool)
  return errors.new("config", ("alephant.ngx: thread pool '%s' not found: add `thread_pool %s threads=8;` to the "
    .. "main context of nginx.conf (outside the http block)"):format(pool, pool), { field = "thread_pool" })
end

--- Waits without blocking the worker (`ngx.sleep`) where nginx allows it, else with
-- `alephant.core.sleep` (only reachable in blocking mode). The client's `sleep` option.
local function sleep(seconds)
  if yieldable[ngx.get_phase()] then
    ngx.sleep(seconds)
  else
    core.sleep(seconds)
  end
end

M.sleep = sleep

local warned = false
local function warn_blocking()
  if warned then return end
  warned = true
  ngx.log(ngx.WARN, "alephant.ngx: blocking = true: SDK calls run libcurl in this nginx worker and stall every ",
    "connection it serves until they finish; use a thread_pool (the default mode) instead")
end

-- The worker's answer back into the SDK's shapes: an error table gets its metatable
-- again; a programmer error raised in the thread is raised here.
local function result(res, err, raised)
  if raised then error(raised, 0) end
  if res then return res end
  if type(err) ~= "table" or not errors.kinds[err.kind] then
    return nil, errors.new("network", "alephant.ngx: the worker thread returned no answer")
  end
  return nil, errors.new(err.kind, tostring(err.message), err)
end

local Transport = {}
Transport.__index = Transport

-- This worker's calls inside ngx.run_worker_thread right now.
local in_flight = 0

--- A transport (`request{method, url, headers, body, timeout}`) that runs the libcurl
-- transport in a worker thread, or directly in the worker with `blocking = true`.
-- `alephant_ngx.new` makes one; pass it as `transport` to `alephant.new` to use it alone.
-- @tparam[opt] table opts `thread_pool` (default "alephant"), `blocking`, and the
--   transport settings (`core.http_options`: `timeout`, `connect_timeout`, `cafile`,
--   `capath`, `allow_insecure_http`, ...)
-- @return the transport
function M.transport(opts)
  opts = opts or {}
  return setmetatable({
    pool = opts.thread_pool or M.defaults.thread_pool,
    blocking = opts.blocking == true,
    -- plain values only: this table is copied into the worker thread's VM
    cfg = config.transport_options(opts),
  }, Transport)
end

function Transport:__tostring()
  return ("alephant.ngx.transport (%s)"):format(self.blocking and "blocking" or "thread pool " .. self.pool)
end

--- Opens a streamed answer (`client.gateway:chat_stream`, `responses_stream`,
-- `messages_stream`, `completions_stream`). Only in blocking mode: a
-- stream is read chunk by chunk from Lua, and a worker thread's VM cannot be kept for
-- one stream across those steps.
function Transport:stream(req)
  if not self.blocking then
    return nil, errors.new("config", "alephant.ngx: streamed answers (the *_stream methods) cannot run in worker "
      .. "threads; make the call without streaming, or stream with nginx itself (proxy_pass to the gateway)",
      { field = "blocking" })
  end
  warn_blocking()
  local t, err = ngx_worker.transport_for(self.cfg)
  if not t then return nil, err end
  return t:stream(req)
end

--- Performs one request; returns `{status, headers, body}` or nil, err.
function Transport:request(req)
  if self.blocking then
    warn_blocking()
    return result(ngx_worker.request(self.cfg, req))
  end
  local phase = ngx.get_phase()
  if not yieldable[phase] then return nil, phase_error(phase) end
  if not ngx.run_worker_thread then
    return nil, errors.new("config", "alephant.ngx: this nginx has no ngx.run_worker_thread (lua-nginx-module "
      .. "0.10.21 or later, built with threads, is needed)", { field = "thread_pool" })
  end
  -- every worker-thread Lua VM (lua_worker_thread_vm_pool_size) busy, or the pool's
  -- queue full: wait without blocking, within the request's own timeout
  local start, budget = core.monotonic(), req.timeout or 30
  local delay = 0.002
  while true do
    in_flight = in_flight + 1
    local ok, res, err, raised = ngx.run_worker_thread(self.pool, M.worker_module, "request", self.cfg, req)
    in_flight = in_flight - 1
    if ok then return result(res, err, raised) end
    res = tostring(res)
    if res:find("not found", 1, true) and res:find("pool", 1, true) then return nil, pool_error(self.pool) end
    if res ~= "no available Lua vm" and res ~= "ngx_thread_task_post failed" then
      return nil, errors.new("config", "alephant.ngx: the worker thread could not run " .. M.worker_module .. ": "
        .. res .. " (lua_package_path and lua_package_cpath must find alephant and its LuaJIT core module)",
        { field = "thread_pool" })
    end
    -- lua-nginx-module says "no available Lua vm" also when it cannot build a VM: each
    -- one loads resty.core through lua_package_path. With no call of ours holding a VM,
    -- waiting would not help.
    if res == "no available Lua vm" and in_flight == 0 then
      return nil, errors.new("config", "alephant.ngx: no worker-thread Lua VM could be had while this worker "
        .. "had no SDK call in flight: nginx could not build one (lua_package_path must still reach resty.core: "
        .. "end it with ;;) or other code holds all lua_worker_thread_vm_pool_size VMs", { field = "thread_pool" })
    end
    local elapsed = core.monotonic() - start
    if elapsed + delay >= budget then
      return nil, errors.new("timeout", ("alephant.ngx: no worker thread was free for %.3f s (%s): raise the "
        .. "thread_pool's threads/max_queue or lua_worker_thread_vm_pool_size"):format(elapsed, res),
        { retryable = true })
    end
    ngx.sleep(delay)
    delay = math.min(delay * 2, 0.05)
    req.timeout = budget - (core.monotonic() - start)
  end
end

--- Performs several requests at once (`client:batch`): in thread mode each request in
-- flight has its own worker thread, run from `concurrency` light threads
-- (`ngx.thread.spawn`) that take the next request when theirs is done; in blocking mode
-- the libcurl transport's own `request_many`. Returns one entry per request, a response
-- or an error table (with `kind`).
function Transport:request_many(reqs, concurrency)
  if self.blocking then
    warn_blocking()
    local t, err = ngx_worker.transport_for(self.cfg)
    if not t then return nil, err end
    return t:request_many(reqs, concurrency)
  end
  local phase = ngx.get_phase()
  if not yieldable[phase] then return nil, phase_error(phase) end
  local out, next_index = {}, 1
  local function work()
    while next_index <= #reqs do
      local i = next_index
      next_index = i + 1
      local res, err = self:request(reqs[i])
      out[i] = res or err
    end
  end
  local threads = {}
  for k = 1, math.min(concurrency or 8, #reqs) do threads[k] = ngx.thread.spawn(work) end
  for _, th in ipairs(threads) do ngx.thread.wait(th) end
  for i = 1, #reqs do -- a light thread that raised left its request without an answer
    out[i] = out[i] or errors.new("network", "alephant.ngx: the request's light thread failed", { retryable = true })
  end
  return out
end

-- A context store (see alephant.client) over the shared cache, for one key.
local function scope_store(cache, key, lock_timeout)
  return {
    get = function(_, wait) -- wait: what the call's deadline leaves, nil for none
      local most = wait and math.min(wait, lock_timeout) or lock_timeout
      return cache:acquire(key, yieldable[ngx.get_phase()] and most or 0)
    end,
    set = function(_, ctx, handle)
      if type(ctx) == "table" and type(ctx.expires_at) == "number" then
        cache:set(key, ctx, ctx.expires_at - ngx.time())
      end
      cache:release(key, handle)
    end,
  }
end

-- A canonical cache key for scalar parameters, nil when any value is not a scalar.
local function params_key(params)
  if params == nil then return "" end
  if type(params) ~= "table" then return nil end
  local parts = {}
  for k, v in pairs(params) do
    local t = type(v)
    if type(k) ~= "string" or not (t == "string" or t == "number" or t == "boolean") then return nil end
    parts[#parts + 1] = k .. "=" .. tostring(v)
  end
  table.sort(parts)
  return table.concat(parts, "&")
end

-- A copy a caller may change without touching the cached value (markers kept).
local copy = util.copy

local meta_fields = { "status", "request_id", "endpoint", "degraded", "data_source" }

-- A client layer (Client:around) that refuses calls from a phase without worker threads.
local function phase_layer(call, name, params, opts)
  local phase = ngx.get_phase()
  if not yieldable[phase] then return nil, phase_error(phase) end
  return call(name, params, opts)
end

-- A client layer that shares the answers of the endpoints in `ttls` (name -> seconds)
-- through the shared cache, per distinct scalar parameters, one fetch at a time.
local function cache_layer(cache, prefix, ttls, lock_timeout)
  return function(call, name, params, opts)
    local ttl = ttls[name]
    local pkey = ttl and params_key(params)
    if not pkey then return call(name, params, opts) end
    local key = prefix .. name .. ":" .. pkey
    local hit, handle = cache:acquire(key, yieldable[ngx.get_phase()] and lock_timeout or 0)
    if hit then
      local meta = copy(hit.meta)
      meta.cached, meta.attempts = true, 0
      return copy(hit.data), nil, meta
    end
    local data, err, meta = call(name, params, opts)
    if data ~= nil then
      local slim = {}
      for _, k in ipairs(meta_fields) do slim[k] = meta[k] end
      cache:set(key, { data = data, meta = slim }, ttl)
    end
    cache:release(key, handle)
    return data, err, meta
  end
end

local function positive(name, v)
  local problem = v ~= nil and config.duration_problem(v)
  if problem then error(("alephant.ngx.new: option '%s' %s"):format(name, problem), 3) end
end

--- Creates a client for use inside nginx.
-- Takes every option of `alephant.new` plus:
--
-- - `thread_pool` (default `"alephant"`): the nginx `thread_pool` the requests run in;
-- - `blocking` (default false): run libcurl in the worker itself, stalling its event
--   loop while a request is in flight (logs a warning once per worker);
-- - `shared_dict`: a `lua_shared_dict` that shares resolved virtual-key contexts (and
--   budget answers) between every client in every worker;
-- - `budget_cache_ttl`: seconds `cockpit.budget_status` answers are shared (needs `shared_dict`);
-- - `lock_timeout` (default 5): seconds a request waits for another one fetching the
--   same context or budget before it fetches itself.
--
-- Calls from a phase where worker threads cannot run (log, header_filter, body_filter,
-- init, init_worker, set, ...) return a `config` error saying what to do instead.
-- @tparam table opts options
-- @return the client, or nil and a `config` error
function M.new(opts)
  if opts == M then
    error("alephant.ngx.new is a function, not a method: write alephant_ngx.new{...}, not alephant_ngx:new{...}", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error("alephant.ngx.new: options must be a table, got " .. type(opts), 2)
  end
  local client_opts, own = {}, {}
  for k, v in pairs(opts or {}) do
    local want = own_options[k]
    if want then
      if type(v) ~= want then
        error(("alephant.ngx.new: option '%s' must be a %s, got %s"):format(k, want, type(v)), 2)
      end
      own[k] = v
    else
      client_opts[k] = v
    end
  end
  positive("budget_cache_ttl", own.budget_cache_ttl)
  positive("lock_timeout", own.lock_timeout)
  if own.budget_cache_ttl and not own.shared_dict then
    error("alephant.ngx.new: budget_cache_ttl needs shared_dict (the lua_shared_dict the answers live in)", 2)
  end
  if type(ngx) ~= "table" or type(ngx.get_phase) ~= "function" then
    return nil, errors.new("config", "alephant.ngx runs inside nginx with lua-nginx-module (OpenResty); "
      .. "use alephant.new elsewhere")
  end
  local settings, err = config.resolve(client_opts)
  if not settings then return nil, err end

  local cache
  if own.shared_dict then
    cache, err = ngx_cache.new(own.shared_dict)
    if not cache then return nil, err end
  end
  local thread_mode = settings.transport == nil and not own.blocking
  if settings.transport == nil then
    local topts = config.transport_options(settings)
    topts.thread_pool, topts.blocking = own.thread_pool, own.blocking
    settings.transport = M.transport(topts)
  end
  settings.sleep = settings.sleep or sleep
  local lock_timeout = own.lock_timeout or M.defaults.lock_timeout
  -- entries are keyed by a hash of the token and the API it talks to, never the token
  local prefix = cache and ("alephant:" .. ngx.encode_base64(ngx.sha1_bin(settings.token .. "\n" .. settings.base_url))
    .. ":")
  if cache and settings.token_info.kind == "virtual_key" and not settings.workspace_id
    and not settings.context_store then
    settings.context_store = scope_store(cache, prefix .. "scope", lock_timeout)
  end
  local client
  client, err = Client.new(settings)
  if not client then return nil, err end
  -- layers: the phase check (thread mode) runs first, being added last, then the cache
  if own.budget_cache_ttl then
    client:around(cache_layer(cache, prefix, { ["cockpit.budget_status"] = own.budget_cache_ttl }, lock_timeout))
  end
  if thread_mode then client:around(phase_layer) end
  return client
end

return M
