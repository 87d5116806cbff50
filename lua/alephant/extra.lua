--- The call option `extra = { wireName = value }`: fields the catalog does not describe,
-- sent verbatim under their wire names, so that a wrong guess of a wire name (the public
-- docs give some fields only as database columns) never blocks a user.
--
--     client.virtual_keys:update({ id = id }, { extra = { rateLimitRph = 500 } })
--
-- Where they go: into the JSON body when the request has one or its method is POST, PUT or
-- PATCH; otherwise into the query string (values: strings, numbers, booleans or arrays of
-- them, as `client:request`'s `query`; the core percent-encodes them). A name the endpoint
-- already has, as a Lua or a wire name, is refused: the catalog's checks on it cannot be
-- bypassed, and its own name says what the value becomes.
-- @module alephant.extra
local core = require "alephant.core"
local errors = require "alephant.errors"
local raw = require "alephant.request"

local extra = {}

local body_methods = { POST = true, PUT = true, PATCH = true }

local function fail(endpoint, field, message)
  return nil, errors.new("validation", endpoint .. ": extra: " .. message, { field = field, endpoint = endpoint })
end

--- Adds `fields` to a prepared request.
-- @tparam table e the endpoint's entry from `core.endpoints()`
-- @tparam table req the request `prepare` built (changed in place)
-- @tparam table fields the call option `extra`
-- @return req, or nil and a `validation` error
function extra.apply(e, req, fields)
  local taken = {}
  for _, p in ipairs(e.params) do taken[p.name], taken[p.wire] = true, true end
  for k in pairs(fields) do
    if type(k) ~= "string" or k == "" then return fail(e.name, "extra", "field names must be non-empty strings") end
    local ok, herr = core.validate_header_value(k, "extra")
    if not ok then return fail(e.name, "extra", herr.message) end
    if taken[k] then
      return fail(e.name, k, ("'%s' is a parameter of %s: pass it as a parameter, where it is checked")
        :format(k, e.name))
    end
  end
  if req.body ~= nil or body_methods[req.method] then
    local body = req.body or {}
    if type(body) ~= "table" then return fail(e.name, "extra", "the body is not a JSON object") end
    for k, v in pairs(fields) do body[k] = v end
    req.body = body
    req.headers["Content-Type"] = "application/json"
    return req
  end
  local pairs_list, err = raw.query_pairs(fields)
  if not pairs_list then
    err.message = e.name .. ": extra: " .. err.message
    err.endpoint = e.name
    return nil, err
  end
  req.url = core.url_append_query(req.url, pairs_list)
  return req
end

return extra
