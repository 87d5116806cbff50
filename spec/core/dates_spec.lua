-- Calendar arithmetic has one owner, the C core (src/core/date.c): core.parse_date and
-- core.parse_datetime give the epoch, and Retry-After HTTP-dates, the reports' day numbers
-- and the OpenResty budget guard use them instead of their own days_from_civil.
local core = require "alephant.core"
local retry = require "alephant.retry"
local dates = require "alephant.reports.dates"

describe("core.parse_date and core.parse_datetime", function()
  it("give seconds since the epoch, UTC", function()
    assert.equal(0, core.parse_date("1970-01-01"))
    assert.equal(1793491200, core.parse_date("2026-11-01"))
    assert.equal(951782400, core.parse_date("2000-02-29"))
    assert.equal(-86400, core.parse_date("1969-12-31"))
    assert.equal(1793491200, core.parse_datetime("2026-11-01T00:00:00Z"))
    assert.equal(1795762800, core.parse_datetime("2026-11-27T07:00:00Z"))
    assert.equal(1795762800, core.parse_datetime("2026-11-27T08:00:00+01:00"))
    assert.equal(1795762800, core.parse_datetime("2026-11-27T02:30:00-04:30"))
    assert.equal(1795762800.25, core.parse_datetime("2026-11-27T07:00:00.250Z"))
    assert.equal(1795762800.123, core.parse_datetime("2026-11-27T07:00:00.123456789Z"))
    assert.equal(-1, core.parse_datetime("1969-12-31T23:59:59Z"))
  end)

  it("are integers when whole (Lua 5.3+)", function()
    local mtype = rawget(math, "type") -- nil on LuaJIT: doubles only
    if mtype then
      assert.equal("integer", mtype(core.parse_date("2026-11-01")))
      assert.equal("integer", mtype(core.parse_datetime("2026-11-01T10:00:00Z")))
      assert.equal("float", mtype(core.parse_datetime("2026-11-01T10:00:00.5Z")))
    end
  end)

  it("agree with the C library's calendar on every day of four centuries", function()
    for day = -36524, 109572, 7 do -- 1870 .. 2270, a day of each week
      local iso = os.date("!%Y-%m-%d", day * 86400)
      assert.equal(day * 86400, core.parse_date(iso), iso)
      assert.equal(day * 86400 + 3723, core.parse_datetime(iso .. "T01:02:03Z"), iso)
    end
  end)

  it("refuse what validate_date and validate_datetime refuse, with the same error", function()
    for _, s in ipairs({ "2026-02-29", "2026-13-01", "2026-1-05", "2026-11-01T", 20261101 }) do
      local ok, err = core.parse_date(s, "from")
      local _, verr = core.validate_date(s, "from")
      assert.is_nil(ok)
      assert.equal("validation", err.kind)
      assert.equal("from", err.field)
      assert.equal(verr.message, err.message)
    end
    for _, s in ipairs({ "2026-11-27T08:00:00", "2026-11-27 08:00:00Z", "2026-11-27T24:00:00Z",
      "2026-11-27T08:00:00+1:00", "2026-02-30T00:00:00Z" }) do
      local ok, err = core.parse_datetime(s, "start")
      local _, verr = core.validate_datetime(s, "start")
      assert.is_nil(ok)
      assert.equal("start", err.field)
      assert.equal(verr.message, err.message)
    end
    local _, err = core.parse_date(nil)
    assert.equal("date", err.field)
    assert.matches("required", err.message)
  end)
end)

describe("Retry-After as an HTTP-date", function()
  it("is the wait until that instant", function()
    local now = core.parse_datetime("2026-11-06T08:49:07Z")
    assert.equal(30, retry.retry_after("Fri, 06 Nov 2026 08:49:37 GMT", now))
    assert.equal(86400 + 30, retry.retry_after("Sat, 07 Nov 2026 08:49:37 GMT", now))
    assert.equal(0, retry.retry_after("Thu, 05 Nov 2026 08:49:37 GMT", now))
    assert.equal(120, retry.retry_after(" 120 ", now))
  end)

  it("is nil for dates that do not exist or do not parse", function()
    assert.is_nil(retry.retry_after("Sun, 30 Feb 2026 08:49:37 GMT", 0))
    assert.is_nil(retry.retry_after("Sun, 06 Foo 2026 08:49:37 GMT", 0))
    assert.is_nil(retry.retry_after("Sun, 06 Nov 2026 25:49:37 GMT", 0))
    assert.is_nil(retry.retry_after("soon", 0))
    assert.is_nil(retry.retry_after(nil, 0))
  end)
end)

describe("the reports' day numbers", function()
  it("go to and from YYYY-MM-DD", function()
    assert.equal(20393, dates.day_of("2025-11-01"))
    assert.equal(20393, dates.day_of("2025-11-01T23:59:59Z")) -- the date part of a datetime
    assert.equal("2025-11-01", dates.date_of(20393))
    assert.equal("1969-12-31", dates.date_of(-1))
    assert.equal("2024-02-29", dates.date_of(dates.day_of("2024-02-29")))
    assert.equal(20393, dates.today(20393 * 86400 + 86399))
    assert.is_nil(dates.day_of("2025-02-29"))
    assert.is_nil(dates.day_of("yesterday"))
    assert.is_nil(dates.day_of(20393))
  end)
end)
