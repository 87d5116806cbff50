-- Handlers for the nginx the spec/ngx specs start: each makes an SDK call with
-- alephant.ngx from one nginx context and answers what came back as JSON.
-- Query arguments choose the call and the client options:
--   call=cockpit.budget_status (default) | cockpit.scope | collector.usage | gateway.chat
--   mode=thread (default) | blocking       pool=NAME (thread pool)
--   dict=NAME (lua_shared_dict, default "alephant"; "none" for no sharing)
--   budget_ttl=S  scope_ttl=S  timeout=S  lock_timeout=S  retries=N (default 0)  fault=X-Emulator-Fault value
--   max_retry_wait=S  proxy=URL  base_url=URL  insecure=1 (allow_insecure_http)
--   batch=1 (the call through client:batch)  reuse=1 (one client per worker instead of one per request)
--   break_path=resty|alephant  env_token=1 (the key from ALEPHANT_TOKEN instead of the Authorization header;
--   content only)
-- The virtual key comes from the request's Authorization header (the timer gets it as
-- an argument), URLs from the ALEPHANT_*_BASE_URL environment (`env` directives).
local alephant_ngx = require "alephant.ngx"
local core = require "alephant.core"

local ngx = ngx -- luacheck: ignore 113

local M = {}

local function today()
  return os.date("!%Y-%m-%d")
end

local function chat()
  return { model = "openai/gpt-4o-mini", messages = { { role = "user", content = "hello from nginx" } } }
end

local params = {
  ["collector.usage"] = function() return { from = today(), to = today() } end,
  ["gateway.chat"] = chat,
}

local reused = {}

local function client_for(token, args)
  local opts = {
    token = token, max_retries = tonumber(args.retries) or 0,
    thread_pool = args.pool, blocking = args.mode == "blocking" or nil,
    shared_dict = args.dict ~= "none" and (args.dict or "alephant") or nil,
    budget_cache_ttl = tonumber(args.budget_ttl), scope_ttl = tonumber(args.scope_ttl),
    timeout = tonumber(args.timeout), lock_timeout = tonumber(args.lock_timeout),
    max_retry_wait = tonumber(args.max_retry_wait), proxy = args.proxy, base_url = args.base_url,
    allow_insecure_http = args.insecure and true or nil,
  }
  if args.reuse then
    local key = ngx.md5(token .. tostring(args.mode))
    if not reused[key] then reused[key] = alephant_ngx.new(opts) end
    return reused[key]
  end
  return alephant_ngx.new(opts)
end

--- Makes the call; returns a plain summary table.
function M.run(args, token)
  local out = { worker = ngx.worker.id(), pid = ngx.worker.pid(), phase = ngx.get_phase() }
  local client, err = client_for(token or "", args)
  if client then
    local name = args.call or "cockpit.budget_status"
    local call_opts = args.fault and { headers = { ["X-Emulator-Fault"] = args.fault } } or nil
    -- break_path=resty|alephant: the worker-thread VM made for this call cannot find
    -- resty.core (then nginx cannot build it) or alephant
    local path, cpath = package.path, package.cpath
    if args.break_path == "resty" then package.path, package.cpath = "/nonexistent/?.lua", "/nonexistent/?.so" end
    if args.break_path == "alephant" then
      package.path, package.cpath = "/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua", "/nonexistent/?.so"
    end
    local ok, data, meta
    local p = params[name] and params[name]() or nil
    if args.batch then -- the same call through client:batch (its transport's request_many)
      ok, data = pcall(client.batch, client, { { name, p, call_opts } })
      if ok then data, err, meta = data[1].data, data[1].err, data[1].meta end
    else
      ok, data, err, meta = pcall(client.call, client, name, p, call_opts)
    end
    package.path, package.cpath = path, cpath
    if not ok then
      out.raised, data, err = tostring(data), nil, nil
    end
    if data ~= nil then
      out.ok, out.status, out.cached, out.attempts = true, meta.status, meta.cached or false, meta.attempts
      if name == "cockpit.scope" then out.workspace_id = data.workspace and data.workspace.id end
      if name == "cockpit.budget_status" then
        out.budget_cents = data.virtual_key_budget and data.virtual_key_budget.budget_cents
      end
      if name == "gateway.chat" then out.reply = data.choices[1].message.content end
      local ctx = client:context()
      out.context_workspace_id = ctx and ctx.workspace_id
    end
  end
  if err then
    out.ok, out.err = false, { kind = err.kind, message = err.message, status = err.status,
      retry_after = err.retry_after, attempts = err.attempts }
  end
  if out.raised then out.ok = false end
  ngx.update_time()
  out.t_done = ngx.now()
  return out
end

local function token_from_request()
  return (ngx.var.http_authorization or ""):match("^Bearer%s+(%S+)$")
end

local function say(t)
  ngx.header["Content-Type"] = "application/json"
  ngx.say(core.json_encode(t))
end

function M.content()
  local args = ngx.req.get_uri_args()
  -- env_token=1: the key from ALEPHANT_TOKEN (load generators send no header)
  say(M.run(args, args.env_token and os.getenv("ALEPHANT_TOKEN") or token_from_request()))
end

-- client:batch of n=N cockpit.scope calls (default 6), each with the fault, at most
-- conc=N at once: the workspace ids, or the errors, in order.
function M.batch()
  local args = ngx.req.get_uri_args()
  local client, err = client_for(token_from_request() or "", args)
  if not client then return say({ ok = false, err = { kind = err.kind, message = err.message } }) end
  local calls = {}
  for i = 1, tonumber(args.n) or 6 do
    calls[i] = { "cockpit.scope", nil, args.fault and { headers = { ["X-Emulator-Fault"] = args.fault } } or nil }
  end
  local out = { ok = true, results = {} }
  for i, r in ipairs(client:batch(calls, { max_concurrency = tonumber(args.conc) })) do
    out.results[i] = r.data and { workspace_id = r.data.workspace.id, attempts = r.meta.attempts }
      or { err = { kind = r.err.kind, message = r.err.message } }
  end
  say(out)
end

-- A streamed answer (client.gateway:chat_stream, or ?method=responses_stream): the
-- text, or the error.
function M.stream()
  local args = ngx.req.get_uri_args()
  local out = { worker = ngx.worker.id() }
  local client, err = client_for(token_from_request() or "", args)
  if client then
    local parts = {}
    local s
    if args.method == "responses_stream" then
      s = client.gateway:responses_stream{ model = "openai/gpt-4o-mini", input = "hello from nginx" }
    else
      s = client.gateway:chat_stream(chat())
    end
    for event, serr in s do
      if not event then
        err = serr
        break
      end
      local delta = event.choices and event.choices[1] and event.choices[1].delta
      if event.type == "response.output_text.delta" then delta = { content = event.delta } end
      parts[#parts + 1] = delta and delta.content or nil
    end
    out.ok, out.text, out.events = err == nil, table.concat(parts), s.events
  end
  if err then out.ok, out.err = false, { kind = err.kind, message = err.message } end
  say(out)
end

-- The transport alone, given a request the client would never build (a header value
-- that is not a string): the programmer error raised in the worker thread.
function M.raw_transport()
  local t = alephant_ngx.transport()
  local ok, err = pcall(t.request, t, { method = "GET", url = os.getenv("ALEPHANT_API_BASE_URL") .. "/",
    headers = { ["X-Bad"] = 5 }, timeout = 5 })
  say({ ok = ok, raised = not ok and tostring(err) or nil })
end

-- rewrite_by_lua / access_by_lua: the call runs in that phase, content answers.
function M.early()
  ngx.ctx.result = M.run(ngx.req.get_uri_args(), token_from_request())
end

function M.early_content()
  say(ngx.ctx.result or { ok = false, err = { message = "no result from the earlier phase" } })
end

local function wait_result(key)
  local results = ngx.shared.results
  for _ = 1, 1000 do
    local v = results:get(key)
    if v then return v end
    ngx.sleep(0.01)
  end
  return core.json_encode({ ok = false, err = { message = "no result for " .. key } })
end

-- The call runs in a timer started here; the content phase waits for its result.
function M.timer()
  local args, token = ngx.req.get_uri_args(), token_from_request()
  local key = "timer:" .. tostring(args.id)
  local ok, err = ngx.timer.at(0, function(premature)
    if premature then return end
    ngx.shared.results:set(key, core.json_encode(M.run(args, token)))
  end)
  if not ok then return say({ ok = false, err = { message = "timer: " .. tostring(err) } }) end
  ngx.header["Content-Type"] = "application/json"
  ngx.say(wait_result(key))
end

-- log_by_lua, header_filter_by_lua: the call's outcome goes into the results dict
-- under "<phase>:<id>".
function M.record()
  local args = ngx.req.get_uri_args()
  ngx.shared.results:set(ngx.get_phase() .. ":" .. tostring(args.id),
    core.json_encode(M.run(args, token_from_request())))
end

function M.result()
  local v = ngx.shared.results:get(ngx.var.arg_key)
  ngx.header["Content-Type"] = "application/json"
  ngx.say(v or "null")
end

-- init_worker_by_lua: a call with the token from the environment.
function M.init_worker()
  local r = M.run({}, os.getenv("ALEPHANT_TOKEN"))
  ngx.shared.results:set("init_worker:" .. ngx.worker.id(), core.json_encode(r))
end

-- The cache's lock race, made to happen: another worker stores the value and lets go
-- of the lock between this request's look and its `add` of the lock. The real dict is
-- wrapped only to run that other worker's part at that moment (two workers cannot be
-- made to interleave there on demand). Says what acquire returned.
function M.cache_race()
  local cache = assert(require("alephant.ngx.cache").new("alephant"))
  local key = "race:" .. tostring(ngx.var.arg_id)
  local real = cache.dict
  cache.dict = setmetatable({
    add = function(_, k, ...)
      if k == key .. ":lock" then -- the other worker: fetched, stored (the dict only), let go
        cache:set(key, { fetched_by = "the other worker" }, 10)
        cache.lru:delete(key)
      end
      return real:add(k, ...)
    end,
  }, { __index = function(_, name) return function(_, ...) return real[name](real, ...) end end })
  local ok, value, handle = pcall(cache.acquire, cache, key, 1)
  cache.dict = real
  say({ ok = ok, value = value, locked = handle ~= nil, lock_left = real:get(key .. ":lock") ~= nil })
end

-- Every key and value of a shared dict (to show no token is stored).
function M.dump()
  local dict = ngx.shared[ngx.var.arg_dict or "alephant"]
  local out = {}
  for _, k in ipairs(dict:get_keys(0)) do out[#out + 1] = { key = k, value = tostring(dict:get(k)) } end
  say({ entries = out })
end

return M
