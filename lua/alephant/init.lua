--- The Lua client for the Alephant APIs.
--
--     local alephant = require "alephant"
--     local client = assert(alephant.new{ token = os.getenv("ALEPHANT_TOKEN") })
--     local usage, err, meta = client.analytics:usage{ from = "2026-11-01", to = "2026-11-27" }
--
-- @module alephant
local core = require "alephant.core"
local config = require "alephant.config"
local errors = require "alephant.errors"
local Client = require "alephant.client"

local alephant = {
  _VERSION = core.version,
  errors = errors,
  core = core,
  --- The value of JSON `null` inside arrays (and a top-level `null`).
  null = core.null,
}

--- Marks a table as a JSON array, so that an empty one is sent as `[]`.
function alephant.array(t)
  return setmetatable(t or {}, core.array_mt)
end

--- Decodes JSON text with the SDK's codec (integers stay integers; `null` as in answers),
-- e.g. a tool call's `arguments`.
-- @function json_decode
-- @tparam string text JSON text
-- @return the value, or nil and a `decode` error
alephant.json_decode = core.json_decode

--- Encodes a value as JSON text with the SDK's codec (e.g. a tool result's content).
-- @function json_encode
-- @return the text, or nil and an error
alephant.json_encode = core.json_encode

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
  if opts == alephant then
    error("alephant.new is a function, not a method: write alephant.new{...}, not alephant:new{...}", 2)
  end
  local settings, err = config.resolve(opts)
  if not settings then return nil, err end
  return Client.new(settings)
end

return alephant
