--- When and how long to wait before trying a request again.
-- Only idempotent requests are retried by default (GET and friends); writes are never
-- repeated unless the caller opts in per call. Retried: network errors and timeouts,
-- 429 (honouring Retry-After) and 502/503/504. Backoff is capped exponential with
-- "equal jitter": half the step is fixed, half random, so many clients that failed
-- together do not come back together.
-- @module alephant.retry
local core = require "alephant.core"

local retry = {}

--- First backoff step, seconds.
retry.base_delay = 0.25
--- Largest backoff step, seconds.
retry.max_delay = 8

local retry_status = { [429] = true, [502] = true, [503] = true, [504] = true }

--- True for HTTP statuses worth another attempt.
function retry.status_retryable(status)
  return retry_status[status] == true
end

--- The wait before retry number `n` (1 for the first retry).
-- @tparam number n retry number
-- @tparam function random returns a number in [0, 1)
function retry.backoff(n, random)
  local step = math.min(retry.max_delay, retry.base_delay * 2 ^ (n - 1))
  return step / 2 + random() * step / 2
end

local months = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9, Oct = 10,
  Nov = 11, Dec = 12 }

--- Seconds to wait according to a Retry-After header: delta-seconds or an HTTP-date.
-- @tparam string value the header
-- @tparam number now seconds since the epoch (for HTTP-dates)
-- @treturn number|nil seconds (never negative), nil when the header is unusable
function retry.retry_after(value, now)
  if type(value) ~= "string" then return nil end
  local secs = value:match("^%s*(%d+)%s*$")
  if secs then return tonumber(secs) end
  local d, mon, y, hh, mm, ss = value:match("^%a+, (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  if not d or not months[mon] then return nil end
  local at = core.parse_datetime(("%s-%02d-%sT%s:%s:%sZ"):format(y, months[mon], d, hh, mm, ss))
  if not at then return nil end
  return math.max(0, at - now)
end

return retry
