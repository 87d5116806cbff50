--- Scrubbing a client's secrets from what the SDK hands back: a server that echoes the
-- token (in a 401 message, a body or a header) must not make the SDK show it. The
-- secrets live in C (`core.secrets()`: copies wiped on close); this walks tables.
-- @module alephant.scrub
local scrub = {}

--- Credential words: a name (a header, a query parameter, a gateway property key) that,
-- lower-cased with `-` and `_` removed, contains one of them names a secret.
scrub.secret_words = { "token", "secret", "password", "passwd", "apikey", "accesskey", "privatekey",
  "credential", "authorization", "bearer", "cookie" }

--- The credential word a name contains (see `secret_words`), or nil.
-- @tparam string name
-- @treturn string|nil the word
function scrub.secret_word(name)
  local flat = name:lower():gsub("[-_]", "")
  for _, word in ipairs(scrub.secret_words) do
    if flat:find(word, 1, true) then return word end
  end
  return nil
end

--- Whether a header or parameter name names a credential: it contains a credential
-- word, or ends in "key" (`Alephant-Embeddings-Key`, `X-Api-Key`, `api_key`) other than
-- `Idempotency-Key`. The one rule for names whose values are secrets.
-- @tparam string name
-- @treturn boolean
function scrub.secret_name(name)
  local flat = name:lower():gsub("[-_]", "")
  if flat:sub(-3) == "key" and flat ~= "idempotencykey" then return true end
  return scrub.secret_word(name) ~= nil
end
local secret_header = scrub.secret_name

--- Adds the values of a request's secret headers (other than the token's
-- Authorization, there already) to the client's secrets, so that they are scrubbed
-- from what the answer brings back.
-- @param secrets the client's set
-- @tparam table headers the request's headers
function scrub.remember(secrets, headers)
  for k, v in pairs(headers) do
    if type(k) == "string" and type(v) == "string" and k:lower() ~= "authorization" and secret_header(k) then
      secrets:add(v)
    end
  end
end

--- Replaces every secret in `v` by its redacted form (`vk-ab…3f8a`): a string is
-- returned scrubbed; a table is scrubbed in place (values and string keys, nested
-- tables, cycles cut) and returned.
-- @param secrets the client's `core.secrets()` set
-- @param v any value
-- @param[opt] seen internal: the tables already walked (cycles)
-- @return v scrubbed
function scrub.deep(secrets, v, seen)
  local t = type(v)
  if t == "string" then return secrets:scrub(v) end
  if t ~= "table" then return v end
  if seen then
    if seen[v] then return v end
    seen[v] = true
  end
  local renamed
  for k, x in pairs(v) do
    local nx = x
    if type(x) == "string" then
      nx = secrets:scrub(x)
    elseif type(x) == "table" then -- `seen` made at the first nested table: none for flat headers
      seen = seen or { [v] = true }
      nx = scrub.deep(secrets, x, seen)
    end
    if nx ~= x then rawset(v, k, nx) end
    if type(k) == "string" then
      local nk = secrets:scrub(k)
      if nk ~= k then
        renamed = renamed or {}
        renamed[k] = nk
      end
    end
  end
  for k, nk in pairs(renamed or {}) do
    rawset(v, nk, rawget(v, k))
    rawset(v, k, nil)
  end
  return v
end

--- Scrubs a call's results: the error (message, body, every field) and the response
-- headers in meta. `data` is the caller's data and is returned as it is.
-- @return data, err, meta
function scrub.result(secrets, data, err, meta)
  if err ~= nil then scrub.deep(secrets, err) end
  local headers = type(meta) == "table" and meta.headers
  -- one C call finds most answers' headers clean (a plain table: its traversal is pairs')
  if type(headers) == "table" and not (getmetatable(headers) == nil and secrets:clean(headers)) then
    scrub.deep(secrets, headers)
  end
  return data, err, meta
end

return scrub
