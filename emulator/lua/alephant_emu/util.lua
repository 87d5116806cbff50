-- Small helpers: dates (UTC, days since 1970-01-01), UUIDs, hashing, numbers.
local M = {}

local floor = math.floor
local MOD = 2147483647

-- Deterministic string hash in [1, MOD-1]; pure arithmetic so it is the same everywhere.
function M.hash(s, h)
  h = h or 5381
  for i = 1, #s do
    h = (h * 33 + s:byte(i)) % MOD
  end
  if h == 0 then h = 1 end
  -- finalize: a few non-linear rounds so near-equal inputs spread apart
  -- (all products stay below 2^53, so doubles compute them exactly)
  for _ = 1, 4 do
    h = (h * 48271) % MOD
    h = (h * ((h % 65521) + 1) + 12345) % MOD
    if h == 0 then h = 1 end
  end
  return h
end

-- Park-Miller step; returns the new state and a float in [0, 1).
function M.lcg(x)
  x = (x * 48271) % MOD
  if x == 0 then x = 1 end
  return x, x / MOD
end

function M.round(x, digits)
  local m = 10 ^ (digits or 0)
  return floor(x * m + 0.5) / m
end

---------------------------------------------------------------------------
-- Dates.  Civil <-> days algorithms (Howard Hinnant), valid for the proleptic
-- Gregorian calendar.
---------------------------------------------------------------------------
function M.days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

function M.civil_from_days(z)
  z = z + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  if m <= 2 then y = y + 1 end
  return y, m, d
end

local mdays = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
function M.days_in_month(y, m)
  if m == 2 and ((y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0) then
    return 29
  end
  return mdays[m]
end

function M.fmt_day(day)
  local y, m, d = M.civil_from_days(day)
  return string.format("%04d-%02d-%02d", y, m, d)
end

function M.fmt_month(day)
  local y, m = M.civil_from_days(day)
  return string.format("%04d-%02d", y, m)
end

-- "YYYY-MM-DD" -> day number, or nil when malformed or not a real date.
function M.parse_day(s)
  if type(s) ~= "string" then return nil end
  local y, m, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if not y then return nil end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  if m < 1 or m > 12 or d < 1 or d > M.days_in_month(y, m) then
    return nil
  end
  return M.days_from_civil(y, m, d)
end

-- ISO 8601 date-time (or a plain date) -> epoch seconds, or nil.
-- Accepts YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM|-HH:MM].
function M.parse_iso(s)
  if type(s) ~= "string" then return nil end
  local day = M.parse_day(s)
  if day then return day * 86400 end
  local date, hh, mi, rest = s:match("^(%d%d%d%d%-%d%d%-%d%d)[Tt ](%d%d):(%d%d)(.*)$")
  if not date then return nil end
  day = M.parse_day(date)
  if not day then return nil end
  hh, mi = tonumber(hh), tonumber(mi)
  local ss = 0
  local sec = rest:match("^:(%d%d)")
  if sec then
    ss = tonumber(sec)
    rest = rest:sub(4)
    local frac = rest:match("^%.(%d+)")
    if frac then
      rest = rest:sub(#frac + 2)
    end
  end
  if hh > 23 or mi > 59 or ss > 60 then return nil end
  local off
  if rest == "Z" or rest == "z" or rest == "" then
    off = 0
  else
    local sign, oh, om = rest:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    off = (tonumber(oh) * 60 + tonumber(om)) * 60
    if sign == "-" then off = -off end
  end
  return day * 86400 + hh * 3600 + mi * 60 + ss - off
end

function M.fmt_iso(t)
  t = floor(t)
  local day = floor(t / 86400)
  local s = t - day * 86400
  return string.format("%sT%02d:%02d:%02dZ", M.fmt_day(day), floor(s / 3600), floor(s % 3600 / 60), s % 60)
end

-- ISO week day: 1 = Monday .. 7 = Sunday (day 0 = 1970-01-01 was a Thursday).
function M.weekday(day)
  return (day + 3) % 7 + 1
end

---------------------------------------------------------------------------
-- UUIDs
---------------------------------------------------------------------------
function M.is_uuid(s)
  return type(s) == "string"
    and s:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$") ~= nil
end

local hexd = "0123456789abcdef"
local function hexstr_from(seed, n)
  local out = {}
  local x = seed
  for i = 1, n do
    local r
    x, r = M.lcg(x)
    local k = floor(r * 16) + 1
    out[i] = hexd:sub(k, k)
  end
  return table.concat(out), x
end

local function format_uuid(h)
  return string.format("%s-%s-4%s-%s%s-%s", h:sub(1, 8), h:sub(9, 12), h:sub(14, 16),
    hexd:sub(9 + (h:byte(17) % 4), 9 + (h:byte(17) % 4)), h:sub(18, 20), h:sub(21, 32))
end

-- Deterministic UUID from a string.
function M.uuid_from(s)
  local h = hexstr_from(M.hash(s), 32)
  return format_uuid(h)
end

local counter = 0
-- Random UUID v4 (math.random is seeded per worker in init_worker).
function M.uuid4()
  local t = {}
  for i = 1, 32 do
    local k = math.random(1, 16)
    t[i] = hexd:sub(k, k)
  end
  counter = counter + 1
  return format_uuid(table.concat(t))
end

function M.random_hex(n)
  local t = {}
  for i = 1, n do
    local k = math.random(1, 16)
    t[i] = hexd:sub(k, k)
  end
  return table.concat(t)
end

function M.hex_from(s, n)
  return (hexstr_from(M.hash(s), n))
end

---------------------------------------------------------------------------
-- Misc
---------------------------------------------------------------------------
function M.trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

function M.split(s, sep)
  local out = {}
  for part in (s .. sep):gmatch("(.-)" .. sep:gsub("%p", "%%%0")) do
    out[#out + 1] = part
  end
  return out
end

-- Strict non-negative integer parse of a query value.
function M.to_int(s)
  if type(s) == "number" then
    if s == floor(s) then return s end
    return nil
  end
  if type(s) ~= "string" or not s:match("^%-?%d+$") or #s > 12 then
    return nil
  end
  return tonumber(s)
end

function M.copy(t)
  local o = {}
  for k, v in pairs(t) do o[k] = v end
  return setmetatable(o, getmetatable(t))
end

function M.pct(part, whole)
  if not whole or whole == 0 then return 0 end
  return M.round(part * 100 / whole, 2)
end

return M
