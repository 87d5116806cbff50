--- A call started now and finished later (pagination's `prefetch`): `client:call` in two
-- halves, with every rule of a single call kept. At the start the call is checked and
-- planned (programmer errors raise, refusals and validation errors are kept for the
-- finish: nothing is sent for them), its exchange made (the deadline counts from here),
-- the rate limiter gives its token and `on_request` fires, and the first attempt is
-- sent on the transport's `start` (`http:start`: sent, not waited for). At the finish
-- the answer is taken and handled exactly as a first attempt's (`alephant.exchange`:
-- status mapping, errors, meta, request id, `on_response`), then retried the normal
-- way, one blocking attempt after another. The attempt's `timeout` runs from the start too:
-- a caller that takes longer than that before finishing gets the attempt's timeout (libcurl
-- checks its timer before it reads the answer), retried like any other.
--
-- Only a transport with `start` can start a request (the built-in libcurl one: `start`
-- returns an object with `finish()`, giving what `request` gives, and `close()`): with a
-- custom `transport` without it (`alephant.ngx`'s included), a layer added with `client:around` (every call must go
-- through it, and a layer answers synchronously), and for gateway calls (their own
-- request id; never paged), `start` returns nil and the caller simply makes the call
-- when it needs its answer.
--
-- A started call that is never finished is cancelled by `cancel`, when it is collected
-- (the transport's request is a userdata with `__gc`) and when the client is closed
-- (closing the transport detaches it). Its `on_request` has fired; no `on_response` will.
-- What `on_request` raises at the start is raised again by the finish (after the
-- closed-client check, as a call made then would).
-- @module alephant.started
local exchange = require "alephant.exchange"
local scrub = require "alephant.scrub"

local started = {}

local Started = {}
Started.__index = Started

-- A transport that can send ahead: one with `start` (as batches look for
-- `request_many`); the built-in one (core.http_new) has it.
local function can_start(transport)
  return transport ~= nil and transport.start ~= nil
end

--- Starts a call (see the module).
-- @param client the client
-- @tparam string name a catalog name
-- @tparam[opt] table params the endpoint's parameters
-- @tparam[opt] table opts call options (as `client:call` takes them)
-- @return the started call (`finish`, `cancel`), or nil when this client cannot start
-- calls (then make the call itself later)
function started.start(client, name, params, opts)
  -- rawget: private fields that are nil would go through Client.__index
  local transport = rawget(client, "_transport")
  if rawget(client, "_around") or not can_start(transport) then return nil end
  opts = client:_check(name, params, opts, 3)
  local self = setmetatable({ client = client, name = name, opts = opts }, Started)
  local req, call_opts, rid = client:_request(name, params, opts, false)
  if rid then return nil end -- a gateway call: its request id is perform's (client.lua)
  if not req then
    self.err = call_opts
    return self
  end
  local ex, err = exchange.new(client, req, call_opts)
  if not ex then
    self.err = err
    return self
  end
  self.ex, self.transport = ex, transport
  -- the rate limiter's token, on_request; nil: the deadline has passed. What it raises
  -- (an on_request hook's error) is raised by the finish, where a call made then would
  -- have raised it: a loop still gets the previous page's items first.
  local ok, r = pcall(ex.next, ex)
  if not ok then
    self.raise = r
    return self
  end
  if r then self.pending, self.terr = transport:start(r) end
  return self
end

--- The call's result, as `client:call` returns it: `data, nil, meta` or `nil, err`.
-- A client closed since the start gives the closed client's error. Once only.
function Started:finish()
  if self.finished then error("alephant: internal: a started call was finished twice", 2) end
  local c, ex, p = self.client, self.ex, self.pending
  self.pending, self.finished = nil, true
  local refused = c._refusal(c, self.name, self.opts) -- closed since the start?
  if refused then
    if p then p:close() end
    return scrub.result(c._secrets, nil, refused)
  end
  if self.err then return scrub.result(c._secrets, nil, self.err) end
  if self.raise ~= nil then error(self.raise, 0) end
  if not p and not self.terr then return scrub.result(c._secrets, ex:give_up()) end
  local verdict, data, derr, meta
  if p then
    verdict, data, derr, meta = ex:settle(p:finish())
  else
    verdict, data, derr, meta = ex:settle(nil, self.terr)
  end
  while verdict ~= "done" do -- retries, as Client:_send makes them
    c._sleep(data)
    local r = ex:next()
    if not r then return scrub.result(c._secrets, ex:give_up()) end
    verdict, data, derr, meta = ex:settle(self.transport:request(r))
  end
  return scrub.result(c._secrets, data, derr, meta)
end

--- Cancels the request if it is still pending (idempotent).
function Started:cancel()
  local p = self.pending
  self.pending = nil
  if p then p:close() end
end

return started
