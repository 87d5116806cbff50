--- The AI gateway group (`client.gateway`): every `gateway.*` catalog method with
-- tracking options, plus `chat_stream`.
--
--     local reply, err, meta = client.gateway:chat{
--       model = "openai/gpt-4o-mini",
--       messages = { { role = "user", content = "hello" } },
--       agent_id = "agt_support_bot", session = { id = "sess_42", path = "/triage" },
--     }
--     print(meta.request_id)   -- the x-request-id, for client.collector:request_log
--
-- Tracking options (`alephant.gateway.tracking`) are taken out of the parameters and sent as
-- headers; the rest is the JSON body. Every call sends an `x-request-id`: the
-- `request_id` option, else an `x-request-id` in the call's `headers`, else a new
-- UUID v4; it comes back in `meta.request_id` and, on failure, in `err.request_id`.
-- A tracking option wins over a header of the same name (compared case-insensitively)
-- in the call's `headers`.
-- @module alephant.gateway
local core = require "alephant.core"
local errors = require "alephant.errors"
local events = require "alephant.gateway.events"
local stream = require "alephant.gateway.stream"
local tracking = require "alephant.gateway.tracking"

local gateway = {}

--- Default per-attempt timeout of a stream, in seconds: it bounds the whole stream,
-- first byte to `[DONE]`, so it is longer than the client's `timeout` for one answer.
gateway.STREAM_TIMEOUT = 600

-- Checks the arguments every gateway method shares (programmer errors raise).
local function check_args(name, params, opts)
  if params ~= nil and type(params) ~= "table" then
    error(("alephant: %s: params must be a table, got %s"):format(name, type(params)), 4)
  end
  if opts ~= nil and type(opts) ~= "table" then
    error(("alephant: %s: call options must be a table, got %s"):format(name, type(opts)), 4)
  end
end

-- The call options with the tracking headers merged in, and the request id.
local function with_headers(opts, headers)
  local out = {}
  for k, v in pairs(opts or {}) do out[k] = v end
  local merged = {}
  local rid
  if type(out.headers) == "table" then
    for k, v in pairs(out.headers) do
      local lower = type(k) == "string" and k:lower()
      if lower == "x-request-id" then
        rid = v
      else
        local overridden = false
        for h in pairs(headers) do
          if h:lower() == lower then overridden = true end
        end
        if not overridden then merged[k] = v end
      end
    end
  end
  for k, v in pairs(headers) do merged[k] = v end
  merged["x-request-id"] = headers["x-request-id"] or rid or core.uuid4()
  out.headers = merged
  return out, merged["x-request-id"]
end

-- Splits and checks a call: body, call options with headers, request id; or nil, err.
local function plan(name, params, opts)
  local body, options = tracking.split(params)
  local headers, err = tracking.headers(options)
  if not headers then
    err.endpoint = name
    return nil, err
  end
  if body.stream == true and name ~= "gateway.chat_stream" then
    return nil, errors.new("validation", ("%s: stream = true needs chat_stream (this method reads one JSON "
      .. "answer)"):format(name), { field = "stream", endpoint = name })
  end
  if name == "gateway.agent_events" then
    body = events.attribute(body, options.agent_id, options.run_id)
    local ok
    ok, err = events.check(body)
    if not ok then
      err.endpoint = name
      return nil, err
    end
  end
  local call_opts, rid = with_headers(opts, headers)
  return body, call_opts, rid
end

--- Calls a gateway endpoint with tracking options.
-- @tparam table client the client
-- @tparam string name a `gateway.*` catalog name
-- @tparam[opt] table params body parameters and tracking options
-- @tparam[opt] table opts call options (`deadline`, `timeout`, `retry`, `headers`)
-- @return data, nil, meta on success; nil, err on failure
function gateway.call(client, name, params, opts)
  check_args(name, params, opts)
  local body, call_opts, rid = plan(name, params, opts)
  if not body then return nil, call_opts end
  local data, err, meta = client:call(name, body, call_opts)
  if data == nil then
    err.request_id = err.request_id or rid
    return nil, err
  end
  meta.request_id = meta.request_id or rid
  return data, nil, meta
end

--- Streams a chat completion: sends `stream = true` and returns a stream object to
-- iterate with a generic `for` (see `alephant.gateway.stream`). Each step yields one SSE
-- `data:` chunk decoded as a table; the loop ends on `data: [DONE]`. Failures,
-- validation included, are yielded once as `false, err`.
-- The per-attempt `timeout` defaults to `gateway.STREAM_TIMEOUT` (or the client's
-- `timeout` if larger) and bounds the whole stream, as does `deadline`.
-- @tparam table client the client
-- @tparam table params `model`, `messages`, other body fields, tracking options
-- @tparam[opt] table opts call options
-- @return a stream object (callable; fields `request_id`, `meta`, `events`; `close()`)
function gateway.chat_stream(client, params, opts)
  check_args("gateway.chat_stream", params, opts)
  local body, call_opts, rid = plan("gateway.chat_stream", params, opts)
  if not body then
    call_opts.endpoint = "gateway.chat"
    return stream.failed(call_opts, { endpoint = "gateway.chat" })
  end
  body.stream = true
  call_opts.headers.Accept = "text/event-stream"
  if call_opts.timeout == nil then call_opts.timeout = math.max(client.timeout or 0, gateway.STREAM_TIMEOUT) end
  return stream.open(client, "gateway.chat", body, call_opts, rid, true)
end

--- Installs the gateway methods in the gateway group's class (once per VM): every
-- `gateway.*` catalog method with tracking options, and `chat_stream`.
-- @tparam table methods the class's method table (`__index`)
-- @tparam table endpoints the group's catalog entries by method name
function gateway.install(methods, endpoints)
  for method, e in pairs(endpoints) do
    local name = e.name
    methods[method] = function(self, params, opts)
      return gateway.call(self._client, name, params, opts)
    end
  end
  methods.chat_stream = function(self, params, opts)
    return gateway.chat_stream(self._client, params, opts)
  end
end

return gateway
