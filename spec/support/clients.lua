-- A tolerance check and date windows for the report specs (their clients come from
-- emu:client, spec/support/emulator.lua).
local M = {}

-- Asserts `actual` is a number within `tolerance` (default 1e-9) of `expected`.
function M.near(expected, actual, tolerance, what)
  tolerance = tolerance or 1e-9
  assert(type(actual) == "number" and math.abs(expected - actual) <= tolerance,
    ("%s: expected %.6f, got %s (tolerance %g)"):format(what or "value", expected, tostring(actual), tolerance))
end

-- The day (YYYY-MM-DD, UTC) `offset` days from today (-1 is yesterday). The emulator's
-- data covers the last 183 days up to today, so a spec names its days this way, never
-- as fixed dates that leave that window.
function M.day(offset)
  return os.date("!%Y-%m-%d", os.time() + (offset or 0) * 86400)
end

-- The days from..to (YYYY-MM-DD) of the last n days, today included (UTC).
function M.last_days(n)
  return M.day(-(n - 1)), M.day(0)
end

return M
