--- The client object: every catalog entry as a method, the request pipeline
-- (prepare → context → rate limit → transport with retries → decode) and iterators.
-- @module alephant.client
local config = require "alephant.config"
local core = require "alephant.core"
local batch = require "alephant.batch"
local errors = require "alephant.errors"
local exchange = require "alephant.exchange"
local extra_fields = require "alephant.extra"
local gateway = require "alephant.gateway"
local guide = require "alephant.guide"
local paginate = require "alephant.paginate"
local ratelimit = require "alephant.ratelimit"
local raw = require "alephant.request"
local scrub = require "alephant.scrub"
local run = require "alephant.gateway.run"
local trace = require "alephant.gateway.trace"

local Client = {}

-- Endpoint metadata by name, and the methods of each group, built once per VM.
local endpoints = {}
local groups = {}
for _, e in ipairs(core.endpoints()) do
  endpoints[e.name] = e
  local group, method = e.name:match("^([^.]+)%.(.+)$")
  groups[group] = groups[group] or {}
  groups[group][method] = e
end

local call_options = { deadline = "number", timeout = "number", retry = "boolean", max_items = "number",
  max_pages = "number", prefetch = "boolean", headers = "table", extra = "table" }

-- The call options and their Lua types, also read by scripts/annotations.lua.
Client.CALL_OPTIONS = call_options

-- The options of a call made without any: one shared table, never written (a write
-- raises), so that a call without options makes no table for them. A layer added with
-- Client:around gets a table of its own (it may write to it).
local NO_OPTIONS = setmetatable({}, { __newindex = function(_, k)
  error("alephant: internal: the shared empty call options were written (" .. tostring(k) .. ")", 2)
end })

local function check_call_options(opts, level)
  if opts == nil then return NO_OPTIONS end
  if type(opts) ~= "table" then error("alephant: call options must be a table, got " .. type(opts), level) end
  for k, v in pairs(opts) do
    local want = call_options[k]
    if not want then
      error(("alephant: unknown call option '%s' (known: deadline, timeout, retry, max_items, max_pages, prefetch, "
        .. "headers, extra)"):format(tostring(k)), level)
    end
    if type(v) ~= want then error(("alephant: call option '%s' must be a %s"):format(k, want), level) end
  end
  return opts
end

-- Headers a call may not set: the credential comes from the client's token (whose kind
-- decides the routes it may call), and message framing is libcurl's.
local reserved_headers = { authorization = true, ["content-length"] = true, ["transfer-encoding"] = true }

-- The call option `headers`, checked before anything is sent, whatever the transport:
-- names are HTTP tokens, values safe header text (the core's validator: no CR, LF, NUL
-- or other control characters; the message gives the position, never the value).
local function check_headers(endpoint, headers)
  for k, v in pairs(headers) do
    if type(k) ~= "string" or type(v) ~= "string" then
      error(("alephant: %s: call option 'headers' must map header names to strings, got %s = %s")
        :format(endpoint, type(k), type(v)), 4)
    end
    local ok, err = core.validate_header_name(k, "headers")
    if not ok then
      err.message, err.endpoint = endpoint .. ": " .. err.message, endpoint
      return nil, err
    end
    if reserved_headers[k:lower()] then
      return nil, errors.new("validation", ("%s: headers: %s is set by the client, not by a call"):format(endpoint, k),
        { field = "headers", endpoint = endpoint })
    end
    ok, err = core.validate_header_value(v, "header " .. k)
    if not ok then
      err.field, err.endpoint = "headers", endpoint
      return nil, err
    end
  end
  return true
end

Client._check_headers = check_headers -- for alephant.request

-- The group classes (`client.analytics` is an instance of one), built once per VM:
-- each method calls through the instance's `_client`; a group instance holds only
-- the client, never the token.
local group_classes = {}
for name, methods in pairs(groups) do
  local index = {}
  for method, e in pairs(methods) do
    local endpoint, paging = e.name, e.paging
    index[method] = function(self, params, opts)
      return Client._call(self._client, endpoint, params, opts) -- a group's client: no self check
    end
    if paging then
      -- the group's list endpoint gets each/all; other paged endpoints each_<name>/all_<name>
      local suffix = method == "list" and "" or "_" .. method
      index["each" .. suffix] = function(self, params, opts)
        return paginate.each(self._client, endpoint, paging, params, opts)
      end
      index["all" .. suffix] = function(self, params, opts)
        return paginate.all(self._client, endpoint, paging, params, opts)
      end
    end
  end
  local label = "alephant." .. name
  group_classes[name] = { __index = index, __tostring = function() return label end }
end
gateway.install(group_classes.gateway.__index, groups.gateway) -- chat_stream, responses_stream, ...
trace.install(group_classes.collector.__index) -- request_log(id, {wait = s})
-- a method called with a dot, or a mistyped one, raises a precise error (alephant.guide)
for name, class in pairs(group_classes) do guide.group_class(class, name) end

-- Fields that may read as nil: the options (not set), private ones; any other unknown
-- name is a slip and raises with the closest method or group.
local option_fields = {}
for _, k in ipairs(config.option_names()) do option_fields[k] = true end
local function client_names()
  local names = guide.keys(Client)
  for g in pairs(group_classes) do names[#names + 1] = g end
  return names
end

-- A client's methods, then its group objects, made on first use and kept: a client
-- that only ever calls one group pays for one.
function Client.__index(self, key)
  local v = Client[key]
  if v ~= nil then return v end
  local class = group_classes[key]
  if class == nil then
    local none = guide.missing(key, "client", client_names, option_fields) -- raises for a slip
    return none
  end
  v = setmetatable({ _client = self }, class)
  rawset(self, key, v)
  return v
end

-- The settings a client shows as its fields (`client.timeout`, ...).
local public_settings = { "base_url", "analytics_url", "gateway_url", "workspace_id", "timeout", "connect_timeout",
  "max_retries", "max_retry_wait", "deadline", "rate_limit_rpm", "cafile", "capath" }

--- Creates a client from resolved settings (see `alephant.new`).
function Client.new(settings)
  local state, err = core.state_new({
    token = settings.token, workspace_id = settings.workspace_id, base_url = settings.base_url,
    analytics_url = settings.analytics_url, gateway_url = settings.gateway_url, scope_ttl = settings.scope_ttl,
  })
  if not state then return nil, err end
  local self = setmetatable({
    allow_insecure_http = settings.allow_insecure_http or false,
    _state = state,
    _kind = state:token_kind(),
    _token_exp = settings.token_info and settings.token_info.exp,
    _transport = settings.transport,
    _now = settings.clock or core.monotonic,
    _sleep = settings.sleep or core.sleep,
    _random = core.random,
    _context_store = settings.context_store,
    _secrets = core.secrets():add(settings.token),
    _on_request = settings.on_request,
    _on_response = settings.on_response,
    -- read per call (alephant.exchange); nil rather than false: one more key would double
    -- the hash part of every client (1.39 KiB instead of 1.01 KiB)
    _observed = (settings.on_request ~= nil or settings.on_response ~= nil) or nil,
  }, Client)
  for _, k in ipairs(public_settings) do self[k] = settings[k] end
  if not self._transport then
    local terr
    self._transport, terr = core.http_new(config.transport_options(settings))
    if not self._transport then
      state:close()
      return nil, terr
    end
  end
  if settings.rate_limit_rpm and settings.rate_limit_rpm > 0 then
    self._limiter = ratelimit.new(settings.rate_limit_rpm, self._now, self._sleep)
  end
  return self
end

--- The kind of the client's token: `"jwt"`, `"pat"` or `"virtual_key"` (also once closed).
function Client:token_kind()
  return self._kind
end

--- The JWT's `exp` claim (seconds since the epoch), or nil for other kinds.
function Client:token_expires_at()
  return self._token_exp
end

--- The redacted token, safe to log (`vk-ab…3f8a`).
function Client:redacted_token()
  return (tostring(self._state):match("^alephant%.state<%S+ (.*)>$"))
end

--- The virtual key's resolved context (`workspace_id`, `virtual_key_id`, `entity_id`,
-- `entity_type`, `department_id`) while it is fresh, else nil (also once closed).
function Client:context()
  if self._closed then return nil end
  return self._state:context()
end

function Client:__tostring()
  return tostring(self._state):gsub("^alephant%.state", "alephant.client")
end

--- Releases the transport's connections and wipes the token from memory. Idempotent;
-- also runs on `__gc` and, on Lua 5.4, `__close`. Calls on a closed client return
-- `nil, err` (kind `config`), like calls on a closed transport.
function Client:close()
  self._closed = true
  if self._transport and self._transport.close then self._transport:close() end
  self._state:close()
  self._secrets:close()
end

--- Text or a table with the client's secrets (its token) replaced by their redacted
-- form, as every error and response header the client returns already is; for your
-- own log lines. Tables are scrubbed in place.
-- @param v a string or a table (anything else is returned as it is)
-- @return v scrubbed
function Client:scrub(v)
  return scrub.deep(self._secrets, v)
end
Client.__close = Client.close

-- The error of a call on a closed client.
local function closed_error(name)
  return errors.new("config", ("%s: the client is closed; make a new one with alephant.new"):format(name),
    { endpoint = name })
end

-- Why a call may not go out, before anything is sent: nil, or the error of a closed
-- client (`config`) or of a call option `deadline` / `timeout` that is no duration
-- (`validation`). The one check of `client:call`, `client:batch` and `client:request`.
local function refusal(self, name, opts)
  -- rawget: a private field that is nil would go through Client.__index
  if rawget(self, "_closed") then return closed_error(name) end
  -- the names spelled out: no table per call
  local problem, k = opts.deadline ~= nil and config.duration_problem(opts.deadline), "deadline"
  if not problem and opts.timeout ~= nil then problem, k = config.duration_problem(opts.timeout), "timeout" end
  if problem then
    return errors.new("validation", ("%s: call option '%s' %s"):format(name, k, problem),
      { field = k, endpoint = name })
  end
end
Client._refusal = refusal -- for alephant.request

--- Builds the request a call would send, without sending it (gateway tracking options
-- land in its headers).
-- @return `{method, url, headers, body, endpoint, api, family, idempotent, paging}`
-- (`family`: the route family whose envelope the answer has), or nil, err, or false,
-- "scope" when a virtual key must first resolve its workspace.
function Client:prepare(name, params)
  if self._closed and type(name) == "string" then return nil, closed_error(name) end
  local e = endpoints[name]
  if e and e.family == "gateway" then return gateway.prepare(self, name, params) end -- tracking options
  return self._state:prepare(name, params, os.time())
end

-- One HTTP exchange with retries (alephant.exchange); returns data, nil, meta or nil,
-- err. `transport` replaces the client's for this call (streams pass one that keeps
-- the response open).
function Client:_send(req, opts, transport)
  transport = transport or self._transport
  local ex, err = exchange.new(self, req, opts)
  if not ex then return nil, err end
  while true do
    local r = ex:next()
    if not r then return ex:give_up() end
    local verdict, data, derr, meta = ex:settle(transport:request(r))
    if verdict == "done" then return data, derr, meta end
    self._sleep(data) -- "retry", wait
  end
end

-- A stored context in the shape of a cockpit.scope answer, for accept_scope.
local function scope_body(ctx)
  return { workspace = { id = ctx.workspace_id }, virtual_key = { id = ctx.virtual_key_id },
    entity = { id = ctx.entity_id, type = ctx.entity_type, department_id = ctx.department_id } }
end

-- Resolves the virtual key's workspace through cockpit.scope (once per TTL).
-- `failed` (a batch's) remembers a failed lookup: later calls get its error, unsent
-- (not a timeout or network failure, which another call's deadline could change).
-- A context_store shares resolved contexts between clients (alephant.ngx: across nginx
-- workers): get(wait) returns a context stored with its fetched_at, or nil plus a handle
-- (e.g. a lock) that set(ctx_or_nil, handle) receives after this client's own attempt;
-- `wait` is what the call's deadline leaves (nil: no deadline), the most get may wait.
-- The lookup is a request of its own: the call's `timeout` and what remains of its
-- deadline, never the call's headers (its own `x-request-id`). Returns the context and
-- the call's options with the deadline the lookup left, or nil, err.
function Client:_resolve_scope(opts, failed)
  if failed and failed.err then -- each call its own copy: a caller may annotate its error
    local copy = {}
    for k, v in pairs(failed.err) do copy[k] = v end
    return nil, setmetatable(copy, getmetatable(failed.err))
  end
  local started, deadline = self._now(), opts.deadline or self.deadline
  local function left() -- what the call's deadline has left (nil: none)
    return deadline and math.max(deadline - (self._now() - started), 0)
  end
  local store, handle, ctx = self._context_store, nil, nil
  if store then
    local stored
    stored, handle = store:get(left()) -- waits at most what the deadline leaves
    if type(stored) == "table" and type(stored.fetched_at) == "number"
      and self._state:accept_scope(scope_body(stored), stored.fetched_at) then
      ctx = self._state:context(os.time())
    end
  end
  if not ctx then
    local now = os.time()
    local req, err = self._state:prepare("cockpit.scope", nil, now)
    if req then
      local data
      data, err = self:_send(req, { deadline = left(), timeout = opts.timeout })
      if data ~= nil then ctx, err = self._state:accept_scope(data, now) end
    end
    if store then
      if ctx then ctx.fetched_at = now end
      store:set(ctx, handle)
    end
    if not ctx then
      -- remembered for the batch's other calls unless another call's time could change it
      if failed and err.kind ~= "timeout" and err.kind ~= "network" then failed.err = err end
      return nil, err
    end
  end
  if deadline then -- the call has what the lookup left of its deadline (at least a try's worth of nothing)
    local rest = {}
    for k, v in pairs(opts) do rest[k] = v end
    rest.deadline = left()
    opts = rest
  end
  return ctx, opts
end

-- A call once its arguments are checked: planned, sent. Layers added with
-- Client:around run before it.
-- (Client.x(self) rather than self:x(): a client's missing keys go through Client.__index)
-- `refused_checked`: Client.call has just run `refusal` on these very options (a layer
-- may pass others: then it runs again in _request).
local function perform(self, name, params, opts, transport, refused_checked)
  local req, call_opts, rid = Client._request(self, name, params, opts, transport ~= nil, nil, refused_checked)
  if not req then return nil, call_opts end
  local data, err, meta = Client._send(self, req, call_opts, transport)
  if rid then -- a gateway call's own x-request-id, also when the server sent none (if it was sent)
    if data == nil then
      if err.attempts and err.attempts > 0 then err.request_id = err.request_id or rid end
    else
      meta.request_id = meta.request_id or rid
    end
  end
  return data, err, meta
end

--- Calls an endpoint by its catalog name.
--
--     local usage, err, meta = client:call("analytics.usage", { from = "2026-11-01", to = "2026-11-27" })
--
-- @tparam string name a catalog name such as `"analytics.usage"`
-- @tparam[opt] table params the endpoint's parameters (snake_case); for `gateway.*` names
--   also the tracking options, sent as headers (`alephant.gateway.tracking`)
-- @tparam[opt] table opts `deadline` (seconds for the whole call, retries included),
--   `timeout` (seconds per attempt; both positive and at most 2147483, else a `validation`
--   error before sending), `retry` (true to allow retrying a write), `headers` (extra
--   request headers), `extra` (fields sent verbatim under their wire names: see
--   `alephant.extra`)
-- @param[opt] transport internal: an object with `request{}` used instead of the client's
--   transport for this call (streams)
-- @return data, nil, meta on success; nil, err on failure
function Client:call(name, params, opts, transport)
  guide.check_self(self, Client, "call")
  return Client._call(self, name, params, opts, transport) -- a tail call: errors name the caller's line
end

-- Client:call once self is known to be a client (the group methods call this).
function Client:_call(name, params, opts, transport)
  opts = Client._check(self, name, params, opts, 3)
  local refused = refusal(self, name, opts)
  if refused then return nil, refused end
  -- rawget: a private field that is nil would go through Client.__index
  local around = rawget(self, "_around")
  if around then
    if opts == NO_OPTIONS then opts = {} end -- a layer's own table
    return scrub.result(self._secrets, around(self, name, params, opts, transport))
  end
  return scrub.result(self._secrets, perform(self, name, params, opts, transport, true))
end

--- Adds a layer around this client's calls: the hook point for code that decides
-- whether a call goes out or answers it itself (`alephant.ngx` checks the nginx phase
-- and serves `cockpit.budget_status` from a shared cache with it). Every call goes
-- through it: `client:call`, the group methods, iterators, gateway calls and reports
-- (not `client:batch`, whose calls are planned and sent together).
--
--     client:around(function(call, name, params, opts)
--       if name == "cockpit.budget_status" and cached then return cached, nil, { cached = true } end
--       local data, err, meta = call(name, params, opts)   -- the call itself (or the next layer)
--       return data, err, meta
--     end)
--
-- A layer gets the call after its arguments are checked (programmer errors have been
-- raised, `opts` is a table) and returns what the call returns: `data, nil, meta` or
-- `nil, err`. The last layer added runs first.
-- @tparam function layer `function(call, name, params, opts)`
-- @return the client
function Client:around(layer)
  if type(layer) ~= "function" then
    error("alephant: client:around needs a function(call, name, params, opts), got " .. type(layer), 2)
  end
  local inner = self._around or perform
  local own = self
  -- the call a layer gets, made once for the calls without a transport of their own (every
  -- call but a stream's): no closure per call and layer
  local plain = function(n, p, o) return inner(own, n, p, o) end
  self._around = function(client, name, params, opts, transport)
    local call = (transport == nil and client == own) and plain
      or function(n, p, o) return inner(client, n, p, o, transport) end
    return layer(call, name, params, opts)
  end
  return self
end

-- A call's arguments: programmer errors raise at `level` (counted as `error` counts,
-- from this function); returns the checked call options.
function Client:_check(name, params, opts, level)
  if not endpoints[name] then -- its keys are strings: a name found is one
    if type(name) ~= "string" then error("alephant: endpoint name must be a string", level) end
    local _, err = self._state:prepare(name, nil)
    error(err.message, level)
  end
  if params ~= nil and type(params) ~= "table" then
    error(("alephant: %s: params must be a table, got %s"):format(name, type(params)), level)
  end
  return check_call_options(opts, level + 2)
end

-- A call's arguments checked and turned into the request to send, the virtual key's
-- scope resolved first where the route needs it: req, call options, the gateway
-- request id (or nil); nil, err for a refusal. Programmer errors raise at `level`.
-- `call` and `batch` both plan through here (`scope`: see _resolve_scope's `failed`).
function Client:_plan(name, params, opts, streaming, level, scope)
  return self:_request(name, params, self:_check(name, params, opts, level + 1), streaming, scope)
end

-- A checked call turned into its request (see _plan); `refused_checked`: see perform.
function Client:_request(name, params, opts, streaming, scope, refused_checked)
  if not refused_checked then
    local refused = refusal(self, name, opts)
    if refused then return nil, refused end
  end
  local rid, extra = nil, opts.extra
  if endpoints[name].family == "gateway" then -- tracking options become headers (alephant.gateway)
    params, opts, rid = gateway.plan(name, params, opts, streaming)
    if not params then return nil, opts end
  end
  if opts.headers then
    local ok, herr = check_headers(name, opts.headers)
    if not ok then return nil, herr end
  end
  local req, err = self._state:prepare(name, params, os.time())
  if req == false then
    local ctx, left = self:_resolve_scope(opts, scope)
    if not ctx then return nil, scrub.deep(self._secrets, left) end
    opts = left
    req, err = self._state:prepare(name, params, os.time())
  end
  if not req then return nil, guide.token_kind_hint(err, name, self._state:token_kind()) end
  if extra then
    req, err = extra_fields.apply(endpoints[name], req, extra)
    if not req then return nil, err end
  end
  return req, opts, rid
end

--- Runs several calls at once and returns their results in the same order.
--
--     local results = client:batch({
--       { "analytics.usage", { from = "2026-11-01", to = "2026-11-30", agent_id = "agt_a" } },
--       { "analytics.usage", { from = "2026-11-01", to = "2026-11-30", agent_id = "agt_b" } },
--     }, { max_concurrency = 8 })
--     for i, r in ipairs(results) do print(i, r.data and "ok" or tostring(r.err)) end
--
-- Each call keeps every rule of `client:call`: its arguments are checked and its
-- request built before anything of the batch is sent (a refused call gets its error
-- and is not sent), a virtual key's workspace is resolved once for all, and each
-- request has its own retries, rate limiting, deadline and timeout. See
-- `alephant.batch`.
-- @tparam table calls a list of `{ name, params, opts }` (as `client:call` takes them)
-- @tparam[opt] table options `max_concurrency` (1-64, default 8)
-- @treturn table a list of `{ data = ..., err = ..., meta = ... }`, one per call
function Client:batch(calls, options)
  guide.check_self(self, Client, "batch")
  local results = batch.run(self, calls, options) -- not a tail call: errors name the caller's line
  return results
end

--- Sends a request the catalog does not describe, with the rules of its route family
-- (token kinds, `X-Workspace-Id`, envelope, retries, header and path checks): see
-- `alephant.request`.
--
--     local agent, err, meta = client:request("GET", "/api/v1/agents/" .. id)
--
-- @tparam string method `"GET"`, `"POST"`, ...
-- @tparam string path `/api/v1/...` (SaaS), `/v1/analytics/...` (Analytics API) or a
--   gateway path (`/chat/completions`, `/health`)
-- @tparam[opt] table opts `query`, `body`, `headers`, `api`, `deadline`, `timeout`, `retry`
-- @return data, nil, meta; or nil, err
function Client:request(method, path, opts)
  guide.check_self(self, Client, "request")
  return scrub.result(self._secrets, raw.send(self, method, path, opts)) -- no secret comes back
end

--- A run context: gateway calls and agent events with the same attribution
-- (see `alephant.gateway.run`).
--
--     local run = assert(client:run{ agent_id = "agt_support_bot", session = { id = "sess_42" } })
--     run:chat{ model = ..., messages = ... }
--
-- @tparam[opt] table options `agent_id`, `run_id` (default `"run_" .. uuid4`), `session`,
--   `properties`, `cache`, `omit_request`, `omit_response`
-- @return the run (`run.run_id`), or nil and a `validation` error
function Client:run(options)
  local r, err = run.new(self, options) -- not a tail call: errors name the caller's line
  return r, err
end

return Client
