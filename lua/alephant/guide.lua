--- Errors that guide ordinary slips: a mistyped group or method names the closest one,
-- a method called with a dot instead of a colon says so, and a virtual key on an
-- `analytics.*` route learns which `collector.*` route gives it the same data.
-- Nothing here sends anything; the hints come from the catalog (`core.endpoints()`).
-- @module alephant.guide
local core = require "alephant.core"

local guide = {}

-- Keys that are never slips: private fields (`_state`, ...) and metamethod probes.
local function private(k)
  return type(k) ~= "string" or k:sub(1, 1) == "_"
end

local function sorted_keys(t, out)
  out = out or {}
  for k, v in pairs(t) do
    if type(k) == "string" and not private(k) and v ~= nil then out[#out + 1] = k end
  end
  table.sort(out)
  return out
end

local function did_you_mean(name, candidates)
  local c = core.closest(name, candidates)
  return c and (" (did you mean '" .. c .. "'?)") or ""
end

--- The error for reading an unknown key of an object, or nil when the key may be nil
-- (private fields, metamethod probes, `allowed` names). Raised at the line that read
-- the key: called (not tail-called) from an `__index` function.
-- @param k the key
-- @tparam string what the object in messages (`client`, `client.analytics`)
-- @tparam function candidates returns the names to suggest from
-- @tparam[opt] table allowed names that read as nil (options that were not set)
-- @tparam[opt] string noun what a key is called (default `field`)
function guide.missing(k, what, candidates, allowed, noun)
  if private(k) or (allowed and allowed[k]) then return nil end
  error(("alephant: %s has no %s '%s'%s"):format(what, noun or "field", k, did_you_mean(k, candidates())), 3)
end

--- The names of a table's public string keys, sorted (for hints).
guide.keys = sorted_keys

--- Makes a group class strict: a method called with a dot (`client.analytics.usage{...}`)
-- raises "call methods with a colon" instead of treating the parameters as the group,
-- and reading an unknown method raises with the closest one. Once per VM.
-- @tparam table class the group class (a metatable whose `__index` holds the methods)
-- @tparam string name the group's name
function guide.group_class(class, name)
  local methods = class.__index
  for method, f in pairs(methods) do
    if type(f) == "function" then
      methods[method] = function(self, ...)
        if getmetatable(self) ~= class then
          error(("alephant: call methods with a colon: client.%s:%s{...}, not client.%s.%s{...}")
            :format(name, method, name, method), 2)
        end
        return f(self, ...)
      end
    end
  end
  local what = "client." .. name
  setmetatable(methods, { __index = function(_, k)
    local none = guide.missing(k, what, function() return sorted_keys(methods) end, nil, "method") -- not a tail call:
    return none -- the error names the caller's line, three levels up
  end })
end

--- Raises "call methods with a colon" when a client method got no client.
-- @param self what the method received as self
-- @tparam table class the client class
-- @tparam string method the method's name
function guide.check_self(self, class, method)
  if getmetatable(self) ~= class then
    error(("alephant: call methods with a colon: client:%s(...), not client.%s(...)"):format(method, method), 3)
  end
end

-- analytics.X -> collector.X where a virtual key may call the latter, from the catalog.
local instead
local function alternatives()
  if instead then return instead end
  instead = {}
  local vk = {}
  for _, e in ipairs(core.endpoints()) do
    for _, k in ipairs(e.kinds or {}) do
      if k == "virtual_key" then vk[e.name] = true end
    end
  end
  for _, e in ipairs(core.endpoints()) do
    local method = e.name:match("^analytics%.(.+)$")
    if method and not vk[e.name] and vk["collector." .. method] then instead[e.name] = "collector." .. method end
  end
  return instead
end

--- Adds to a virtual key's auth error on a route it may not call the route that gives
-- it the same data (`err.instead`), where the catalog has one.
-- @tparam table err the error from prepare
-- @tparam string name the endpoint
-- @tparam string kind the client's token kind
-- @treturn table err
function guide.token_kind_hint(err, name, kind)
  local other = kind == "virtual_key" and err.kind == "auth" and alternatives()[name]
  if other then
    local group, method = other:match("^([^.]+)%.(.+)$")
    err.instead = other
    err.message = ("%s; a virtual key reads the same data with %s (client.%s:%s{...})"):format(err.message, other,
      group, method)
  end
  return err
end

return guide
