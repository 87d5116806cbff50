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

local handlers = {
  validation = function(e) return "fix the input: " .. e.message end,
  auth = function(e) return "check the token: " .. e.message end,
  timeout = function() return "try later" end,
}
local _, bad = client.cockpit:usage_summary{ period = "90d" }
print((handlers[bad.kind] or tostring)(bad))
