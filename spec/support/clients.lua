-- Clients for the emulator's fixture tokens, and a tolerance check, for the report specs.
local alephant = require "alephant"

local M = {}

-- A client for a fixture token (PATs and JWTs get the workspace); extra options merged.
function M.client(emu, token_name, extra)
  local opts = { token = emu.tokens[token_name], base_url = emu.saas_url, analytics_url = emu.analytics_url,
    gateway_url = emu.gateway_url, getenv = function() return nil end }
  if token_name:match("^pat") or token_name:match("^jwt") then opts.workspace_id = emu.ids.workspace_1 end
  for k, v in pairs(extra or {}) do opts[k] = v end
  return assert(alephant.new(opts))
end

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
