-- Workspace usage for a status page: a timer in one worker asks Alephant every
-- `interval` seconds (analytics.overview and analytics.budget_status, with the PAT in
-- ALEPHANT_TOKEN and ALEPHANT_WORKSPACE_ID) and stores the answer in a shared dict;
-- `serve()` answers from that dict, so a status request never waits on Alephant.
--
--   init_worker_by_lua_block { require("alephant_usage_status").start({ interval = 60 }) }
--   location = /status { content_by_lua_block { require("alephant_usage_status").serve() } }
local alephant_ngx = require "alephant.ngx"
local cjson = require "cjson.safe"
local metrics = require "alephant_metrics"

local M = { dict = "alephant_status", key = "workspace" }

local client

-- The timer's work: never raises (a failed refresh is stored as such and logged).
local function refresh(premature)
  if premature then return end -- nginx is shutting down
  local dict = ngx.shared[M.dict]
  local status = { refreshed_at = ngx.time() }
  local err
  if not client then
    -- token, workspace id and URLs come from the environment (`env` directives)
    client, err = alephant_ngx.new({ timeout = 10, on_response = metrics.on_response })
  end
  if client then
    local overview, budget
    overview, err = client.analytics:overview()
    if overview then budget, err = client.analytics:budget_status() end
    if budget then
      status.ok = true
      status.workspace_id = client.workspace_id
      status.period = overview.period
      status.requests = overview.totalRequests
      status.tokens = overview.totalTokens
      status.cost_cents = overview.totalCostCents
      status.budget = { budget = budget.budget, spent = budget.spent, usage_pct = budget.usagePct,
        status = budget.status }
    end
  end
  if not status.ok then
    status.ok = false
    status.error = { kind = err.kind, message = err.message }
    ngx.log(ngx.ERR, "usage status: ", tostring(err))
  end
  dict:set(M.key, cjson.encode(status))
end

--- Starts the refresh timer (in init_worker_by_lua; worker 0 only, so one instance asks).
-- @tparam table opts `interval` seconds between refreshes (default 60)
function M.start(opts)
  if ngx.worker.id() ~= 0 then return end
  local interval = opts and opts.interval or 60
  -- init_worker cannot make requests itself: the first refresh runs from a timer too
  assert(ngx.timer.at(0, refresh))
  assert(ngx.timer.every(interval, refresh))
end

--- Answers the last stored status (content_by_lua).
function M.serve()
  ngx.header["Content-Type"] = "application/json"
  ngx.say(ngx.shared[M.dict]:get(M.key) or '{"ok":false,"pending":true}')
end

return M
