--- Tracing a gateway call to its request log (`collector.request_log`).
--
--     local reply, err, meta = client.gateway:chat{ ... }
--     local log, err = client.collector:request_log(meta.request_id, { wait = 5 })
--     print(log.row.cost, log.row.agent_id)
--
-- Request logs are written asynchronously: until the gateway's log is ingested the
-- Analytics API answers 404 with code 40401. With `wait = seconds` the lookup polls
-- while it gets that answer, sleeping 0.1 s, then twice as long each time up to 2 s,
-- never past the end of the wait; when the wait ends it returns a `timeout` error
-- naming the request id. Without `wait` it is a single call. Each poll is an ordinary
-- call, with its own retries on network errors, 429 and 5xx.
-- @module alephant.gateway.trace
local errors = require "alephant.errors"

local trace = {}

--- First pause between polls, seconds.
trace.first_delay = 0.1
--- Longest pause between polls, seconds.
trace.max_delay = 2

local NAME = "collector.request_log"

local function not_yet(err)
  return err.status == 404 or err.code == 40401
end

--- Looks up a request log, optionally waiting for it to be ingested.
-- @tparam table client the client
-- @param request `"<request id>"` or the generic params table `{request_id = ...}`
-- @tparam[opt] table opts `wait` (seconds to keep polling while the log is not ingested
--   yet) plus the call options (`deadline` bounds the whole lookup, waits included)
-- @return data (`{row = {...}}`), nil, meta (`polls`, `waited` added); or nil, err
function trace.request_log(client, request, opts)
  local params
  if type(request) == "string" then
    params = { request_id = request }
  elseif type(request) == "table" or request == nil then
    params = request
  else
    error(("alephant: %s: request must be a request id string or a params table, got %s"):format(NAME,
      type(request)), 3)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(("alephant: %s: options must be a table, got %s"):format(NAME, type(opts)), 3)
  end
  local wait = opts and opts.wait
  if wait ~= nil and (type(wait) ~= "number" or wait ~= wait or wait < 0 or wait == math.huge) then
    error(("alephant: %s: wait must be a finite number of seconds >= 0"):format(NAME), 3)
  end
  local call_opts
  if opts then
    call_opts = {}
    for k, v in pairs(opts) do
      if k ~= "wait" then call_opts[k] = v end
    end
  end
  if wait == nil then return client:call(NAME, params, call_opts) end

  local now, sleep = client._now, client._sleep
  local start = now()
  local deadline = call_opts.deadline or client.deadline
  local limit = deadline and math.min(wait, deadline) or wait
  local delay, polls = trace.first_delay, 0
  local rid = type(params) == "table" and params.request_id or nil
  while true do
    polls = polls + 1
    if deadline then call_opts.deadline = math.max(deadline - (now() - start), 0.001) end
    local data, err, meta = client:call(NAME, params, call_opts)
    if data ~= nil then
      meta.polls = polls
      meta.waited = now() - start
      return data, nil, meta
    end
    if not not_yet(err) then return nil, err end
    local left = limit - (now() - start)
    if left <= 0 then
      return nil, errors.new("timeout", ("%s: request log %s was not ingested within %g s (%d poll%s, last "
        .. "answer HTTP %s%s)"):format(NAME, tostring(rid), limit, polls, polls == 1 and "" or "s",
        tostring(err.status), err.code and (" code " .. tostring(err.code)) or ""),
        { request_id = rid, endpoint = NAME, status = err.status, code = err.code, attempts = polls,
          retryable = true })
    end
    sleep(math.min(delay, left))
    delay = math.min(delay * 2, trace.max_delay)
  end
end

--- Installs `request_log(request, opts)` in the collector group's class (once per VM).
-- @tparam table methods the class's method table (`__index`)
function trace.install(methods)
  methods.request_log = function(self, request, opts)
    return trace.request_log(self._client, request, opts)
  end
end

return trace
