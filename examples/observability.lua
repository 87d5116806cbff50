-- Logs and metrics for every HTTP attempt the client makes, with its observability
-- hooks: one log line per attempt (retries included) and request counts and latency
-- per endpoint and status. The hooks never see the token or any header.
-- token: pat_read
--   ALEPHANT_TOKEN=pat_... ALEPHANT_WORKSPACE_ID=<uuid> lua5.4 examples/observability.lua
local alephant = require "alephant"

-- metrics[endpoint .. " " .. status] = { count, seconds }
local metrics = {}

local client = assert(alephant.new{
  on_request = function(info)
    io.stderr:write(("-> %s %s (attempt %d, request id %s)\n"):format(info.method, info.url, info.attempt,
      info.request_id))
  end,
  on_response = function(info)
    -- a failed attempt has no status when no answer came: name the error's kind instead
    local outcome = info.status or info.error.kind
    io.stderr:write(("<- %s %s in %.1f ms%s\n"):format(info.endpoint, outcome, info.duration * 1000,
      info.ok and "" or " (failed)"))
    local key = info.endpoint .. " " .. outcome
    local m = metrics[key] or { count = 0, seconds = 0 }
    m.count, m.seconds = m.count + 1, m.seconds + info.duration
    metrics[key] = m
  end,
})

local today = os.date("!%Y-%m-%d")
assert(client.analytics:usage{ from = today, to = today })
assert(client.analytics:overview())
for key, err in client.virtual_keys:each({ page_size = 2 }, { max_items = 4 }) do
  if key == false then error(tostring(err)) end
end
-- refused before any request: no attempt, no hook call
assert(not client.analytics:usage{ from = today })

print("endpoint status: requests, mean latency")
local keys = {}
for k in pairs(metrics) do keys[#keys + 1] = k end
table.sort(keys)
for _, k in ipairs(keys) do
  local m = metrics[k]
  print(("  %-32s %3d  %6.1f ms"):format(k, m.count, m.seconds / m.count * 1000))
end
client:close()
