-- Deterministic daily usage series.  Each (entity, model, UTC day) cell is a pure
-- function of the fixtures' usage_seed, the entity's usage profile, the model and the
-- absolute day number, so a given date always has the same numbers.  Data exists for
-- the last `usage_days` days up to and including today (UTC).
local util = require("alephant_emu.util")

local floor = math.floor
local M = {}

local fx            -- fixtures (set by M.setup)
local models_by_id  -- id -> model
local mk_by_ws_provider
local cache = { today = nil, days = nil }

-- Share of a day's requests per UTC hour (sums to 1); used for hourly series.
local HOURLY = {
  0.010, 0.008, 0.007, 0.007, 0.008, 0.012, 0.020, 0.032, 0.050, 0.062, 0.068, 0.070,
  0.066, 0.068, 0.070, 0.068, 0.064, 0.058, 0.050, 0.042, 0.034, 0.020, 0.016, 0.010,
}
local s = 0
for _, v in ipairs(HOURLY) do s = s + v end
for i, v in ipairs(HOURLY) do HOURLY[i] = v / s end
M.HOURLY = HOURLY

function M.setup(fixtures)
  fx = fixtures
  models_by_id = {}
  for _, m in ipairs(fx.models) do models_by_id[m.id] = m end
  mk_by_ws_provider = {}
  for _, k in ipairs(fx.master_keys) do
    local key = k.workspace_id .. "|" .. k.provider
    mk_by_ws_provider[key] = mk_by_ws_provider[key] or k.id
  end
  cache.today = nil
end

function M.today()
  local now = ngx and ngx.time() or os.time()
  return floor(now / 86400)
end

local function entities()
  local list = {}
  for _, a in ipairs(fx.agents) do
    if a.usage then list[#list + 1] = { type = "agent", e = a } end
  end
  for _, m in ipairs(fx.members) do
    if m.usage then list[#list + 1] = { type = "member", e = m } end
  end
  return list
end

local function sorted_models(profile)
  local ids = {}
  for id in pairs(profile.models) do ids[#ids + 1] = id end
  table.sort(ids)
  return ids
end

local function make_cell(seed, ent, model_id, share, day)
  local p = ent.e.usage
  local x = util.hash(ent.e.id .. "|" .. model_id .. "|" .. day, seed)
  local u1, u2, u3, u4
  x, u1 = util.lcg(x)
  x, u2 = util.lcg(x)
  x, u3 = util.lcg(x)
  local _
  _, u4 = util.lcg(x)
  local wd = util.weekday(day)
  local weekday_factor = (wd >= 6) and 0.45 or 1.0
  local spike = (u4 > 0.975) and 3.0 or 1.0
  local requests = floor(p.requests_per_day * share * weekday_factor * spike * (0.6 + 0.8 * u1))
  if requests <= 0 then return nil end
  local tin = floor(requests * p.tokens_in * (0.8 + 0.4 * u2))
  local tout = floor(requests * p.tokens_out * (0.8 + 0.4 * u3))
  local m = models_by_id[model_id] or { input_usd_per_mtok = 1, output_usd_per_mtok = 1, provider = "unknown" }
  -- USD per million tokens == micro-USD per token
  local cost_micros = floor(tin * m.input_usd_per_mtok + tout * m.output_usd_per_mtok)
  local errors = floor(requests * (p.error_rate or 0) * (0.5 + u2) + 0.5)
  if errors > requests then errors = requests end
  return {
    day = day,
    workspace_id = ent.e.workspace_id,
    entity_type = ent.type,
    entity_id = ent.e.id,
    department_id = ent.e.department_id,
    model = model_id,
    provider = m.provider,
    master_key_id = mk_by_ws_provider[ent.e.workspace_id .. "|" .. m.provider],
    requests = requests,
    errors = errors,
    tokens_in = tin,
    tokens_out = tout,
    cost_micros = cost_micros,
    latency_ms = floor((p.latency_ms or 1000) * (0.8 + 0.4 * u1)),
  }
end

local function build(today)
  local days = {}
  local seed = fx.usage_seed or 1
  local ndays = fx.usage_days or 183
  local ents = entities()
  for day = today - ndays + 1, today do
    local cells = {}
    for _, ent in ipairs(ents) do
      local idle = ent.e.usage.idle_days or 0
      if day <= today - idle then
        for _, mid in ipairs(sorted_models(ent.e.usage)) do
          local c = make_cell(seed, ent, mid, ent.e.usage.models[mid], day)
          if c then cells[#cells + 1] = c end
        end
      end
    end
    days[day] = cells
  end
  cache.today = today
  cache.days = days
  cache.first = today - ndays + 1
end

local function ensure()
  local today = M.today()
  if cache.today ~= today then build(today) end
  return cache
end

-- Iterate cells matching filter {workspace_id, from, to (day numbers, inclusive),
-- agent_id, member_id, department_id, entity_type, entity_id, model, master_key_id}.
function M.cells(f)
  local c = ensure()
  local out = {}
  local from = math.max(f.from or c.first, c.first)
  local to = math.min(f.to or c.today, c.today)
  for day = from, to do
    for _, cell in ipairs(c.days[day] or {}) do
      if (not f.workspace_id or cell.workspace_id == f.workspace_id)
        and (not f.agent_id or (cell.entity_type == "agent" and cell.entity_id == f.agent_id))
        and (not f.member_id or (cell.entity_type == "member" and cell.entity_id == f.member_id))
        and (not f.entity_id or cell.entity_id == f.entity_id)
        and (not f.entity_type or cell.entity_type == f.entity_type)
        and (not f.department_id or cell.department_id == f.department_id)
        and (not f.model or cell.model == f.model)
        and (not f.master_key_id or cell.master_key_id == f.master_key_id) then
        out[#out + 1] = cell
      end
    end
  end
  return out
end

function M.first_day()
  return ensure().first
end

local function add(acc, cell)
  acc.requests = acc.requests + cell.requests
  acc.errors = acc.errors + cell.errors
  acc.tokens_in = acc.tokens_in + cell.tokens_in
  acc.tokens_out = acc.tokens_out + cell.tokens_out
  acc.cost_micros = acc.cost_micros + cell.cost_micros
  acc.latency_weighted = acc.latency_weighted + cell.latency_ms * cell.requests
  if not acc.last_day or cell.day > acc.last_day then acc.last_day = cell.day end
end

function M.zero()
  return { requests = 0, errors = 0, tokens_in = 0, tokens_out = 0, cost_micros = 0, latency_weighted = 0 }
end

function M.totals(cells)
  local acc = M.zero()
  for _, c in ipairs(cells) do add(acc, c) end
  return M.finish(acc)
end

function M.finish(acc)
  acc.tokens = acc.tokens_in + acc.tokens_out
  acc.cost_usd = acc.cost_micros / 1e6
  acc.cost_cents = floor(acc.cost_micros / 1e4 + 0.5)
  acc.success_rate = acc.requests > 0 and util.round((acc.requests - acc.errors) * 100 / acc.requests, 2) or 0
  acc.latency_ms = acc.requests > 0 and floor(acc.latency_weighted / acc.requests + 0.5) or 0
  return acc
end

-- One accumulator per day in [from, to] (zeros included), in order.
function M.by_day(cells, from, to)
  local idx = {}
  local out = {}
  for day = from, to do
    local acc = M.zero()
    acc.day = day
    idx[day] = acc
    out[#out + 1] = acc
  end
  for _, c in ipairs(cells) do
    local acc = idx[c.day]
    if acc then add(acc, c) end
  end
  for _, acc in ipairs(out) do M.finish(acc) end
  return out
end

-- Group by keyfn(cell) -> key; returns map key -> totals and the sorted key list
-- (by cost descending, then key).
function M.group(cells, keyfn)
  local map, keys = {}, {}
  for _, c in ipairs(cells) do
    local k = keyfn(c)
    if k ~= nil then
      local acc = map[k]
      if not acc then
        acc = M.zero()
        map[k] = acc
        keys[#keys + 1] = k
      end
      add(acc, c)
    end
  end
  for _, k in ipairs(keys) do M.finish(map[k]) end
  table.sort(keys, function(a, b)
    if map[a].cost_micros ~= map[b].cost_micros then return map[a].cost_micros > map[b].cost_micros end
    return tostring(a) < tostring(b)
  end)
  return map, keys
end

-- Hourly split of a day total (integers; remainder goes to the busiest hour).
function M.split_hours(total)
  local out, used = {}, 0
  for h = 1, 24 do
    out[h] = floor(total * HOURLY[h])
    used = used + out[h]
  end
  out[11] = out[11] + (total - used)
  return out
end

return M
