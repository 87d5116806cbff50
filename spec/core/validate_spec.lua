local core = require "alephant.core"

local refused = require("spec.support.assert").refused

describe("alephant.core validation", function()
  it("accepts strict calendar dates only", function()
    assert.is_true(core.validate_date("2024-02-29", "from"))
    assert.is_true(core.validate_date("2000-02-29", "from"))
    refused("validation", "from", "not a leap year", core.validate_date("2026-02-29", "from"))
    refused("validation", "from", "not a leap year", core.validate_date("1900-02-29", "from"))
    refused("validation", "to", "YYYY%-MM%-DD", core.validate_date("2026-1-5", "to"))
    refused("validation", "to", "YYYY%-MM%-DD", core.validate_date(" 2026-01-05", "to"))
    refused("validation", "to", "YYYY%-MM%-DD", core.validate_date("2026-01-05 ", "to"))
    refused("validation", "to", "has 30 days", core.validate_date("2026-04-31", "to"))
    refused("validation", "to", "month 13", core.validate_date("2026-13-01", "to"))
    refused("validation", "from", "must be a string, got number", core.validate_date(20261101, "from"))
    refused("validation", "from", "required", core.validate_date(nil, "from"))
  end)

  it("checks date windows: both or neither, from not after to", function()
    assert.is_true(core.validate_date_range(nil, nil, "from", "to"))
    assert.is_true(core.validate_date_range("2026-11-01", "2026-11-27", "from", "to"))
    assert.is_true(core.validate_date_range("2026-11-01", "2026-11-01", "from", "to"))
    refused("validation", "to", "both or neither", core.validate_date_range("2026-11-01", nil, "from", "to"))
    refused("validation", "from", "both or neither", core.validate_date_range(nil, "2026-11-01", "from", "to"))
    refused("validation", "from", "must not be after",
      core.validate_date_range("2026-11-27", "2026-11-01", "from", "to"))
    refused("validation", "to", "does not exist", core.validate_date_range("2026-11-01", "2026-11-31", "from", "to"))
  end)

  it("checks ISO-8601 datetimes and that end is after start", function()
    assert.is_true(core.validate_datetime("2026-11-27T08:00:00Z", "start"))
    assert.is_true(core.validate_datetime("2026-11-27T08:00:00.123+01:00", "start"))
    refused("validation", "start", "ISO%-8601", core.validate_datetime("2026-11-27T08:00:00", "start"))
    refused("validation", "start", "ISO%-8601", core.validate_datetime("2026-11-27 08:00:00Z", "start"))
    refused("validation", "start", "out of range", core.validate_datetime("2026-11-27T25:00:00Z", "start"))
    assert.is_true(core.validate_datetime_range("2026-11-27T08:00:00Z", "2026-11-27T08:00:01Z", "start", "end"))
    refused("validation", "end", "must be after",
      core.validate_datetime_range("2026-11-27T09:00:00+01:00", "2026-11-27T08:00:00Z", "start", "end"))
    refused("validation", "end", "both or neither",
      core.validate_datetime_range("2026-11-27T08:00:00Z", nil, "start", "end"))
  end)

  it("allows at most one analytics scope", function()
    local group = { "agent_id", "member_id", "department_id" }
    assert.is_true(core.validate_exclusive({}, group))
    assert.is_true(core.validate_exclusive({ member_id = "x" }, group))
    refused("validation", "member_id", "agent_id and member_id cannot be combined",
      core.validate_exclusive({ agent_id = "a", member_id = "b" }, group))
  end)

  it("checks UUIDs", function()
    assert.is_true(core.validate_uuid("123e4567-e89b-12d3-a456-426614174000", "agent_id"))
    refused("validation", "agent_id", "UUID", core.validate_uuid("123e4567e89b12d3a456426614174000", "agent_id"))
    refused("validation", "agent_id", "UUID", core.validate_uuid("../../etc", "agent_id"))
  end)

  it("checks bounded integers and refuses fractions on every interpreter", function()
    assert.is_true(core.validate_integer(1, "months", 1, 24))
    assert.is_true(core.validate_integer(24, "months", 1, 24))
    assert.is_true(core.validate_integer(12.0, "months", 1, 24))
    refused("validation", "months", "between 1 and 24", core.validate_integer(25, "months", 1, 24))
    refused("validation", "months", "between 1 and 24", core.validate_integer(0, "months", 1, 24))
    refused("validation", "months", "integer", core.validate_integer(2.5, "months", 1, 24))
    refused("validation", "limit", "integer", core.validate_integer(0 / 0, "limit", 1, 200))
    refused("validation", "limit", "integer", core.validate_integer(math.huge, "limit", 1, 200))
    refused("validation", "limit", "integer, got string", core.validate_integer("10", "limit", 1, 200))
    refused("validation", "limit", "between 1 and 200", core.validate_integer(201, "limit", 1, 200))
    refused("validation", "page_size", "between 1 and 200", core.validate_integer(0, "page_size", 1, 200))
    refused("validation", "page", "1 or more", core.validate_integer(0, "page", 1))
    assert.is_true(core.validate_integer(1e6, "page", 1))
    assert.is_true(core.validate_integer_in(30, "days", { 1, 7, 30 }))
    refused("validation", "days", "one of 1, 7, 30", core.validate_integer_in(14, "days", { 1, 7, 30 }))
    refused("validation", "days", "integer", core.validate_integer_in(7.5, "days", { 1, 7, 30 }))
  end)

  -- Input quoted in a message shows control bytes as '?' (an ESC would drive the
  -- terminal that prints the message), at most 40 bytes of it.
  it("quotes refused input without control bytes", function()
    local esc = "\27[31mred\27[0m"
    local function message(ok, err)
      assert.is_nil(ok)
      assert.not_matches("[%c\127]", err.message)
      return err.message
    end
    assert.matches('got "%?%[31mred%?%[0m"$', message(core.validate_uuid(esc, "agent_id")))
    assert.matches('got "%?%[31mred%?%[0m"$', message(core.validate_enum("period", esc, "period")))
    assert.matches('got "%?%[31mred%?%[0m"$', message(core.validate_date(esc, "from")))
    assert.matches('got "2026%-11%-27T%?%[31mred%?%[0m"$', message(core.validate_datetime("2026-11-27T" .. esc, "at")))
    assert.matches('got "' .. string.rep("x", 40) .. '%.%.%."$',
      message(core.validate_date(string.rep("x", 100), "from")))
  end)

  -- Bounds are read without an undefined float -> int64 conversion: math.maxinteger
  -- (Lua 5.4) stays the largest integer (it once went through a double, 2^63, and came
  -- out as INT64_MIN on x86, refusing everything); 2^63 and math.huge clamp to it.
  it("takes math.maxinteger, 2^63 and math.huge as upper bounds, and refuses NaN or a fraction as a bound", function()
    local maxinteger = rawget(math, "maxinteger")
    if maxinteger then
      assert.is_true(core.validate_integer(5, "n", 0, maxinteger))
      assert.is_true(core.validate_integer(maxinteger, "n", 0, maxinteger))
      assert.is_true(core.validate_integer_in(maxinteger, "n", { 1, maxinteger }))
      refused("validation", "n", "^n must be 0 or more, got %-1$",
        core.validate_integer(-1, "n", 0, maxinteger))
    end
    assert.is_true(core.validate_integer(5, "n", 0, 2 ^ 63))
    assert.is_true(core.validate_integer(5, "n", -math.huge, math.huge))
    refused("validation", "n", "^n must be 0 or more, got %-1$",
      core.validate_integer(-1, "n", 0, math.huge))
    assert.has_error(function() core.validate_integer(5, "n", 0, 0 / 0) end,
      "bad argument #4 to 'validate_integer' (an integer expected)")
    assert.has_error(function() core.validate_integer(5, "n", 0.5, 10) end,
      "bad argument #3 to 'validate_integer' (an integer expected)")
  end)

  it("checks enums and the granularity rule", function()
    assert.is_true(core.validate_enum("period", "billing_cycle"))
    refused("validation", "period", "24h, 7d, 30d, billing_cycle", core.validate_enum("period", "90d"))
    refused("validation", "preset", nil, core.validate_enum("preset", "mtd"))
    assert.is_true(core.validate_enum("analytics_preset", "mtd", "preset"))
    assert.is_true(core.validate_enum("metric", "latency"))
    refused("validation", "granularity", nil, core.validate_enum("granularity", "minute"))
    assert.is_true(core.validate_granularity("cost", "hour"))
    assert.is_true(core.validate_granularity("latency", "day"))
    refused("validation", "granularity", "not available for metric \"latency\"",
      core.validate_granularity("latency", "hour"))
    refused("validation", "granularity", "success_rate", core.validate_granularity("success_rate", "hour"))
    assert.has_error(function() core.validate_enum("colour", "red") end)
    assert.same({ "day", "hour" }, core.enums().granularity)
  end)

  it("checks lengths in characters and header safety", function()
    assert.is_true(core.validate_length("café", "label", 1, 4))
    refused("validation", "label", "at most 3", core.validate_length("abcd", "label", 1, 3))
    refused("validation", "label", "must not be empty", core.validate_length("", "label", 1, 100))
    refused("validation", "label", "UTF%-8", core.validate_length("\255", "label", 0, 100))
    assert.is_true(core.validate_header_value("run_ticket_8421", "run_id"))
    refused("validation", "run_id", "CR", core.validate_header_value("a\rb", "run_id"))
    refused("validation", "run_id", "LF", core.validate_header_value("a\nb", "run_id"))
    refused("validation", "run_id", "NUL", core.validate_header_value("a\0b", "run_id"))
    refused("validation", "run_id", "control character", core.validate_header_value("a\27b", "run_id"))
  end)
end)

describe("alephant.core module", function()
  it("can be opened again in the same VM and shares one error metatable", function()
    local first = core.error_mt
    package.loaded["alephant.core"] = nil
    local again = require "alephant.core"
    assert.equal(first, again.error_mt)
    local _, err = again.validate_uuid("x", "id")
    assert.equal(first, getmetatable(err))
    assert.equal("string", type(again.version))
  end)
end)
