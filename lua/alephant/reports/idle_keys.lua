--- The `idle_keys` report (`alephant.reports.idle_keys`): active virtual keys with no
-- usage in the last N days.
-- @module alephant.reports.idle_keys
local common = require "alephant.reports.common"
local activity = require "alephant.reports.activity"

local scan = common.scan

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
-- @tparam[opt] table opts `days`, `progress` (function(what, count, done)), `now`
--   (seconds since the epoch); limits and defaults: `alephant.reports.options.of("idle_keys")`
--   (declared in `activity`)
-- @treturn table `{days, from, to, checked, items = {{id, label, entity_type,
--   entity_id, entity_name, last_used, idle_days, basis, created_at}, ...}}`; keys
--   whose last use is unknown come first, then the longest idle
-- @return[2] nil
-- @return[2] table error (`auth`, before any request, for a virtual key)
local function idle_keys(client, opts)
  local w, err = activity.window(client, "idle_keys", "the workspace's virtual keys", opts)
  if not w then return nil, err end
  local keys
  keys, err = scan(client, "virtual_keys", { status = "active" }, "virtual keys", w.opts.progress)
  if not keys then return nil, err end
  local items, checked = activity.idle_keys(keys, w.active, w.from_day, w.today)
  return { days = w.days, from = w.from, to = w.to, checked = checked, items = items }
end

return idle_keys
