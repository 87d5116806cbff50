--- The Lua client for the Alephant APIs.
--
--     local alephant = require "alephant"
--     local client, err = alephant.new{ token = os.getenv("ALEPHANT_TOKEN") }
--     if not client then error(tostring(err)) end
--     print(client:token_kind())  --> "virtual_key", "pat" or "jwt"
--
-- @module alephant
local core = require "alephant.core"
local config = require "alephant.config"
local errors = require "alephant.errors"

local alephant = {
  _VERSION = core.version,
  errors = errors,
  core = core,
}

-- Secrets live outside the client table, so that printing or serialising a client
-- (inspect, cjson, debug dumps) can never show the token.
local secrets = setmetatable({}, { __mode = "k" })

local Client = {}
Client.__index = Client

--- Creates a client.
-- Options and their environment fallbacks are listed in the README. Unknown option
-- names and wrong option types raise; everything else that makes the client
-- unusable (no token, an unrecognised or expired token, a PAT without a workspace,
-- a malformed URL) is returned.
-- @tparam[opt] table opts options
-- @treturn Client the client
-- @return[2] nil
-- @return[2] table error of kind `config` (or `auth` for an expired JWT)
function alephant.new(opts)
  local settings, err = config.resolve(opts)
  if not settings then return nil, err end
  local client = setmetatable({
    base_url = settings.base_url,
    analytics_url = settings.analytics_url,
    gateway_url = settings.gateway_url,
    workspace_id = settings.workspace_id,
    timeout = settings.timeout,
    connect_timeout = settings.connect_timeout,
    max_retries = settings.max_retries,
    rate_limit_rpm = settings.rate_limit_rpm,
    cafile = settings.cafile,
    capath = settings.capath,
    allow_insecure_http = settings.allow_insecure_http or false,
  }, Client)
  secrets[client] = { token = settings.token, info = settings.token_info }
  return client
end

--- The kind of the client's token.
-- @treturn string `"jwt"`, `"pat"` or `"virtual_key"`
function Client:token_kind()
  return secrets[self].info.kind
end

--- The redacted token, safe to log (`vk-ab…3f8a`).
function Client:redacted_token()
  return core.redact(secrets[self].token)
end

--- The JWT's `exp` claim (seconds since the epoch), or nil.
function Client:token_expires_at()
  return secrets[self].info.exp
end

function Client:__tostring()
  return ("alephant.client<%s %s>"):format(self:token_kind(), self:redacted_token())
end

-- For the SDK's own modules only: the token and its parsed form.
function alephant._secret(client)
  return secrets[client]
end

return alephant
