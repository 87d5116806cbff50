--- Tracking options of gateway calls, turned into request headers.
--
-- Attribution (`agent_id`, `agent_name`, `run_id`, `session`, `step`, `properties`),
-- the gateway cache (`cache`), prompts (`prompt_id`), log privacy (`omit_request`,
-- `omit_response`), webhooks (`webhook`) and the request id (`request_id`) are options
-- of every gateway call, never part of its JSON body. This module is the one place
-- that maps them to headers (the table `tracking.options`; the headers are described in
-- docs/api-notes.md#tracking-headers) and checks every value first, with the core
-- validators, so a bad value is a `validation` error naming the field (`session.path`,
-- `properties.tier`, `cache.ttl`) and nothing is sent.
--
--     local headers, err = tracking.headers{ agent_id = "agt_support", session = { id = "s1" } }
--     --> { ["Alephant-Agent-Id"] = "agt_support", ["alephant-session-id"] = "s1" }
--
-- Lengths are bytes of valid UTF-8 (the gateway ignores agent headers beyond its
-- byte limit and answers 400 to a session name that is not UTF-8).
-- @module alephant.gateway.tracking
local core = require "alephant.core"
local errors = require "alephant.errors"
local scrub = require "alephant.scrub"
local util = require "alephant.util"

local tracking = {}

local function fail(field, message)
  return nil, errors.new("validation", message, { field = field })
end

-- A name safe to show in a one-line message, cut short: the core's display rule
-- (core.printable: controls escaped, bytes that are not UTF-8 as \xHH).
local function shown(s)
  s = tostring(s)
  if #s > 64 then s = s:sub(1, 64) .. "..." end
  return core.printable(s, "line")
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

local number_text = util.number_text

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
  local word = scrub.secret_word(key) -- a bare `key` is allowed: cache_key, key_id are operational
  if word then
    return fail("properties." .. key, ("properties.%s looks like a secret (it contains '%s'): property "
      .. "headers are stored in request logs and forwarded upstream, never put credentials in them")
      :format(key, word))
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

local sorted_keys = util.sorted_keys

local U32 = 4294967295

-- Value checkers: each takes (value, field) and returns the header text or nil, err.
local function text_of(max) return function(v, field) return text(v, field, max) end end
local function integer_of(min, max) return function(v, field) return integer(v, field, min, max) end end
local function presence(v, field)
  local s, err = boolean(v, field)
  if not s then return nil, err end
  return v and "true" or nil -- the gateway tests only that the header exists: false sends nothing
end
local function fraction(v, field)
  if type(v) ~= "number" or v ~= v or v < 0 or v > 1 then
    return fail(field, ("%s must be a number between 0 and 1, got %s"):format(field,
      type(v) == "number" and number_text(v) or type(v)))
  end
  return number_text(v)
end

--- A new session id: `sess_` and 24 characters of `[A-Za-z0-9_-]` (`session = { id = "auto" }`).
local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
function tracking.session_id()
  local out = {}
  for i = 1, 24 do
    local k = math.floor(core.random() * 64) + 1
    out[i] = ALPHABET:sub(k, k)
  end
  return "sess_" .. table.concat(out)
end

local function session_id(v, field)
  if v == "auto" then return tracking.session_id() end
  return text(v, field, tracking.limits.session_id)
end

local function session_path(v, field)
  local path, err = text(v, field, tracking.limits.session_path)
  if not path then return nil, err end
  if path:sub(1, 1) ~= "/" then
    path = "/" .. path -- the gateway's own normalisation, done here so the limit counts it
    if #path > tracking.limits.session_path then
      return fail(field, ("%s must be at most %d bytes once it starts with /, got %d")
        :format(field, tracking.limits.session_path, #path))
    end
  end
  return path
end

local properties -- below: alephant-property-<key> for each key

--- Limits in bytes.
tracking.limits = { agent_id = 128, agent_name = 128, run_id = 128, request_id = 128, session_id = 128,
  session_name = 128, session_path = 256, property_value = 512, property_key = 64, step = 128, prompt_id = 128,
  cache_control = 128, embeddings_model = 256, embeddings_key = 1024 }
local L = tracking.limits

--- Every tracking option and the header it becomes: the one mapping from options to
-- gateway headers (public docs: developers.alephant.io, AI gateway integration and
-- agent run tracing; docs/api-notes.md). An entry has `name`, and either `header`
-- and `value` (its checker), or `fields` (a table option such as `session`), or
-- `each` (`properties`). `secret = true` marks a value never to print.
tracking.options = {
  { name = "agent_id", header = "Alephant-Agent-Id", value = text_of(L.agent_id) },
  { name = "agent_name", header = "alephant-agent-name", value = text_of(L.agent_name) },
  { name = "run_id", header = "Alephant-Run-Id", value = text_of(L.run_id) },
  { name = "session", fields = {
    { name = "id", header = "alephant-session-id", value = session_id },
    { name = "name", header = "alephant-session-name", value = text_of(L.session_name) },
    { name = "path", header = "alephant-session-path", value = session_path },
  } },
  { name = "step", fields = {
    { name = "id", header = "alephant-step-id", value = text_of(L.step) },
    { name = "parent_id", header = "alephant-parent-step-id", value = text_of(L.step) },
    { name = "kind", header = "alephant-step-kind", value = text_of(L.step) },
    { name = "source", header = "alephant-step-source", value = text_of(L.step) },
    { name = "attempt", header = "alephant-step-attempt", value = integer_of(0, U32) },
    { name = "input_hash", header = "alephant-step-input-hash", value = text_of(L.step) },
    { name = "tool_call_id", header = "alephant-tool-call-id", value = text_of(L.step) },
    { name = "handoff_id", header = "alephant-handoff-id", value = text_of(L.step) },
    { name = "graph_node", header = "alephant-graph-node", value = text_of(L.step) },
    { name = "iteration", header = "alephant-iteration", value = integer_of(0, U32) },
    { name = "state_hash", header = "alephant-state-hash", value = text_of(L.step) },
  } },
  { name = "properties", each = function(...) return properties(...) end },
  { name = "cache", fields = {
    { name = "enabled", header = "Alephant-Cache-Enabled", value = boolean },
    { name = "read", header = "Alephant-Cache-Read", value = boolean },
    { name = "save", header = "Alephant-Cache-Save", value = boolean },
    { name = "bucket_max_size", header = "Alephant-Cache-Bucket-Max-Size", value = integer_of(1, 20) },
    { name = "seed", header = "Alephant-Cache-Seed", value = integer_of() },
    { name = "ttl", header = "Alephant-Cache-Ttl", value = integer_of(1, 2147483647) },
    { name = "control", header = "Alephant-Cache-Control", value = text_of(L.cache_control) },
    { name = "semantic_threshold", header = "Alephant-Cache-Semantic-Threshold", value = fraction },
    { name = "embeddings_model", header = "Alephant-Embeddings-Model", value = text_of(L.embeddings_model) },
    { name = "embeddings_key", header = "Alephant-Embeddings-Key", value = text_of(L.embeddings_key),
      secret = true },
  } },
  { name = "prompt_id", header = "alephant-prompt-id", value = text_of(L.prompt_id) },
  { name = "omit_request", header = "alephant-omit-request", value = presence },
  { name = "omit_response", header = "alephant-omit-response", value = presence },
  { name = "webhook", header = "x-alephant-webhook-enabled", value = presence },
  { name = "request_id", header = "x-request-id", value = text_of(L.request_id) },
}

--- The names of the tracking options (reserved: they never go into a body).
tracking.names = {}
local by_name = {}
for i, o in ipairs(tracking.options) do
  tracking.names[i] = o.name
  by_name[o.name] = o
  if o.fields then
    o.known = {}
    for j, f in ipairs(o.fields) do
      o.known[j] = f.name
      o.fields[f.name] = f
    end
    o.known = table.concat(o.known, ", ")
  end
end

--- Headers whose values are secrets (never printed), lower-case.
tracking.secret_headers = {}
for _, o in ipairs(tracking.options) do
  for _, f in ipairs(o.fields or {}) do
    if f.secret then tracking.secret_headers[#tracking.secret_headers + 1] = f.header:lower() end
  end
end

function properties(props, out)
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

-- The headers of a table option (`session`, `step`, `cache`).
local function table_option(o, t, out)
  if type(t) ~= "table" then
    return fail(o.name, ("%s must be a table {%s}, got %s"):format(o.name, o.known, type(t)))
  end
  for _, k in ipairs(sorted_keys(t)) do
    if not o.fields[k] then
      return fail(o.name, ('%s does not take "%s" (known: %s)'):format(o.name, shown(k), o.known))
    end
  end
  if o.name == "session" and t.id == nil and (t.name ~= nil or t.path ~= nil) then
    return fail("session.id", "session.id is required with session.name or session.path: the gateway "
      .. "records a session's name and path only together with its id")
  end
  for _, f in ipairs(o.fields) do
    local v = t[f.name]
    if v ~= nil then
      local s, err = f.value(v, o.name .. "." .. f.name)
      if s == nil and err then return nil, err end
      out[f.header] = s
    end
  end
  return true
end

--- The headers for a table of tracking options.
-- Unknown keys are refused (with the known names), so a typo cannot slip into a body.
-- @tparam table options see `tracking.options`: `agent_id`, `agent_name`, `run_id`,
--   `session = {id, name, path}` (`id = "auto"` makes one), `step = {id, parent_id, kind,
--   source, attempt, input_hash, tool_call_id, handoff_id, graph_node, iteration, state_hash}`,
--   `properties = {key = value}`, `cache = {enabled, read, save, bucket_max_size, seed, ttl,
--   control, semantic_threshold, embeddings_model, embeddings_key}`, `prompt_id`,
--   `omit_request`, `omit_response`, `webhook`, `request_id`
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
    if not by_name[k] then
      local hint = tracking.near_miss(k)
      return fail(tostring(k), ('"%s" is not a tracking option%s (known: %s)'):format(shown(k),
        hint and ("; did you mean " .. hint .. "?") or "", table.concat(tracking.names, ", ")))
    end
  end
  for _, o in ipairs(tracking.options) do
    local v = options[o.name]
    if v ~= nil then
      local ok, err
      if o.fields then
        ok, err = table_option(o, v, out)
      elseif o.each then
        ok, err = o.each(v, out)
      else
        ok, err = o.value(v, o.name)
        if ok ~= nil then out[o.header] = ok end
      end
      if ok == nil and err then return nil, err end
    end
  end
  return out
end

-- Near misses of the option names: camelCase, other case, `-` or no separator, the
-- header names, and a few aliases; e.g. agentId, AGENT_ID, agent-id, Alephant-Agent-Id,
-- agent, runId, session_id, step_id. Keys are lower-case without `_`, `-` or spaces.
local function squash(k) return (k:lower():gsub("[%s_%-]", "")) end
local near = {}
for _, o in ipairs(tracking.options) do
  near[squash(o.name)] = o.name
  if o.header then near[squash(o.header)] = o.name end
  for _, f in ipairs(o.fields or {}) do
    local target = ("%s = { %s = ... }"):format(o.name, f.name)
    near[squash(f.header)] = target
    if o.name ~= "cache" then near[squash(o.name .. "_" .. f.name)] = target end
  end
end
for alias, target in pairs({ agent = "agent_id", run = "run_id", parent_step_id = "step = { parent_id = ... }",
  webhook_enabled = "webhook", property = "properties" }) do
  near[squash(alias)] = target
end

--- The tracking option a misspelled key means (`agentId` -> `agent_id`), or nil.
-- @tparam string key a parameter name
-- @treturn string|nil the option to use, as text
function tracking.near_miss(key)
  if type(key) ~= "string" then return nil end
  return near[squash(key)]
end
--- Splits call parameters into the body and the tracking options (shallow copies).
-- A parameter that is a near miss of a tracking option (`agentId`, `runId`,
-- `session_id`, `agent`, ...) is refused, so attribution cannot silently land in a body.
-- @tparam[opt] table params a gateway call's parameters
-- @tparam[opt] boolean loose true when the body has fields of those names of its own
--   (agent events: `step_id`, `step_kind`, ...): near misses are not checked
-- @treturn table the body parameters
-- @treturn table the tracking options
-- @return[2] nil
-- @return[2] table a `validation` error naming the parameter and the right option
function tracking.split(params, loose)
  local body, options = {}, {}
  for k, v in pairs(params or {}) do
    if by_name[k] then
      options[k] = v
    else
      local hint = not loose and tracking.near_miss(k)
      if hint then
        return fail(k, ('"%s" is not a parameter: tracking options are sent as headers, never in the body; '
          .. "use %s"):format(shown(k), hint))
      end
      body[k] = v
    end
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
    if type(v) == "table" and type(b) == "table" and by_name[k] and (by_name[k].fields or k == "properties") then
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
