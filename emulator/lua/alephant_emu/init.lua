-- init_by_lua: load the fixtures once in the master process.
local store = require("alephant_emu.store")
local series = require("alephant_emu.series")

local M = {}

function M.init(opts)
  local fx = store.load(opts.fixtures)
  store.fixtures_path = opts.fixtures
  series.setup(fx)
  local d = ngx.shared.emu_state
  if opts.ingest_delay_ms then d:set("cfg:ingest_delay_ms", opts.ingest_delay_ms) end
  -- pre-load every module so workers fork with them compiled
  for _, m in ipairs({ "json", "util", "auth", "resp", "faults", "recorder", "reports", "logs", "cockpit", "saas",
    "analytics", "gateway", "admin", "app" }) do
    require("alephant_emu." .. m)
  end
end

function M.init_worker()
  math.randomseed(math.floor(ngx.now() * 1000) + ngx.worker.pid() * 7919)
end

return M
