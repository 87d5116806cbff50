--- Calendar days for the reports: day numbers (days since 1970-01-01, UTC) to and from
-- `YYYY-MM-DD`, and today. The calendar itself is the C core's (`core.parse_date`) and
-- the C library's (`os.date("!...")`): no date arithmetic here.
-- @module alephant.reports.dates
local core = require "alephant.core"

local dates = {}

-- "YYYY-MM-DD" of a day number.
local function date_of(z)
  return os.date("!%Y-%m-%d", z * 86400)
end

-- The day of "YYYY-MM-DD..." (a date, or the date part of an ISO datetime), or nil when
-- it is not a real calendar day.
local function day_of(s)
  if type(s) ~= "string" then return nil end
  local epoch = core.parse_date(s:sub(1, 10))
  return epoch and math.floor(epoch / 86400)
end

local function today(now)
  return math.floor((now or os.time()) / 86400)
end

dates.date_of, dates.day_of, dates.today = date_of, day_of, today

return dates
