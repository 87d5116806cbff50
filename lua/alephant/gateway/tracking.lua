--- Tracking options of gateway calls, turned into request headers.
--
-- Attribution (`agent_id`, `run_id`, `session`, `properties`), the gateway cache
-- (`cache`), log privacy (`omit_request`, `omit_response`) and the request id
-- (`request_id`) are options of every gateway call, never part of its JSON body.
-- This module is the one place that maps them to headers (docs/api-notes.md#tracking-headers)
-- and checks every value first, with the core validators, so a bad value is a
-- `validation` error naming the field (`session.path`, `properties.tier`,
-- `cache.ttl`) and nothing is sent.
--
--     local headers, err = tracking.headers{ agent_id = "agt_support", session = { id = "s1" } }
--     --> { ["Alephant-Agent-Id"] = "agt_support", ["alephant-session-id"] = "s1" }
--
-- Lengths are bytes of valid UTF-8 (the gateway ignores agent headers beyond its
-- byte limit and answers 400 to a session name that is not UTF-8).
-- @module alephant.gateway.tracking
local core = require "alephant.core"
local errors = require "alephant.errors"

local tracking = {}

--- The names of the tracking options (reserved: they never go into a body).
tracking.names = { "agent_id", "run_id", "session", "properties", "cache", "omit_request", "omit_response",
  "request_id" }
local is_option = {}
for _, k in ipairs(tracking.names) do is_option[k] = true end

--- Limits in bytes.
tracking.limits = { agent_id = 128, run_id = 128, request_id = 128, session_id = 128, session_name = 128,
  session_path = 256, property_value = 512, property_key = 64 }

--- Property keys refused because they look like credentials: a key is refused when,
-- with `-` and `_` removed, it contains one of these words. Property headers are
-- stored in request logs and forwarded upstream, so they must never carry secrets.
-- A bare `key` is allowed (`cache_key`, `key_id` are operational).
tracking.secret_words = { "token", "secret", "password", "passwd", "apikey", "accesskey", "privatekey",
  "credential", "authorization", "bearer", "cookie" }

local SESSION_KEYS = { id = true, name = true, path = true }
local CACHE_HEADERS = {
  enabled = "Alephant-Cache-Enabled", read = "Alephant-Cache-Read", save = "Alephant-Cache-Save",
  bucket_max_size = "Alephant-Cache-Bucket-Max-Size", seed = "Alephant-Cache-Seed", ttl = "Alephant-Cache-Ttl",
}
local CACHE_ORDER = { "enabled", "read", "save", "bucket_max_size", "seed", "ttl" }

local function fail(field, message)
  return nil, errors.new("validation", message, { field = field })
end

-- A name safe to show in a one-line message: control and non-ASCII bytes escaped, cut short.
local function shown(s)
  s = tostring(s)
  if #s > 64 then s = s:sub(1, 64) .. "..." end
  return (s:gsub("[%c\128-\255\"\\]", function(c) return ("\\x%02X"):format(c:byte()) end))
end

-- A header value: a string without control characters, valid UTF-8, 1..max bytes.
local function text(v, field, max)
  local ok, err = core.validate_header_value(v, field)
  if not ok then return nil, err end
  ok, err = core.validate_length(v, field, 1, 0x7fffffff) -- not empty, valid UTF-8; the limit is in bytes
  if not ok then return nil, err end
  if #v > max then return fail(field, ("%s must be at most %d bytes, got %d"):format(field, max, #v)) end
  return v
end

local function boolean(v, field)
  if type(v) ~= "boolean" then
    return fail(field, ("%s must be a boolean (true or false), got %s"):format(field, type(v)))
  end
  return v and "true" or "false"
end

-- The shortest decimal text of a finite number that reads back as the same number,
-- identical on Lua 5.4 and LuaJIT (3 and 3.0 both give "3").
local function number_text(n)
  if n ~= n or n == math.huge or n == -math.huge then return nil end
  if n == math.floor(n) and math.abs(n) < 2 ^ 63 then
    local s = ("%d"):format(n)
    if tonumber(s) == n then return s end
  end
  for digits = 15, 17 do
    local s = ("%." .. digits .. "g"):format(n)
    if tonumber(s) == n then return s end
  end
  return ("%.17g"):format(n)
end
tracking.number_text = number_text

local function integer(v, field, min, max)
  local ok, err = core.validate_integer(v, field, min, max)
  if not ok then return nil, err end
  return number_text(v)
end

-- Checks a property key; returns nil, err when refused.
local function check_property_key(key)
  if type(key) ~= "string" then
    return fail("properties", ("properties keys must be strings, got %s"):format(type(key)))
  end
  if #key > tracking.limits.property_key or not key:match("^[a-z0-9][a-z0-9_%-]*$") then
    return fail("properties", ('properties key "%s" must match ^[a-z0-9][a-z0-9_-]{0,63}$ '
      .. "(lower-case letters, digits, _ and -, at most 64)"):format(shown(key)))
  end
  local flat = key:gsub("[_%-]", "")
  for _, word in ipairs(tracking.secret_words) do
    if flat:find(word, 1, true) then
      return fail("properties." .. key, ("properties.%s looks like a secret (it contains '%s'): property "
        .. "headers are stored in request logs and forwarded upstream, never put credentials in them")
        :format(key, word))
    end
  end
  return true
end

local function property_value(v, field)
  local t = type(v)
  if t == "string" then return text(v, field, tracking.limits.property_value) end
  if t == "boolean" then return v and "true" or "false" end
  if t == "number" then
    local s = number_text(v)
    if not s then return fail(field, field .. " must be a finite number") end
    return s
  end
  return fail(field, ("%s must be a string, number or boolean, got %s"):format(field, t))
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

local function session_headers(session, out)
  if type(session) ~= "table" then
    return fail("session", ("session must be a table {id, name, path}, got %s"):format(type(session)))
  end
  for _, k in ipairs(sorted_keys(session)) do
    if not SESSION_KEYS[k] then
      return fail("session", ('session does not take "%s" (known: id, name, path)'):format(shown(k)))
    end
  end
  local L = tracking.limits
  if session.id == nil then
    if session.name ~= nil or session.path ~= nil then
      return fail("session.id", "session.id is required with session.name or session.path: the gateway "
        .. "records a session's name and path only together with its id")
    end
    return true
  end
  local id, name, path, err
  id, err = text(session.id, "session.id", L.session_id)
  if not id then return nil, err end
  out["alephant-session-id"] = id
  if session.name ~= nil then
    name, err = text(session.name, "session.name", L.session_name)
    if not name then return nil, err end
    out["alephant-session-name"] = name
  end
  if session.path ~= nil then
    path, err = text(session.path, "session.path", L.session_path)
    if not path then return nil, err end
    if path:sub(1, 1) ~= "/" then
      path = "/" .. path -- the gateway's own normalisation, done here so the limit counts it
      if #path > L.session_path then
        return fail("session.path", ("session.path must be at most %d bytes once it starts with /, got %d")
          :format(L.session_path, #path))
      end
    end
    out["alephant-session-path"] = path
  end
  return true
end

local function property_headers(props, out)
  if type(props) ~= "table" then
    return fail("properties", ("properties must be a table {key = value}, got %s"):format(type(props)))
  end
  for _, key in ipairs(sorted_keys(props)) do
    local ok, err = check_property_key(key)
    if not ok then return nil, err end
    local v
    v, err = property_value(props[key], "properties." .. key)
    if not v then return nil, err end
    out["alephant-property-" .. key] = v
  end
  return true
end

local function cache_headers(cache, out)
  if type(cache) ~= "table" then
    return fail("cache", ("cache must be a table {enabled, read, save, bucket_max_size, seed, ttl}, got %s")
      :format(type(cache)))
  end
  for _, k in ipairs(sorted_keys(cache)) do
    if not CACHE_HEADERS[k] then
      return fail("cache", ('cache does not take "%s" (known: enabled, read, save, bucket_max_size, seed, ttl)')
        :format(shown(k)))
    end
  end
  for _, k in ipairs(CACHE_ORDER) do
    local v = cache[k]
    if v ~= nil then
      local s, err
      local field = "cache." .. k
      if k == "bucket_max_size" then s, err = integer(v, field, 1, 20)
      elseif k == "seed" then s, err = integer(v, field)
      elseif k == "ttl" then s, err = integer(v, field, 1, 2147483647)
      else s, err = boolean(v, field) end
      if not s then return nil, err end
      out[CACHE_HEADERS[k]] = s
    end
  end
  return true
end

--- The headers for a table of tracking options.
-- Unknown keys are refused (with the known names), so a typo cannot slip into a body.
-- @tparam table options `agent_id`, `run_id`, `session = {id, name, path}`,
--   `properties = {key = value}`, `cache = {enabled, read, save, bucket_max_size, seed, ttl}`,
--   `omit_request`, `omit_response`, `request_id`
-- @treturn table headers by name (`x-request-id` only when `request_id` is given)
-- @return[2] nil
-- @return[2] table a `validation` error with `field`
function tracking.headers(options)
  local out = {}
  if options == nil then return out end
  if type(options) ~= "table" then
    return fail("options", ("tracking options must be a table, got %s"):format(type(options)))
  end
  for _, k in ipairs(sorted_keys(options)) do
    if not is_option[k] then
      return fail(tostring(k), ('"%s" is not a tracking option (known: %s)'):format(shown(k),
        table.concat(tracking.names, ", ")))
    end
  end
  local L = tracking.limits
  local v, ok, err
  if options.agent_id ~= nil then
    v, err = text(options.agent_id, "agent_id", L.agent_id)
    if not v then return nil, err end
    out["Alephant-Agent-Id"] = v
  end
  if options.run_id ~= nil then
    v, err = text(options.run_id, "run_id", L.run_id)
    if not v then return nil, err end
    out["Alephant-Run-Id"] = v
  end
  if options.session ~= nil then
    ok, err = session_headers(options.session, out)
    if not ok then return nil, err end
  end
  if options.properties ~= nil then
    ok, err = property_headers(options.properties, out)
    if not ok then return nil, err end
  end
  if options.cache ~= nil then
    ok, err = cache_headers(options.cache, out)
    if not ok then return nil, err end
  end
  for _, k in ipairs({ "omit_request", "omit_response" }) do
    if options[k] ~= nil then
      v, err = boolean(options[k], k)
      if not v then return nil, err end
      -- presence headers: the gateway tests only that they exist, so false sends nothing
      if options[k] then out["alephant-" .. k:gsub("_", "-")] = "true" end
    end
  end
  if options.request_id ~= nil then
    v, err = text(options.request_id, "request_id", L.request_id)
    if not v then return nil, err end
    out["x-request-id"] = v
  end
  return out
end

--- Splits call parameters into the body and the tracking options (shallow copies).
-- @tparam[opt] table params a gateway call's parameters
-- @treturn table the body parameters
-- @treturn table the tracking options
function tracking.split(params)
  local body, options = {}, {}
  for k, v in pairs(params or {}) do
    if is_option[k] then options[k] = v else body[k] = v end
  end
  -- a decoded or alephant.array{} marker on the params survives into the body
  local mt = params and getmetatable(params)
  if mt == core.array_mt then setmetatable(body, mt) end
  return body, options
end

--- Merges two sets of tracking options: `over` wins; the tables `session`,
-- `properties` and `cache` are merged key by key (so a call can add a session path
-- or a property to a run's).
-- @tparam table base e.g. a run's options
-- @tparam table over e.g. one call's options
-- @treturn table a new table
function tracking.merge(base, over)
  local out = {}
  for k, v in pairs(base or {}) do out[k] = v end
  for k, v in pairs(over or {}) do
    local b = out[k]
    if type(v) == "table" and type(b) == "table" and (k == "session" or k == "properties" or k == "cache") then
      local m = {}
      for kk, vv in pairs(b) do m[kk] = vv end
      for kk, vv in pairs(v) do m[kk] = vv end
      out[k] = m
    else
      out[k] = v
    end
  end
  return out
end

return tracking
