--- The `idle` report (`alephant.reports.idle`): active agents and active virtual keys
-- with no traffic in the last N days.
--
-- An agent's `lastRequestAt` (or `last_request_at`, `lastUsedAt`) decides when the API
-- sends it; otherwise the agent is idle when `analytics.costs` shows no cost and no
-- requests for it in the window. Keys follow the `idle_keys` rule (their `lastUsedAt`,
-- else their agent or member's activity).
--
-- Calls: 1 `analytics.costs` for the window (shared by both lists), then the active
-- agents and the active virtual keys page after page (`agents.list`, `virtual_keys.list`,
-- 200 a page): 1 + ceil(agents / 200) + ceil(keys / 200) (at least one page each; one more
-- when a count is a multiple of 200 and the API sends no total). The scans are page after
-- page (each page needs the one before it), one list after the other.
-- Needs a personal access token or a JWT.
-- @module alephant.reports.idle
local fields = require "alephant.reports.fields"
local common = require "alephant.reports.common"
local activity = require "alephant.reports.activity"

local pick, ID = fields.pick, fields.ID

--- Idle agents and idle keys.
-- @tparam Client client a client (PAT or JWT)
-- @tparam[opt] table opts `days`, `progress` (function(what, count, done)), `now`;
--   limits and defaults: `alephant.reports.options.of("idle")` (declared in `activity`)
-- @treturn table `{days, from, to, agents = {checked, items = {{id, name, department,
--   environment, last_used, idle_days, basis, created_at}}}, keys = {checked, items =
--   (as idle_keys)}, items = {{kind, id, name, last_used, idle_days, basis}}, calls}`
-- @return[2] nil
-- @return[2] table error (`auth` before any request for a virtual key)
local function idle(client, opts)
  local w, err = activity.window(client, "idle", "the workspace's agents and keys", opts)
  if not w then return nil, err end
  local from_day, t, active = w.from_day, w.today, w.active
  local agents, keys
  agents, err = common.scan(client, "agents", { status = "active" }, "agents", w.opts.progress)
  if not agents then return nil, err end
  keys, err = common.scan(client, "virtual_keys", { status = "active" }, "virtual keys", w.opts.progress)
  if not keys then return nil, err end
  local agent_items, checked = {}, 0
  for _, a in ipairs(agents) do
    if pick(a, { "status" }) == "active" then
      checked = checked + 1
      local id = pick(a, ID)
      local is_idle, why = activity.judge(pick(a, { "lastRequestAt", "last_request_at", "lastUsedAt" }), id, active,
        from_day, t)
      if is_idle then
        agent_items[#agent_items + 1] = { id = id, name = pick(a, fields.NAME),
          department = pick(a, { "departmentName", "department_name" }), environment = pick(a, { "environment" }),
          created_at = pick(a, { "createdAt", "created_at" }), basis = why.basis, last_used = why.last_used,
          idle_days = why.idle_days }
      end
    end
  end
  activity.sort(agent_items, "name")
  local key_items, key_checked = activity.idle_keys(keys, active, from_day, t)
  local items = {}
  for _, a in ipairs(agent_items) do
    items[#items + 1] = { kind = "agent", id = a.id, name = a.name, last_used = a.last_used, idle_days = a.idle_days,
      basis = a.basis }
  end
  for _, k in ipairs(key_items) do
    items[#items + 1] = { kind = "virtual_key", id = k.id, name = k.label, last_used = k.last_used,
      idle_days = k.idle_days, basis = k.basis }
  end
  local function pages(count) return math.max(1, math.ceil(count / 200)) end
  local calls = 1 + pages(#agents) + pages(#keys)
  return { days = w.days, from = w.from, to = w.to, agents = { checked = checked, items = agent_items },
    keys = { checked = key_checked, items = key_items }, items = items, calls = calls }
end

return idle
