--- Observability hooks: what `on_request(info)` and `on_response(info)` receive, once per
-- HTTP attempt (retries and the virtual key's `cockpit.scope` lookup included).
--
--     local client = assert(alephant.new{
--       on_response = function(info)
--         print(("%s %s -> %s in %.1f ms (attempt %d, %s)"):format(info.method, info.url,
--           info.status or info.error.kind, info.duration * 1000, info.attempt, info.request_id))
--       end,
--     })
--
-- `info` has `endpoint` (the catalog name), `method`, `url` (query values whose names
-- look like credentials replaced by `REDACTED`), `attempt` (1 for the first),
-- `request_id` (the `x-request-id` sent) and, for `on_response`, `status` (nil when no
-- answer came), `duration` (seconds, this attempt), `ok` (the attempt produced the
-- call's result) and `error` (the error of a failed attempt). It never holds the
-- token or any header. A hook runs in the caller's context (in nginx: the request's
-- phase, so `ngx.log` and shared dicts work); what it raises reaches the caller.
-- @module alephant.hooks
local scrub = require "alephant.scrub"

local hooks = {}

-- Query parameter names whose values are never shown: the client's one rule for
-- credential names (alephant.scrub), and names only a query string uses for them
-- (signed URLs, OAuth codes).
local query_only = { signature = true, sig = true, code = true, auth = true }

local function secret(name)
  return query_only[name:lower()] or scrub.secret_name(name)
end

--- A URL safe to log: the values of query parameters named like credentials (`token`,
-- `api_key`, `*_secret`, ...) and any user information before the host are replaced.
-- @tparam string url
-- @treturn string
function hooks.safe_url(url)
  local base, query = url:match("^([^?#]*)%??([^#]*)")
  base = base:gsub("^(%a[%w+.-]*://)[^/@]*@", "%1REDACTED@")
  if query == "" then return base end
  local parts = {}
  for pair in query:gmatch("[^&]+") do
    local name = pair:match("^([^=]*)")
    parts[#parts + 1] = secret(name) and (name .. "=REDACTED") or pair
  end
  return base .. "?" .. table.concat(parts, "&")
end

--- The `info` of one attempt, before it is sent.
-- @tparam table req the prepared request (`endpoint`, `method`, `url`)
-- @tparam integer attempt 1 for the first
-- @tparam string request_id the `x-request-id` sent
-- @treturn table info
function hooks.request_info(req, attempt, request_id)
  return { endpoint = req.endpoint, method = req.method, url = hooks.safe_url(req.url), attempt = attempt,
    request_id = request_id }
end

--- Completes `info` with the attempt's outcome for `on_response`.
-- @tparam table info from `request_info`
-- @tparam number duration seconds
-- @param res the transport's answer (`status`), or nil
-- @tparam boolean ok whether the attempt produced the call's result
-- @param err the attempt's error, or nil
-- @treturn table info
function hooks.response_info(info, duration, res, ok, err)
  info.duration, info.status, info.ok, info.error = duration, res and res.status, ok, err
  return info
end

return hooks
