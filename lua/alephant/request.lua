--- Raw requests: any route of the three APIs, with the rules of its route family.
--
--     local agent, err, meta = client:request("GET", "/api/v1/agents/" .. id)
--     local page = client:request("GET", "/v1/analytics/saas/logs", { query = { limit = 5 } })
--     local ok = client:request("GET", "/health")                     -- the gateway's root
--
-- The catalog refuses what it does not describe; `client:request` is the way past it.
-- Everything that does not depend on knowing the route's parameters still applies, and
-- comes from the same owners as for catalog calls:
--
-- * the token kinds the route family accepts and `X-Workspace-Id` (the C core's policy,
--   `al_policy_for`): a PAT on `/api/v1/pats` is an `auth` error before anything is
--   sent; a virtual key on the Analytics API resolves its workspace through
--   `cockpit.scope` once per TTL, like a catalog call;
-- * the method (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS) and the path (starts with
--   `/`, no query or fragment in it, no empty, `.` or `..` segment, plain or
--   percent-encoded, no encoded `/` or `\`, no control byte): checked in C;
-- * on `/api/v1/analytics/*`, `dateFrom` / `dateTo` in `query`: dates, both or neither,
--   in order (the C core's date rule on the wire names);
-- * headers from `opts.headers`: HTTP token names, no CR/LF or other control bytes,
--   never `Authorization` (the client's own rule for the `headers` call option);
-- * the envelope of the family (`data` unwrapped on the SaaS and Analytics APIs, OpenAI
--   bodies as they are on the gateway), retries for GET/HEAD/OPTIONS only (or
--   `retry = true`), redaction of the token in every message.
--
-- The API is chosen from the path unless `opts.api` says otherwise: `/api/...` is the
-- SaaS API (`base_url`), `/v1/analytics/...` the Analytics API (`analytics_url`),
-- anything else the gateway. Gateway paths are relative to `gateway_url` (which ends in
-- `/v1`): `/chat/completions`, like the catalog's; the gateway's root routes
-- (`/health`, `/healthz/...`, `/x402/...`) go to its origin and carry no token.
-- @module alephant.request
local core = require "alephant.core"
local errors = require "alephant.errors"
local util = require "alephant.util"

local request = {}

local option_types = { query = "table", body = true, headers = "table", api = "string", deadline = "number",
  timeout = "number", retry = "boolean" }
local apis = { saas = true, analytics = true, gateway = true }
local no_body = { GET = true, HEAD = true }

local function fail(field, message)
  return nil, errors.new("validation", message, { field = field })
end

-- A query value as text: numbers as their shortest round-trip text (3 and 3.0 give "3",
-- 0.1 gives "0.1").
local function query_text(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    local text = util.number_text(v)
    if not text then return nil, "must be a finite number" end
    return text
  end
  return nil, ("must be a string, number, boolean or an array of them, got %s"):format(t)
end

--- A query table as `{{name, value}, ...}` of strings: names sorted (the same URL for the
-- same table), an array value repeats its name in array order; integers without ".0".
-- @tparam table query name → string, number, boolean or a non-empty array of them
-- @return the pairs, or nil and a `validation` error
function request.query_pairs(query)
  local names, pairs_out = {}, {}
  for k in pairs(query or {}) do
    if type(k) ~= "string" or k == "" then
      return fail("query", "query: parameter names must be non-empty strings")
    end
    names[#names + 1] = k
  end
  table.sort(names)
  for _, k in ipairs(names) do
    local v = query[k]
    local items = type(v) == "table" and v or { v }
    if type(v) == "table" then
      local n = 0
      for _ in pairs(v) do n = n + 1 end
      if n == 0 or n ~= #v then return fail(k, ("query %s: a table value must be a non-empty array"):format(k)) end
    end
    for _, item in ipairs(items) do
      local text, why = query_text(item)
      if not text then return fail(k, ("query %s %s"):format(k, why)) end
      pairs_out[#pairs_out + 1] = { k, text }
    end
  end
  if #pairs_out > core.MAX_QUERY_PAIRS then
    return fail("query", ("at most %d query parameters"):format(core.MAX_QUERY_PAIRS))
  end
  return pairs_out
end

local function check_options(opts)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error("alephant: request options must be a table, got " .. type(opts), 4) end
  for k, v in pairs(opts) do
    local want = option_types[k]
    if not want then
      error(("alephant: unknown request option '%s' (known: query, body, headers, api, deadline, timeout, "
        .. "retry)"):format(tostring(k)), 4)
    end
    if want ~= true and type(v) ~= want then
      error(("alephant: request option '%s' must be a %s"):format(k, want), 4)
    end
  end
  if opts.api ~= nil and not apis[opts.api] then
    error(("alephant: request option 'api' must be \"saas\", \"analytics\" or \"gateway\", got %q"):format(opts.api), 4)
  end
  return opts
end

--- Sends a request the catalog does not describe (see the module's description).
-- `client:request(method, path, opts)` calls this.
-- @tparam Client client the client
-- @tparam string method `"GET"`, `"POST"`, ... (upper case)
-- @tparam string path `/api/v1/...`, `/v1/analytics/...` or a gateway path
-- @tparam[opt] table opts `query` (name → string, number, boolean or an array of them;
--   sent under these exact names), `body` (any JSON value; tables as JSON objects or
--   arrays), `headers`, `api` (`"saas"`, `"analytics"`, `"gateway"`), and the call options
--   `deadline`, `timeout`, `retry`
-- @return data, nil, meta like a catalog call; nil, err on failure (`meta.endpoint` and
--   `err.endpoint` read `"GET /api/v1/..."`)
function request.send(client, method, path, opts)
  if type(method) ~= "string" then error("alephant: request: method must be a string, got " .. type(method), 3) end
  if type(path) ~= "string" then error("alephant: request: path must be a string, got " .. type(path), 3) end
  opts = check_options(opts)
  local route = method .. " " .. path
  local refused = client._refusal(client, route, opts) -- closed, or a deadline / timeout that is no duration
  if refused then return nil, refused end
  local q, qerr = request.query_pairs(opts.query)
  if not q then
    qerr.endpoint = route
    return nil, qerr
  end
  if opts.body ~= nil and no_body[method] then
    return nil, errors.new("validation", ("%s: %s takes no body"):format(route, method),
      { field = "body", endpoint = route })
  end
  if opts.headers then
    local ok, herr = client._check_headers(route, opts.headers)
    if not ok then return nil, herr end
  end
  local has_body = opts.body ~= nil
  local req, err = client._state:prepare_raw(method, path, opts.api, q, has_body, os.time())
  if req == false then
    local ctx, left = client:_resolve_scope(opts)
    if not ctx then return nil, left end
    opts = left
    req, err = client._state:prepare_raw(method, path, opts.api, q, has_body, os.time())
  end
  if not req then
    err.endpoint = err.endpoint or route
    return nil, err
  end
  req.body = opts.body
  return client:_send(req, opts)
end

return request
