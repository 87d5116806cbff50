--- The API's payloads read defensively, shared by the reports. Field names vary between
-- routes and versions (`id` or `entityId`, `name` or `label`, `cost` or `totalCost` or
-- cents); every reader takes the first spelling present, and JSON null counts as absent.
-- @module alephant.reports.fields
local core = require "alephant.core"

local fields = {}

local function num(v)
  if type(v) == "number" and v == v then return v end
  if type(v) == "string" then return tonumber(v) end
  return nil
end

-- The first of `keys` that `t` has (JSON null counts as absent).
local function pick(t, keys)
  if type(t) ~= "table" then return nil end
  for _, k in ipairs(keys) do
    local v = t[k]
    if v ~= nil and v ~= core.null then return v end
  end
  return nil
end

local ID = { "id", "entityId", "entity_id" }
local NAME = { "name", "label", "displayName", "display_name", "model", "entityName" }
local REQUESTS = { "requests", "totalRequests", "requestCount", "request_count", "total_requests" }
local LAST = { "lastUsed", "lastRequestAt", "last_used", "lastUsedAt", "last_used_at" }

-- USD of an item: cost|totalCost|spend (USD), else cents.
local function usd(item)
  local c = num(pick(item, { "cost", "totalCost", "total_cost", "spend" }))
  if c then return c end
  local cents = num(pick(item, { "costCents", "cost_cents", "totalCostCents", "total_cost_cents" }))
  return cents and cents / 100 or 0
end

local list_of = require("alephant.paginate").list_of -- a list inside a payload (the one unwrapper)

local function entry(item)
  local id = pick(item, ID)
  return {
    id = id ~= nil and tostring(id) or nil,
    name = tostring(pick(item, NAME) or id or "?"),
    cost = usd(item),
    requests = num(pick(item, REQUESTS)),
    last_used = pick(item, LAST),
  }
end

local DIMENSION = { agent = "agents", agents = "agents", member = "members", members = "members",
  department = "departments", departments = "departments", model = "models", models = "models",
  master_key = "master_keys", master_keys = "master_keys" }

-- analytics.costs breakdowns by dimension: { agents = {entry...}, ... }. Either a list
-- of {dimension, items} or an object keyed by dimension.
local function breakdowns(data)
  local out = {}
  local b = type(data) == "table" and (data.breakdown or data.breakdowns)
  if type(b) ~= "table" then return out end
  local function add(dim, items)
    local key = DIMENSION[dim]
    if not key then return end
    out[key] = out[key] or {}
    for _, item in ipairs(list_of(items)) do out[key][#out[key] + 1] = entry(item) end
  end
  if b[1] ~= nil then
    for _, group in ipairs(b) do
      if type(group) == "table" then add(pick(group, { "dimension", "name", "type" }), group.items or group.data) end
    end
  else
    for dim, items in pairs(b) do add(dim, items) end
  end
  return out
end

local function cents_or_usd(item, cents_keys, usd_keys)
  local c = num(pick(item, cents_keys))
  if c then return c / 100 end
  return num(pick(item, usd_keys))
end

fields.ID, fields.NAME, fields.REQUESTS, fields.LAST = ID, NAME, REQUESTS, LAST
fields.num, fields.pick, fields.usd, fields.cents_or_usd = num, pick, usd, cents_or_usd
fields.list_of, fields.entry, fields.breakdowns = list_of, entry, breakdowns

return fields
