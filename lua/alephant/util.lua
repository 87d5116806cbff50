--- Small helpers with no rule of their own, shared by the client, the gateway, the CLI and
-- `alephant.ngx` (one copy each instead of one per module).
-- @module alephant.util
local util = {}

--- A deep copy a caller may change without touching the original: nested tables are
-- copied, metatables kept (an `alephant.array` marker survives, so an empty array is
-- still sent as `[]`). Anything that is not a table is returned as it is.
-- @param v any value (tables without cycles)
-- @return the copy
function util.copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = util.copy(x) end
  return setmetatable(out, getmetatable(v))
end

--- The keys of a table, sorted by their text (the same order for the same table,
-- whatever the key types).
-- @tparam table t
-- @treturn table the keys, as they are in `t`
function util.sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

--- The shortest decimal text of a finite number that reads back as the same number,
-- identical on Lua 5.4 and LuaJIT (3 and 3.0 both give "3"; 0.1 gives "0.1"); nil for
-- NaN and infinities.
-- @tparam number n
-- @treturn string|nil
function util.number_text(n)
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

return util
