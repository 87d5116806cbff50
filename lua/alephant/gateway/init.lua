--- The AI gateway group (`client.gateway`): every `gateway.*` catalog method with
-- tracking options, plus the streams `chat_stream`, `responses_stream`,
-- `messages_stream` and `completions_stream`.
--
--     local reply, err, meta = client.gateway:chat{
--       model = "openai/gpt-4o-mini",
--       messages = { { role = "user", content = "hello" } },
--       agent_id = "agt_support_bot", session = { id = "sess_42", path = "/triage" },
--     }
--     print(meta.request_id)   -- the x-request-id, for client.collector:request_log
--
-- Tracking options (`alephant.gateway.tracking`) are taken out of the parameters and sent as
-- headers; the rest is the JSON body. This happens for every `gateway.*` call, however it
-- is made: `client.gateway:<method>`, `client:call("gateway.<method>", ...)`,
-- `client:prepare`, a run's methods. Every call sends an `x-request-id`: the
-- `request_id` option, else an `x-request-id` in the call's `headers`, else a new
-- UUID v4; it comes back in `meta.request_id` and, on failure, in `err.request_id`.
-- A tracking option wins over a header of the same name (compared case-insensitively)
-- in the call's `headers`.
-- @module alephant.gateway
local assemble = require "alephant.gateway.assemble"
local core = require "alephant.core"
local errors = require "alephant.errors"
local events = require "alephant.gateway.events"
local exchange = require "alephant.exchange"
local stream = require "alephant.gateway.stream"
local tracking = require "alephant.gateway.tracking"

local gateway = {}

--- Default per-attempt timeout of a stream, in seconds: it bounds the whole stream,
-- first byte to its last event, so it is longer than the client's `timeout` for one answer.
gateway.STREAM_TIMEOUT = 600

--- The stream methods and the endpoint each one streams.
gateway.streams = {}
for method, kind in pairs(assemble.kinds) do gateway.streams[method] = kind.endpoint end

-- The stream method of an endpoint, for messages ("gateway.chat" -> "chat_stream").
local stream_of = {}
for method, kind in pairs(assemble.kinds) do stream_of[kind.endpoint] = method end

-- Checks the arguments every gateway method shares (programmer errors raise, blaming
-- the method's caller).
local function check_args(name, params, opts, level)
  level = level or 3
  if params ~= nil and type(params) ~= "table" then
    error(("alephant: %s: params must be a table, got %s"):format(name, type(params)), level)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(("alephant: %s: call options must be a table, got %s"):format(name, type(opts)), level)
  end
end

-- The call options with the tracking headers merged in, and the request id.
local function with_headers(opts, headers)
  local out, merged = {}, {}
  for k, v in pairs(opts or {}) do out[k] = v end
  if type(out.headers) == "table" then
    for k, v in pairs(out.headers) do merged[k] = v end
  end
  local names
  merged, names = exchange.merge_headers(merged, headers) -- a tracking header wins over the call's
  local rid_name = names["x-request-id"]
  local rid = rid_name and merged[rid_name] or core.uuid4()
  if rid_name then merged[rid_name] = nil end
  merged["x-request-id"] = rid
  out.headers = merged
  return out, rid
end

-- The body and the tracking headers of a gateway call, or nil, err.
local function split(name, params, streaming)
  local body, options = tracking.split(params, name == "gateway.agent_events")
  if not body then
    options.endpoint = name
    return nil, options
  end
  local headers, err = tracking.headers(options)
  if not headers then
    err.endpoint = name
    return nil, err
  end
  if body.stream == true and not streaming then
    local method = stream_of[name]
    return nil, errors.new("validation", ("%s: stream = true needs %s (this method reads one JSON answer)")
      :format(name, method or "a stream method; this endpoint does not stream"), { field = "stream", endpoint = name })
  end
  if name == "gateway.agent_events" then
    body = events.attribute(body, options.agent_id, options.run_id, options.agent_name)
    local ok
    ok, err = events.check(body)
    if not ok then
      err.endpoint = name
      return nil, err
    end
  end
  return body, headers
end

--- Plans a gateway call: splits the tracking options out of `params` into headers.
-- The one implementation behind every path (`client:call`, `client:prepare`, the group
-- methods, runs, streams).
-- @tparam string name a `gateway.*` catalog name
-- @tparam[opt] table params body parameters and tracking options
-- @tparam[opt] table opts call options (checked)
-- @tparam[opt] boolean streaming true for a stream (allows `stream = true`)
-- @return body, call options (headers merged, `x-request-id` set), request id; or nil, err
function gateway.plan(name, params, opts, streaming)
  local body, headers = split(name, params, streaming)
  if not body then return nil, headers end
  local call_opts, rid = with_headers(opts, headers)
  return body, call_opts, rid
end

--- The request a gateway call would send (what `client:prepare` does for a `gateway.*`
-- name): tracking options become headers, never body fields.
-- @return the request, or nil, err, or false, "scope"
function gateway.prepare(client, name, params)
  if params ~= nil and type(params) ~= "table" then
    error(("alephant: %s: params must be a table, got %s"):format(name, type(params)), 3)
  end
  local body, headers = split(name, params, true)
  if not body then return nil, headers end
  local req, err = client._state:prepare(name, body, os.time())
  if not req then return req, err end
  for k, v in pairs(headers) do req.headers[k] = v end
  return req
end

--- Opens a stream: `method` is one of `gateway.streams` (`"chat_stream"`, ...).
-- Sends `stream = true` (and, for chat, `stream_options = { include_usage = true }`
-- unless the call gives its own `stream_options`) and returns a stream object to
-- iterate with a generic `for` (see `alephant.gateway.stream`). Failures, validation
-- included, are yielded once as `false, err`.
-- The per-attempt `timeout` defaults to `gateway.STREAM_TIMEOUT` (or the client's
-- `timeout` if larger) and bounds the whole stream, as does `deadline`.
-- @tparam table client the client
-- @tparam string method the stream method
-- @tparam table params body fields and tracking options
-- @tparam[opt] table opts call options
-- @return a stream object (callable; fields `request_id`, `meta`, `events`; `close()`, `collect()`)
function gateway.stream(client, method, params, opts)
  local kind = assemble.kinds[method]
  check_args("gateway." .. method, params, opts, 4)
  local body = {}
  for k, v in pairs(params or {}) do body[k] = v end
  body.stream = true
  if method == "chat_stream" and body.stream_options == nil then body.stream_options = { include_usage = true } end
  local call_opts = {}
  for k, v in pairs(opts or {}) do call_opts[k] = v end
  local headers = {}
  if type(call_opts.headers) == "table" then
    for k, v in pairs(call_opts.headers) do headers[k] = v end
  end
  headers.Accept = "text/event-stream"
  call_opts.headers = headers
  if call_opts.timeout == nil then call_opts.timeout = math.max(client.timeout or 0, gateway.STREAM_TIMEOUT) end
  return stream.open(client, kind, body, call_opts)
end

--- Installs the gateway methods in the gateway group's class (once per VM): every
-- `gateway.*` catalog method (through `client:call`, which handles the tracking options)
-- and the streams.
-- @tparam table methods the class's method table (`__index`)
-- @tparam table endpoints the group's catalog entries by method name
function gateway.install(methods, endpoints)
  for method, e in pairs(endpoints) do
    local name = e.name
    methods[method] = function(self, params, opts)
      check_args(name, params, opts)
      return self._client:call(name, params, opts)
    end
  end
  for method in pairs(gateway.streams) do
    methods[method] = function(self, params, opts)
      return gateway.stream(self._client, method, params, opts)
    end
  end
end

return gateway
