--- Client options: defaults, environment fallbacks and checks.
-- Wrong option names or types are programmer errors and raise; a missing or
-- malformed token, workspace id or URL is returned as a `config` error.
-- @module alephant.config
local core = require "alephant.core"
local errors = require "alephant.errors"

local config = {}

--- Documented defaults (durations in seconds).
config.defaults = {
  base_url = "https://alephant.io",
  analytics_url = "https://analytics.alephant.io",
  gateway_url = "https://ai.alephant.io/v1",
  timeout = 30,
  connect_timeout = 10,
  max_retries = 2,
  max_retry_wait = 60,
  scope_ttl = 300,
}

--- Longest duration accepted anywhere (seconds): the transport's limit, 2^31 - 1 ms.
config.max_seconds = 2147483

--- Why a duration option is unusable, or nil when it is fine: a number of seconds
-- above 0 (or at least 0 with `allow_zero`) and at most `config.max_seconds`; NaN,
-- infinities and negative values are refused. The one check for client options
-- (raised) and call options (returned as `validation` errors).
-- @param v the value
-- @tparam[opt] boolean allow_zero 0 is a valid value (max_retry_wait = 0: never wait)
-- @treturn string|nil the problem, e.g. "must be a positive number of seconds, at most 2147483, got -1"
function config.duration_problem(v, allow_zero)
  if type(v) == "number" and v == v and (v > 0 or allow_zero and v == 0) and v <= config.max_seconds then
    return nil
  end
  local got = type(v) ~= "number" and type(v) or v ~= v and "NaN" or ("%.17g"):format(v)
  return ("must be %sa positive number of seconds, at most %d, got %s"):format(allow_zero and "0 or " or "",
    config.max_seconds, got)
end

-- option name -> { type, environment variables in order of precedence }
local options = {
  token = { "string", { "ALEPHANT_TOKEN", "ALEPHANT_PAT", "ALEPHANT_VIRTUAL_KEY" } },
  workspace_id = { "string", { "ALEPHANT_WORKSPACE_ID" } },
  base_url = { "string", { "ALEPHANT_API_BASE_URL" } },
  analytics_url = { "string", { "ALEPHANT_ANALYTICS_BASE_URL" } },
  gateway_url = { "string", { "ALEPHANT_GATEWAY_BASE_URL" } },
  timeout = { "number" },
  connect_timeout = { "number" },
  max_retries = { "number" },
  max_retry_wait = { "number" },
  cafile = { "string" },
  capath = { "string" },
  rate_limit_rpm = { "number", { "ALEPHANT_RATE_LIMIT_RPM" } },
  allow_insecure_http = { "boolean" },
  proxy = { "string" },
  allow_http_through_proxy = { "boolean" },
  deadline = { "number" },
  scope_ttl = { "number" },
  transport = { "transport" },
  getenv = { "function" },
  -- observability hooks (README "Observability"): one call per HTTP attempt
  on_request = { "function" },
  on_response = { "function" },
  -- runtime hooks (alephant.ngx sets them for nginx): waits, the clock, a shared scope cache
  sleep = { "function" },
  clock = { "function" },
  context_store = { "store" },
}

-- A transport is any object with a request method, a store one with get and set
-- (table or userdata).
local function type_ok(want, v)
  local t = type(v)
  if want == "transport" then
    return (t == "table" or t == "userdata") and v.request ~= nil
  elseif want == "store" then
    return (t == "table" or t == "userdata") and v.get ~= nil and v.set ~= nil
  end
  return t == want
end

local wanted = { transport = "transport (an object with a request method)",
  store = "context store (an object with get and set methods)" }

--- The option names, sorted.
function config.option_names()
  local list = {}
  for k in pairs(options) do list[#list + 1] = k end
  table.sort(list)
  return list
end

local function names()
  return table.concat(config.option_names(), ", ")
end

-- The closest known option name, for "did you mean" hints.
local function closest(name)
  return core.closest(name, config.option_names())
end

-- Names other SDKs use for an option, pointed to ours.
local aliases = { api_key = "token", apikey = "token", apiKey = "token", key = "token", access_token = "token",
  bearer = "token", pat = "token", virtual_key = "token", workspace = "workspace_id", workspaceId = "workspace_id",
  base_uri = "base_url", baseURL = "base_url", baseUrl = "base_url", retries = "max_retries" }

--- The options of a transport (`core.http_new`, and the worker-thread transport of
-- `alephant.ngx`) from resolved settings: each name of `core.http_options` (the C
-- binding's list) that the settings have. Every transport is configured through this
-- function, so a new transport option is added to that list and to `options` above.
-- @tparam table settings resolved settings (or any table with those names)
-- @treturn table the transport options
function config.transport_options(settings)
  local out = {}
  for _, k in ipairs(core.http_options) do
    local v = settings[k]
    if v ~= nil then out[k] = v end
  end
  return out
end

-- Lists `resolve` walks, made once per VM rather than per client.
local duration_options = { "timeout", "connect_timeout", "deadline", "scope_ttl", "max_retry_wait" }
local url_options = { "base_url", "analytics_url", "gateway_url" }
local blank = { [9] = true, [10] = true, [11] = true, [12] = true, [13] = true, [32] = true } -- %s

-- URLs that passed core.check_base_url (a URL parse, a third of what a client costs to
-- make), by allow_insecure_http and option name: most clients of a process share them.
-- A pure function of its arguments; at most 64 remembered, failures never.
local checked_urls, checked_count = { [false] = {}, [true] = {} }, 0

local function check_base_url(url, k, allow)
  local known = checked_urls[allow][k]
  local hit = known and type(url) == "string" and known[url]
  if hit then return hit end
  local ok, err = core.check_base_url(url, k, allow)
  if ok and type(url) == "string" and checked_count < 64 then
    checked_urls[allow][k] = known or {}
    checked_urls[allow][k][url] = ok
    checked_count = checked_count + 1
  end
  return ok, err
end

--- Resolves options against defaults and the environment.
-- @tparam[opt] table opts the options given to `alephant.new`
-- @treturn table resolved settings, with `token_info` from the C core
-- @return[2] nil
-- @return[2] table a `config` (or `auth`, for an expired JWT) error
function config.resolve(opts)
  if opts ~= nil and type(opts) ~= "table" then
    error("alephant.new: options must be a table, got " .. type(opts)
      .. (type(opts) == "string" and " (a token goes in the table: alephant.new{ token = ... })" or ""), 3)
  end
  opts = opts or {}
  for k, v in pairs(opts) do
    local spec = options[k]
    if not spec then
      local alias = aliases[k]
      local hint = type(k) == "string" and (alias or closest(k))
      error(("alephant.new: unknown option '%s'%s (known: %s)"):format(tostring(k),
        alias and (": the option is called '" .. alias .. "'") or hint and (" (did you mean '" .. hint .. "'?)")
        or "", names()), 3)
    end
    if not type_ok(spec[1], v) then
      local want = wanted[spec[1]] or spec[1]
      error(("alephant.new: option '%s' must be a %s, got %s"):format(k, want, type(v)), 3)
    end
  end
  local getenv = opts.getenv or os.getenv
  local settings = {}
  for k, spec in pairs(options) do
    local v = opts[k]
    if v == nil and spec[2] then
      for _, var in ipairs(spec[2]) do
        local e = getenv(var)
        if e ~= nil and e ~= "" then
          v = e
          break
        end
      end
      if v ~= nil and spec[1] == "number" then
        local n = tonumber(v)
        if not n then
          -- a long value may be a token set in the wrong variable: not echoed
          local got = #v <= 12 and ("\"" .. v .. "\"") or ("a " .. #v .. "-character value")
          return nil, errors.new("config", spec[2][1] .. " must be a number, got " .. got, { field = k })
        end
        v = n
      end
    end
    if v == nil then v = config.defaults[k] end
    settings[k] = v
  end
  settings.getenv = nil

  for _, k in ipairs(duration_options) do
    local problem = settings[k] ~= nil and config.duration_problem(settings[k], k == "max_retry_wait")
    if problem then
      error(("alephant.new: option '%s' %s"):format(k, problem), 3)
    end
  end
  local ok, err = core.validate_integer(settings.max_retries, "max_retries", 0, 10)
  if not ok then error("alephant.new: " .. err.message, 3) end
  local rpm = settings.rate_limit_rpm
  if rpm and (rpm ~= rpm or rpm < 0) then
    return nil, errors.new("config", "rate_limit_rpm must be 0 (off) or more", { field = "rate_limit_rpm" })
  end

  if settings.proxy then
    ok, err = core.check_proxy(settings.proxy)
    if not ok then return nil, err end
  end

  local allow = settings.allow_insecure_http == true
  for _, k in ipairs(url_options) do
    -- the transport's own URL policy (scheme, loopback, plain http), trailing slashes trimmed
    settings[k], err = check_base_url(settings[k], k, allow)
    if not settings[k] then return nil, err end
  end

  -- a token read from a file or pasted keeps its line end or spaces: they are no part of it
  -- (the pattern only when an end is blank: its backtracking is quadratic in a long JWT)
  local token = settings.token
  if type(token) == "string" and (blank[token:byte(1)] or blank[token:byte(-1)]) then
    settings.token = token:match("^%s*(.-)%s*$")
  end
  local info
  info, err = core.check_client(settings.token, settings.workspace_id)
  if not info then return nil, err end
  settings.token_info = info
  return settings
end

return config
