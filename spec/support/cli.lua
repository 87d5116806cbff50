-- Runs alephant.cli in this process for the specs: its own output streams, an
-- environment table, and the environment that points it at the emulator.
--
--   local command = require "spec.support.cli"
--   local code, out, err = command.run({ "cockpit", "scope" }, command.env(emu, "vk_agent"))
local M = {}

--- A stream that collects what is written to it (`b:text()`); as stdin, `b.read()`
-- gives `text`.
function M.buffer(text)
  local b = { parts = {} }
  function b:write(...)
    for i = 1, select("#", ...) do self.parts[#self.parts + 1] = tostring((select(i, ...))) end
    return self
  end
  function b.read() return text end
  function b:text() return table.concat(self.parts) end
  return b
end

--- Runs `cli.main(argv)` with buffers for stdout and stderr, no terminal on stderr and
-- the table `env` as its environment; `ctx` adds to or overrides that context (`stdin`,
-- `stderr_tty`, `new`). Returns the exit status, stdout and stderr.
function M.run(argv, env, ctx)
  env = env or {}
  local out, err = M.buffer(), M.buffer()
  local c = { stdout = out, stderr = err, stderr_tty = false, getenv = function(name) return env[name] end }
  for k, v in pairs(ctx or {}) do c[k] = v end
  local code = require("alephant.cli").main(argv, c)
  return code, out:text(), err:text()
end

--- The environment of a command line pointed at `emu` with a fixture token, and for a
-- PAT or JWT its workspace; `extra` entries win.
function M.env(emu, token_name, extra)
  local env = { ALEPHANT_API_BASE_URL = emu.saas_url, ALEPHANT_ANALYTICS_BASE_URL = emu.analytics_url,
    ALEPHANT_GATEWAY_BASE_URL = emu.gateway_url, ALEPHANT_TOKEN = emu.tokens[token_name] }
  if token_name:match("^pat") or token_name:match("^jwt") then env.ALEPHANT_WORKSPACE_ID = emu.ids.workspace_1 end
  for k, v in pairs(extra or {}) do env[k] = v end
  return env
end

return M
