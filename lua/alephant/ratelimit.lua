--- A client-side token bucket (`rate_limit_rpm`): calls wait for a token instead of
-- failing. The bucket holds one second's worth of calls (at least one), so short bursts
-- pass and the average stays at the limit.
-- @module alephant.ratelimit
local ratelimit = {}
ratelimit.__index = ratelimit

--- A bucket for `rpm` calls per minute, with a clock and a sleep function.
function ratelimit.new(rpm, now, sleep)
  local rate = rpm / 60
  local capacity = math.max(1, rate)
  return setmetatable({ rate = rate, capacity = capacity, tokens = capacity, at = now(), now = now,
    sleep = sleep }, ratelimit)
end

--- Takes one token, sleeping until one is available. Returns the seconds waited.
function ratelimit:take()
  local waited = 0
  while true do
    local t = self.now()
    self.tokens = math.min(self.capacity, self.tokens + (t - self.at) * self.rate)
    self.at = t
    if self.tokens >= 1 then
      self.tokens = self.tokens - 1
      return waited
    end
    local wait = (1 - self.tokens) / self.rate
    self.sleep(wait)
    waited = waited + wait
  end
end

return ratelimit
