-- A tolerance check and date windows for the report specs (their clients come from
-- emu:client, spec/support/emulator.lua).
local M = {}

function M.near(expected, actual, tolerance, what)
  assert(type(actual) == "number" and math.abs(expected - actual) <= (tolerance or 1e-9),
    ("%s: expected %.6f, got %s"):format(what or "value", expected, tostring(actual)))
end

-- The days from..to (YYYY-MM-DD) of the last n days, today included (UTC).
function M.last_days(n)
  local now = os.time()
  return os.date("!%Y-%m-%d", now - (n - 1) * 86400), os.date("!%Y-%m-%d", now)
end

return M
