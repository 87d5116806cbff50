--- Who was active in a window, shared by the idle reports (`idle_keys`, `idle`): the
-- ids with spend or requests in an `analytics.costs` answer, and the rule that says
-- whether one key or agent is idle.
-- @module alephant.reports.activity
local errors = require "alephant.errors"
local dates = require "alephant.reports.dates"
local fields = require "alephant.reports.fields"
local options = require "alephant.reports.options"

local date_of, day_of = dates.date_of, dates.day_of
local breakdowns, pick, ID = fields.breakdowns, fields.pick, fields.ID

local activity = {}

--- The options of both idle reports (`idle_keys`, `idle`), declared for each by name
-- (`alephant.reports.options`); the command line reads them too.
local function declare(name)
  return options.declare(name, {
    { name = "days", type = "integer", min = 1, max = 3650, default = 30 },
    { name = "progress", type = "function", help = "function(what, count, done), called while lists are scanned" },
    { name = "now", type = "number", cli = false, help = "seconds since the epoch, for \"today\"" },
  })
end
activity.OPTIONS = { idle_keys = declare("idle_keys"), idle = declare("idle") }

--- What both idle reports start with: their options checked, a virtual key refused
-- (it cannot list the workspace), the window of the last `days` days and who was
-- active in it (1 `analytics.costs` call).
-- @tparam Client client a client
-- @tparam string name the report's name (`idle`, `idle_keys`), for messages
-- @tparam string lists what the report lists, for the virtual-key refusal
-- @tparam[opt] table opts `days`, `progress`, `now` (limits, defaults: `activity.OPTIONS`)
-- @treturn table `{opts, days, from_day, today, from, to, active}`
-- @return[2] nil
-- @return[2] table error
function activity.window(client, name, lists, opts)
  local decl = activity.OPTIONS[name]
  opts = options.check(decl, opts)
  local days, err = options.value(decl, opts, "days")
  if not days then return nil, err end
  if client:token_kind() == "virtual_key" then
    return nil, errors.new("auth", ("report %s lists %s: it needs a personal access token or a JWT (a virtual "
      .. "key sees only itself)"):format(name:gsub("_", "-"), lists), { field = "token" })
  end
  local t = dates.today(opts.now)
  local from_day = t - days + 1
  local from, to = date_of(from_day), date_of(t)
  local costs
  costs, err = client.analytics:costs{ from = from, to = to }
  if costs == nil then return nil, err end
  return { opts = opts, days = days, from_day = from_day, today = t, from = from, to = to,
    active = activity.active_ids(costs) }
end

--- The ids (agents, members, departments, keys, models) with cost or requests in an
-- `analytics.costs` answer: `{[id] = true}`.
function activity.active_ids(costs)
  local active = {}
  for _, list in pairs(breakdowns(costs)) do
    for _, e in ipairs(list) do
      if e.id and (e.cost > 0 or (e.requests or 0) > 0) then active[e.id] = true end
    end
  end
  return active
end

--- Whether an item is idle, and why. `last` is its own last-use stamp (a date or ISO
-- datetime, or nil); without one, `fallback_id` (its entity, or itself) decides through
-- `active`; with neither, it is idle with basis `none`.
-- @return idle (boolean), row fields `{basis, last_used, idle_days}`
function activity.judge(last, fallback_id, active, from_day, today)
  local last_day = day_of(last)
  if last_day then
    return last_day < from_day, { basis = "last_used_at", last_used = date_of(last_day), idle_days = today - last_day }
  elseif fallback_id then
    return not active[tostring(fallback_id)], { basis = "entity" }
  end
  return true, { basis = "none" }
end

--- Sorts idle rows: unknown last use first, then the longest idle, then by `key`.
function activity.sort(items, key)
  table.sort(items, function(a, b)
    if (a.idle_days or math.huge) ~= (b.idle_days or math.huge) then
      return (a.idle_days or math.huge) > (b.idle_days or math.huge)
    end
    return tostring(a[key]) < tostring(b[key])
  end)
  return items
end

--- The idle ones among the active virtual keys of a `virtual_keys.list` scan: a key's
-- `lastUsedAt` decides, else its agent or member's activity (`active`).
-- @return items (sorted, see `activity.sort`), checked (the number of active keys)
function activity.idle_keys(keys, active, from_day, today)
  local items, checked = {}, 0
  for _, k in ipairs(keys) do
    if pick(k, { "status" }) == "active" then
      checked = checked + 1
      local entity_id = pick(k, { "entityId", "entity_id" })
      local row = { id = pick(k, ID), label = pick(k, { "label", "name", "keyPrefix" }),
        entity_type = pick(k, { "entityType", "entity_type" }), entity_id = entity_id,
        entity_name = pick(k, { "entityName", "entity_name" }), created_at = pick(k, { "createdAt", "created_at" }) }
      local idle, why = activity.judge(pick(k, { "lastUsedAt", "last_used_at" }), entity_id, active, from_day, today)
      row.basis, row.last_used, row.idle_days = why.basis, why.last_used, why.idle_days
      if idle then items[#items + 1] = row end
    end
  end
  return activity.sort(items, "label"), checked
end

return activity
