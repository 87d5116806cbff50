--- Error values of the SDK.
-- Every runtime or API failure is returned as `nil, err` where `err` is a table
-- with `kind`, `message` and, where known, `field`, `status`, `code`, `request_id`,
-- `retryable` and `endpoint`. `tostring(err)` gives one readable line. Errors made
-- in C and in Lua share one metatable (`alephant.core.error_mt`).
-- @module alephant.errors
local core = require "alephant.core"

local errors = {}

--- The kinds an error can have.
errors.kinds = {
  config = true, validation = true, auth = true, network = true, timeout = true,
  tls = true, http = true, decode = true, too_large = true,
}

--- Makes an error table.
-- @tparam string kind one of `errors.kinds`
-- @tparam string message one line saying what happened and what to do
-- @tparam[opt] table fields extra fields (`status`, `code`, `field`, ...)
-- @treturn table the error
function errors.new(kind, message, fields)
  assert(errors.kinds[kind], "unknown error kind")
  local err = { kind = kind, message = message, retryable = false }
  if fields then
    for k, v in pairs(fields) do err[k] = v end
  end
  return setmetatable(err, core.error_mt)
end

--- True when `value` is an error made by this SDK.
function errors.is(value)
  return type(value) == "table" and getmetatable(value) == core.error_mt
end

return errors
