--- The `idle_keys` report (`alephant.reports.idle_keys`): active virtual keys with no
-- usage in the last N days.
-- @module alephant.reports.idle_keys
local core = require "alephant.core"
local errors = require "alephant.errors"
local dates = require "alephant.reports.dates"
local common = require "alephant.reports.common"
local activity = require "alephant.reports.activity"

local date_of, today = dates.date_of, dates.today
local check_opts, scan = common.check_opts, common.scan

--- Active virtual keys with no usage in the last `days` days.
--
-- A key's own `lastUsedAt` (or `last_used_at`) decides when the API sends it. When it
-- does not, the key's agent or member decides: idle when that entity has no requests
-- and no cost in the window (`analytics.costs`), since the API has no per-key usage
-- (docs/api-notes.md#known-gaps); `basis` says which rule applied (`last_used_at`, `entity`, or
-- `none` for an unbound key that was never seen in use). Needs a personal access token
-- or a JWT: a virtual key cannot list the workspace's keys.
--
-- @tparam Client client a client
-- @tparam[opt] table opts `days` (1..3650, default 30), `progress`
--   (function(what, count, done)), `now` (seconds since the epoch)
-- @treturn table `{days, from, to, checked, items = {{id, label, entity_type,
--   entity_id, entity_name, last_used, idle_days, basis, created_at}, ...}}`; keys
--   whose last use is unknown come first, then the longest idle
-- @return[2] nil
-- @return[2] table error (`auth`, before any request, for a virtual key)
local function idle_keys(client, opts)
  opts = check_opts("idle_keys", opts, { days = "number", progress = "function", now = "number" })
  local days = opts.days or 30
  local ok, err = core.validate_integer(days, "days", 1, 3650)
  if not ok then return nil, err end
  if client:token_kind() == "virtual_key" then
    return nil, errors.new("auth", "report idle-keys lists the workspace's virtual keys: it needs a personal "
      .. "access token or a JWT (a virtual key sees only itself)", { field = "token" })
  end
  local t = today(opts.now)
  local from_day = t - days + 1
  local from, to = date_of(from_day), date_of(t)
  local costs
  costs, err = client.analytics:costs{ from = from, to = to }
  if costs == nil then return nil, err end
  local active = activity.active_ids(costs)
  local keys
  keys, err = scan(client, "virtual_keys", { status = "active" }, "virtual keys", opts.progress)
  if not keys then return nil, err end
  local items, checked = activity.idle_keys(keys, active, from_day, t)
  return { days = days, from = from, to = to, checked = checked, items = items }
end


return idle_keys
