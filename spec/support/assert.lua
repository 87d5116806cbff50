-- Assertions the specs share (busted's `assert` underneath).
local assert = require "luassert"

local M = {}

--- Asserts a refusal: `value` is nil and `err` an SDK error of `kind`, on `field` when
-- given, whose message matches the Lua pattern `pattern` when given, in one line (the
-- bad value is never echoed with its line breaks). Returns `err` for more checks.
--
--     local err = refused("validation", "from", "YYYY%-MM%-DD", core.validate_date("2026-1-5", "from"))
function M.refused(kind, field, pattern, value, err)
  assert.is_nil(value)
  assert.is_table(err)
  assert.equal(kind, err.kind, tostring(err))
  if field then assert.equal(field, err.field, tostring(err)) end
  if pattern then assert.matches(pattern, err.message) end
  assert.is_nil(tostring(err):find("[\r\n]"), "one line, the bad value not echoed")
  return err
end

return M
