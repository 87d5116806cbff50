-- A personal access token reads workspace analytics and walks the virtual keys.
-- token: pat_read
--   ALEPHANT_TOKEN=pat_... ALEPHANT_WORKSPACE_ID=<uuid> lua5.4 examples/workspace_usage.lua
local alephant = require "alephant"

local client = assert(alephant.new())

-- The last seven UTC days, as calendar dates.
local now = os.time()
local from, to = os.date("!%Y-%m-%d", now - 6 * 86400), os.date("!%Y-%m-%d", now)

local usage, err = client.analytics:usage{ from = from, to = to }
if not usage then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
local cost = 0
for _, day in ipairs(usage.series or {}) do cost = cost + (day.cost or 0) end
print(("%s .. %s: $%.2f over %d days"):format(from, to, cost, #(usage.series or {})))

-- Every active key, page after page; a failure arrives once as false, err.
for key, kerr in client.virtual_keys:each{ status = "active", page_size = 50 } do
  if key == false then
    io.stderr:write(tostring(kerr), "\n")
    os.exit(1)
  end
  print(("  %-32s %s"):format(key.label or key.id, key.status))
end

-- Mistakes are caught before any request, with a hint.
local _, bad = client.analytics:usage{ dateFrom = from }
print(tostring(bad))
