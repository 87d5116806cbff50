-- Runs inside an nginx worker thread (ngx.run_worker_thread, its own Lua VM): loads
-- alephant.core there, makes one request with the VM's libcurl transport, and reports
-- which VM it was (an id made once per VM), for spec/hardening/concurrency_spec.lua.
local core = require "alephant.core"
local worker = require "alephant.ngx.worker"

local M = {}

local vm_id = core.uuid4()

function M.scope(url, token)
  local res, err = worker.request({ timeout = 30 }, { method = "GET", url = url,
    headers = { Authorization = "Bearer " .. token } })
  local ws = res and res.status == 200 and core.json_decode(res.body)
  return vm_id, res and res.status, err and err.message, ws and ws.workspace and ws.workspace.id
end

return M
