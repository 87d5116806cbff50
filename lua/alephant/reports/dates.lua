--- Calendar days for the reports: day numbers (days since 1970-01-01, UTC) to and from
-- `YYYY-MM-DD`, and today.
-- @module alephant.reports.dates
local dates = {}

-- Day numbers (days since 1970-01-01) without the local time zone (H. Hinnant's algorithm).
-- Floor division (no // operator on LuaJIT).
local function idiv(a, b) return math.floor(a / b) end

local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = idiv((y >= 0 and y or y - 399), 400)
  local yoe = y - era * 400
  local doy = idiv(153 * (m + (m > 2 and -3 or 9)) + 2, 5) + d - 1
  local doe = yoe * 365 + idiv(yoe, 4) - idiv(yoe, 100) + doy
  return era * 146097 + doe - 719468
end

local function date_of(z)
  z = z + 719468
  local era = idiv((z >= 0 and z or z - 146096), 146097)
  local doe = z - era * 146097
  local yoe = idiv(doe - idiv(doe, 1460) + idiv(doe, 36524) - idiv(doe, 146096), 365)
  local doy = doe - (365 * yoe + idiv(yoe, 4) - idiv(yoe, 100))
  local mp = idiv((5 * doy + 2), 153)
  local d = doy - idiv((153 * mp + 2), 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return string.format("%04d-%02d-%02d", y, m, d)
end

-- The day of "YYYY-MM-DD..." (a date or an ISO datetime), or nil.
local function day_of(s)
  if type(s) ~= "string" then return nil end
  local y, m, d = s:match("^(%d%d%d%d)-(%d%d)-(%d%d)")
  if not y then return nil end
  return days_from_civil(tonumber(y), tonumber(m), tonumber(d))
end

local function today(now)
  local t = os.date("!*t", now or os.time())
  return days_from_civil(t.year, t.month, t.day)
end

dates.days_from_civil, dates.date_of, dates.day_of, dates.today = days_from_civil, date_of, day_of, today

return dates
