--- Several calls at once (`client:batch`): every call is planned first, exactly as
-- `client:call` plans it (arguments checked, request built, a virtual key's workspace
-- resolved once for all), then the planned requests go out together on the transport's
-- `request_many` (libcurl's multi interface: at most `max_concurrency` in flight, one
-- HTTP/2 connection over TLS when the server offers it). Each request keeps its own
-- retries, waits, rate limiting and deadline (`alephant.exchange`): the ones that must
-- wait go out again in a later round while the others are done.
--
-- A transport without `request_many` (a custom one) gets the requests one after
-- another: same results, no concurrency.
-- @module alephant.batch
local exchange = require "alephant.exchange"
local scrub = require "alephant.scrub"

local batch = {}

--- The default number of requests in flight at once.
batch.max_concurrency = 8

local function check_options(options)
  if options == nil then return batch.max_concurrency end
  if type(options) ~= "table" then error("alephant: batch options must be a table, got " .. type(options), 4) end
  for k in pairs(options) do
    if k ~= "max_concurrency" then
      error(("alephant: unknown batch option '%s' (known: max_concurrency)"):format(tostring(k)), 4)
    end
  end
  local n = options.max_concurrency
  if n == nil then return batch.max_concurrency end
  if type(n) ~= "number" or n ~= math.floor(n) or n < 1 or n > 64 then
    error("alephant: batch option 'max_concurrency' must be an integer from 1 to 64", 4)
  end
  return n
end

-- Sends one round: the requests of `ready` (exchanges) at once, or one by one.
local function send_round(transport, reqs, concurrency)
  if transport.request_many then
    local out, err = transport:request_many(reqs, concurrency)
    if not out then -- the transport itself failed (closed): the same error for each
      out = {}
      for i = 1, #reqs do out[i] = { err = err } end
      return out
    end
    for i, r in ipairs(out) do
      if r.kind then out[i] = { err = r } else out[i] = { res = r } end
    end
    return out
  end
  local out = {}
  for i, r in ipairs(reqs) do
    local res, err = transport:request(r)
    out[i] = { res = res, err = err }
  end
  return out
end

--- Runs the calls; see `Client:batch`.
-- @param client the client
-- @tparam table calls a list of `{ name, params, opts }`
-- @tparam[opt] table options `max_concurrency`
-- @treturn table a list of `{ data, err, meta }` in the order of `calls`
function batch.run(client, calls, options)
  if type(calls) ~= "table" then error("alephant: batch: calls must be a list, got " .. type(calls), 3) end
  local concurrency = check_options(options)
  local results, pending = {}, {}
  local scope = {} -- a failed scope lookup is made once: every call that needs it gets its error
  local n = #calls
  -- a call past a hole would be neither sent nor answered: refuse what # cannot see
  for k in pairs(calls) do
    if type(k) ~= "number" or k < 1 or k > n or k % 1 ~= 0 then
      error(("alephant: batch: calls must be a list (keys 1 to #calls = %d, no holes), got the key %s")
        :format(n, tostring(k)), 3)
    end
  end
  -- plan every call before anything of the batch is sent
  for i = 1, n do
    local c = calls[i]
    if type(c) ~= "table" then
      error(("alephant: batch: call %d must be a table { name, params, opts }, got %s"):format(i, type(c)), 3)
    end
    local req, opts, rid = client:_plan(c[1], c[2], c[3], false, 4, scope)
    if req then
      local ex, err = exchange.new(client, req, opts)
      if ex then
        ex.index, ex.rid, ex.ready_at = i, rid, 0
        pending[#pending + 1] = ex
      else
        results[i] = { err = err }
      end
    else
      results[i] = { err = opts }
    end
  end
  local function finish(ex, data, err, meta)
    if ex.rid then
      if data ~= nil then
        meta.request_id = meta.request_id or ex.rid
      elseif err.attempts and err.attempts > 0 then -- it was sent: its id may be looked up
        err.request_id = err.request_id or ex.rid
      end
    end
    data, err, meta = scrub.result(client._secrets, data, err, meta) -- as client:call: no secret comes back
    results[ex.index] = { data = data, err = err, meta = meta }
  end
  -- rounds: every exchange whose wait is over goes out; the rest wait for a later round
  while #pending > 0 do
    local now = client._now()
    local ready, later, reqs = {}, {}, {}
    local soonest
    for _, ex in ipairs(pending) do
      if ex.ready_at <= now then
        local r = ex:next()
        if r then
          ready[#ready + 1], reqs[#reqs + 1] = ex, r
        else
          finish(ex, ex:give_up())
        end
      else
        later[#later + 1] = ex
        if not soonest or ex.ready_at < soonest then soonest = ex.ready_at end
      end
    end
    if #reqs > 0 then
      local out = send_round(client._transport, reqs, concurrency)
      local after = client._now()
      for i, ex in ipairs(ready) do
        local verdict, data, err, meta = ex:settle(out[i].res, out[i].err)
        if verdict == "done" then
          finish(ex, data, err, meta)
        else
          ex.ready_at = after + data -- "retry", wait
          later[#later + 1] = ex
          if not soonest or ex.ready_at < soonest then soonest = ex.ready_at end
        end
      end
    elseif soonest then
      client._sleep(math.max(0, soonest - now))
    end
    pending = later
  end
  return results
end

return batch
