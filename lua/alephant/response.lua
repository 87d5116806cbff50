--- Turning an HTTP response into `data, nil, meta` or `nil, err`, per API family.
--
-- Envelopes (docs/api-notes.md#envelopes):
--
-- * Analytics API: `{code, message, data}`; `data` is returned, `code ~= 0` is an error.
-- * SaaS API: `{code, data, pagination?}`; `data` is returned, `pagination` goes to meta.
-- * Cockpit: top-level fields, or the same wrapped as `{data = {...}}`; an object under
--   `data` is unwrapped, an array under `data` is the payload itself (daily costs).
-- * Gateway: OpenAI bodies, returned as they are; errors are `{error = {message, type, code}}`.
-- @module alephant.response
local core = require "alephant.core"
local errors = require "alephant.errors"
local retry = require "alephant.retry"

local response = {}

local function is_array(t)
  return type(t) == "table" and (getmetatable(t) == core.array_mt or t[1] ~= nil)
end

local function header(res, name)
  local h = res.headers and res.headers[name]
  return type(h) == "string" and h or nil
end

-- The part of a decoded body that the caller wants, per family.
local function unwrap(family, body)
  if type(body) ~= "table" then return body end
  if family == "gateway" then return body end
  if family == "cockpit" or family == "public" then
    if type(body.data) == "table" and not is_array(body.data) then return body.data end
    return body
  end
  if body.data ~= nil then return body.data end
  return body
end

local function message_of(body)
  if type(body) ~= "table" then return nil end
  if type(body.error) == "table" and type(body.error.message) == "string" then return body.error.message end
  if type(body.message) == "string" then return body.message end
  if type(body.error) == "string" then return body.error end
  return nil
end

--- Builds the error for a failed HTTP status (3xx included: redirects are never followed).
-- @tparam table req the prepared request (endpoint, ...)
-- @tparam table res the transport's response
-- @param body the decoded body (or nil when it was not JSON)
function response.http_error(req, res, body)
  local status = res.status
  local fields = {
    status = status,
    endpoint = req.endpoint,
    request_id = header(res, "x-request-id"),
    retryable = retry.status_retryable(status),
    body = body,
  }
  local after = header(res, "retry-after")
  if after then fields.retry_after = retry.retry_after(after, os.time()) end
  local msg = message_of(body)
  if type(body) == "table" then
    if type(body.code) == "number" then fields.code = body.code end
    if type(body.error) == "table" then
      fields.code = body.error.code ~= core.null and body.error.code or nil
      fields.type = body.error.type
      fields.param = body.error.param ~= core.null and body.error.param or nil
    end
  end
  local kind = (status == 401 or status == 403) and "auth" or "http"
  local text = ("%s %s answered HTTP %d"):format(req.method, req.endpoint, status)
  if msg then text = text .. ": " .. core.printable(msg, "line") end -- server text: one line, no control codes
  if status == 401 then
    text = text .. " (check the token)"
  elseif status >= 300 and status < 400 then
    -- the host a redirect points to: the C core's URL display rule (never the user info,
    -- port, path or query; a token-shaped host redacted); nil for a relative or unusable one
    fields.location_host = core.url_host(header(res, "location"))
    text = text .. (fields.location_host and (" (redirect to " .. fields.location_host .. ")")
      or status == 304 and " (not modified)" or "") .. "; the SDK does not follow redirects: check the base URL"
  elseif fields.retry_after then
    text = text .. " (retry after " .. fields.retry_after .. " s)"
  end
  return errors.new(kind, text, fields)
end

--- Decodes and unwraps a response.
-- @tparam table req the prepared request
-- @tparam table res `{status, headers, body}`
-- @tparam string family the route family of the endpoint
-- @tparam[opt] integer attempts the attempt that got this answer (meta.attempts)
-- @return data, nil, meta on success; nil, err on failure
function response.handle(req, res, family, attempts)
  local request_id = header(res, "x-request-id")
  local body, derr
  local raw = res.body or ""
  local first = raw:byte(1) -- past a space (32) a body is not blank: no pattern search
  if first and (first > 32 or raw:find("%S")) then
    body, derr = core.json_decode(raw)
    if body == nil then
      if res.status >= 300 then return nil, response.http_error(req, res, nil) end
      return nil, errors.new("decode", ("%s: the response is not valid JSON (%s)"):format(req.endpoint,
        derr and derr.message or "?"), { status = res.status, request_id = request_id,
        endpoint = req.endpoint, retryable = false })
    end
  end
  if res.status >= 300 then return nil, response.http_error(req, res, body) end
  if family == "analytics" and type(body) == "table" and type(body.code) == "number" and body.code ~= 0 then
    return nil, response.http_error(req, res, body)
  end
  local data, degraded, data_source, pagination = true, nil, nil, nil -- true: 204 No Content and friends
  if body ~= nil then data = unwrap(family, body) end
  if type(body) == "table" then
    local src = type(data) == "table" and data or body
    degraded = body.degraded == true or src.degraded == true
    data_source = body.data_source or src.data_source
    pagination = body.pagination or src.pagination or src.meta
  end
  -- one constructor with every value: the table made at its size, no key added later
  return data, nil, { status = res.status, headers = res.headers, request_id = request_id, endpoint = req.endpoint,
    attempts = attempts, degraded = degraded, data_source = data_source, pagination = pagination }
end

return response
