-- Errors are values: branch on err.kind; idempotent calls are retried for you.
-- token: vk_agent
local alephant = require "alephant"

local client = assert(alephant.new{ max_retries = 2, timeout = 5 })

-- The emulator can fail on purpose: two 503s, then success. GETs are retried.
local scope, err, meta = client.cockpit:scope(nil, { headers = { ["X-Emulator-Fault"] = "status=503;count=2" } })
assert(scope, tostring(err))
print("succeeded after " .. meta.attempts .. " attempts, request id " .. meta.request_id)

-- A deadline bounds the whole call, retries included.
local _, slow = client.cockpit:scope(nil, { deadline = 0.5, headers = { ["X-Emulator-Fault"] = "stall=3000" } })
print(slow.kind, tostring(slow))

-- A server asking to wait longer than max_retry_wait (default 60 s) is not waited for:
-- the 429 comes back at once, with the wait it asked for in seconds.
local _, limited = client.cockpit:scope(nil, { headers = { ["X-Emulator-Fault"] = "429;retry-after=86400" } })
print(limited.status, "retry after " .. limited.retry_after .. " s")

-- Redirects are never followed: a 3xx is an error naming only the host it points to.
local _, moved = client.cockpit:scope(nil, { headers = { ["X-Emulator-Fault"] =
  "301;location=https://elsewhere.example/api/v1/cockpit/scope?key=secret" } })
print(moved.kind, moved.status, moved.location_host)

local handlers = {
  validation = function(e) return "fix the input: " .. e.message end,
  auth = function(e) return "check the token: " .. e.message end,
  timeout = function() return "try later" end,
}
local _, bad = client.cockpit:usage_summary{ period = "90d" }
print((handlers[bad.kind] or tostring)(bad))
