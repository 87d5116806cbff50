--- One request's way through its attempts: the body encoded once, the call's headers
-- merged, then per attempt the transport request to send and what its answer means
-- (done, or retry after a wait). `Client:_send` drives one exchange at a time;
-- `Client:batch` drives many at once. Both get every rule from here: retries for
-- idempotent requests only, Retry-After within `max_retry_wait` and the deadline,
-- backoff with jitter, rate limiting, scope invalidation after a 401.
-- @module alephant.exchange
local core = require "alephant.core"
local errors = require "alephant.errors"
local hooks = require "alephant.hooks"
local response = require "alephant.response"
local retry = require "alephant.retry"
local scrub = require "alephant.scrub"

local exchange = {}

local Exchange = {}
Exchange.__index = Exchange

--- Adds a call's headers to a request's; names compare without case, so a call header
-- replaces the request's own header of that name instead of going out next to it.
-- @treturn table headers, and the names by their lower-case form
function exchange.merge_headers(headers, extra)
  local names = {}
  for k in pairs(headers) do
    if type(k) == "string" then names[k:lower()] = k end -- another key is refused later (check_headers)
  end
  for k, v in pairs(extra or {}) do
    local lower = k:lower()
    if names[lower] then headers[names[lower]] = nil end
    headers[k], names[lower] = v, k
  end
  return headers, names
end

--- Starts an exchange for a prepared request (`Client:prepare`'s table).
-- @param client the client (its clock, sleep, limiter, retry settings and state)
-- @tparam table req the prepared request
-- @tparam table opts the checked call options
-- @return the exchange, or nil, err when the body cannot be encoded
function exchange.new(client, req, opts)
  local body
  if req.body ~= nil then
    local err
    body, err = core.json_encode(req.body)
    if not body then
      err.endpoint = req.endpoint
      return nil, err
    end
  end
  -- a secret in a call's own headers (an embeddings key, an API key) is scrubbed like the
  -- token; the request's headers from the core hold no other secret than the token
  local headers, rid_name = req.headers, nil
  if opts.headers then
    scrub.remember(client._secrets, opts.headers)
    local names
    headers, names = exchange.merge_headers(headers, opts.headers)
    rid_name = names["x-request-id"]
  end -- else no merge (and its tables): the core's request headers never hold an x-request-id
  if not rid_name then
    rid_name = "x-request-id"
    headers[rid_name] = core.uuid4()
  end
  local may_retry = req.idempotent or opts.retry == true
  -- rawget: the client's nil options would go through Client.__index
  local deadline = opts.deadline or rawget(client, "deadline")
  -- 8 fields, the hash part of a table made at that size (a 9th would double it: 448
  -- bytes per call instead of 256); the headers are req.headers (merge_headers merges
  -- in place)
  local ex = setmetatable({
    client = client, req = req, body = body,
    may_retry = may_retry, max_attempts = may_retry and client.max_retries + 1 or 1,
    -- when the deadline passes, on the client's clock; the clock is read only for a
    -- call with a deadline (no C call for one without)
    ends_at = deadline and client._now() + deadline,
    timeout = opts.timeout or client.timeout,
    attempt = 0, -- later: last_err, and with hooks request_id, info, sent_at
  }, Exchange)
  if rawget(client, "_observed") then ex.request_id = headers[rid_name] end -- on_request or on_response
  return ex
end

--- The next attempt's transport request (`{method, url, headers, body, timeout}`),
-- after the rate limiter let it go; nil when the deadline has passed (then `give_up`).
function Exchange:next()
  local c = self.client
  self.attempt = self.attempt + 1
  local limiter = rawget(c, "_limiter") -- nil without rate_limit_rpm: not through Client.__index
  if limiter then limiter:take() end
  local remaining = self.ends_at and self.ends_at - c._now()
  if remaining and remaining <= 0 then return nil end
  local req = self.req
  if self.request_id then -- the observability hooks (alephant.hooks)
    self.info = hooks.request_info(req, self.attempt, self.request_id)
    if c._on_request then c._on_request(self.info) end
    self.sent_at = c._now()
  end
  return { method = req.method, url = req.url, headers = req.headers, body = self.body,
    timeout = remaining and math.min(self.timeout, remaining) or self.timeout }
end

local settle

--- What an attempt's outcome means (and, with an `on_response` hook, the hook's call).
-- @param res the transport's response, or nil
-- @param terr the transport's error when `res` is nil
-- @return `"done", data, err, meta` (the call's result) or `"retry", wait` (seconds)
function Exchange:settle(res, terr)
  local on_response = self.info and self.client._on_response
  if not on_response then return settle(self, res, terr) end
  local duration = self.client._now() - self.sent_at
  local verdict, a, b, meta = settle(self, res, terr)
  local ok = verdict == "done" and a ~= nil
  on_response(hooks.response_info(self.info, duration, res, ok,
    not ok and (verdict == "done" and b or self.last_err) or nil))
  return verdict, a, b, meta
end

function settle(self, res, terr)
  local c, req = self.client, self.req
  local wait
  if res then
    local data, err, meta = response.handle(req, res, req.family, self.attempt)
    if data ~= nil then return "done", data, nil, meta end
    err.attempts = self.attempt
    if res.status == 401 and c._state:token_kind() == "virtual_key" then c._state:invalidate_scope() end
    if not err.retryable then return "done", nil, err end
    self.last_err = err
    wait = err.retry_after
    -- a server's wait past max_retry_wait or the deadline is not waited: the caller decides
    if wait and self.attempt < self.max_attempts
      and (wait > c.max_retry_wait or self.ends_at and c._now() + wait >= self.ends_at) then
      err.message = ("%s (not waited: longer than %s)"):format(err.message,
        wait > c.max_retry_wait and ("max_retry_wait = " .. c.max_retry_wait .. " s") or "the deadline")
      return "done", nil, err
    end
  else
    terr.endpoint = req.endpoint
    terr.attempts = self.attempt
    if not terr.retryable then return "done", nil, terr end
    self.last_err = terr
  end
  if self.attempt >= self.max_attempts then return "done", self:give_up() end
  wait = wait or retry.backoff(self.attempt, c._random)
  if self.ends_at and c._now() + wait >= self.ends_at then return "done", self:give_up() end
  return "retry", wait
end

--- The error of an exchange that ran out of attempts or time: nil, err.
function Exchange:give_up()
  local req, last_err = self.req, self.last_err
  if last_err == nil then -- nothing was sent: no attempt to count, no retry it could have had
    return nil, errors.new("timeout", req.endpoint .. ": the deadline passed before the request could be sent",
      { endpoint = req.endpoint, retryable = true, attempts = 0 })
  end
  if not self.may_retry and last_err.retryable then
    last_err.message = last_err.message .. " (not retried: " .. req.method ..
      " is not idempotent; pass retry = true to opt in)"
  end
  return nil, last_err
end

return exchange
