-- Request-log rows: a deterministic sample derived from the usage series for the
-- last LOG_DAYS days (not one row per counted request), plus the rows ingested from
-- gateway calls made to this emulator.
local json = require("alephant_emu.json")
local util = require("alephant_emu.util")
local store = require("alephant_emu.store")
local series = require("alephant_emu.series")

local floor = math.floor
local null = json.null
local M = {}

M.LOG_DAYS = 14

local cache = { today = nil, rows = nil }

local function vk_for(entity_type, entity_id)
  for _, vk in ipairs(store.fixtures().virtual_keys) do
    if vk.entity_type == entity_type and vk.entity_id == entity_id and vk.status == "active" then return vk.id end
  end
  return null
end

local function synth(today)
  local rows = {}
  local cells = series.cells({ from = today - M.LOG_DAYS + 1, to = today })
  for _, c in ipairs(cells) do
    local n = math.min(3, math.ceil(c.requests / 60))
    for i = 1, n do
      local key = c.entity_id .. "|" .. c.model .. "|" .. c.day .. "|" .. i
      local x = util.hash(key, 7)
      local u1, u2, u3
      x, u1 = util.lcg(x)
      x, u2 = util.lcg(x)
      local _
      _, u3 = util.lcg(x)
      local per = c.requests > 0 and c.requests or 1
      local tin = floor(c.tokens_in / per * (0.5 + u2))
      local tout = floor(c.tokens_out / per * (0.5 + u3))
      local m = store.model(c.model) or { input_usd_per_mtok = 1, output_usd_per_mtok = 1 }
      local micros = floor(tin * m.input_usd_per_mtok + tout * m.output_usd_per_mtok)
      local failed = (i == 1 and c.errors > 0 and u1 > 0.5)
      local ts = c.day * 86400 + floor(u1 * 86399)
      rows[#rows + 1] = {
        request_id = util.uuid_from("log|" .. key),
        created_at = util.fmt_iso(ts), ts = ts,
        workspace_id = c.workspace_id, model = c.model, provider = c.provider,
        status = failed and 500 or 200, tokens_in = tin, tokens_out = tout,
        cost = util.round(micros / 1e6, 6), cost_cents = floor(micros / 1e4 + 0.5),
        latency_ms = floor(c.latency_ms * (0.6 + 0.8 * u2)),
        entity_type = c.entity_type, entity_id = c.entity_id,
        agent_id = c.entity_type == "agent" and c.entity_id or null,
        member_id = c.entity_type == "member" and c.entity_id or null,
        department_id = c.department_id or null, master_key_id = c.master_key_id or null,
        virtual_key_id = vk_for(c.entity_type, c.entity_id), run_id = null, session_id = null,
        properties = json.object(), path = "/v1/chat/completions", stream = false, source = "fixtures",
      }
    end
  end
  return rows
end

-- All visible rows of workspace ws (nil = all), newest first.
function M.rows(ws)
  local today = series.today()
  if cache.today ~= today then
    cache.rows = synth(today)
    cache.today = today
  end
  local now = ngx.time()
  local out = {}
  for _, r in ipairs(cache.rows) do
    if r.ts <= now and (not ws or r.workspace_id == ws) then out[#out + 1] = r end
  end
  for _, r in ipairs(store.logs(false)) do
    if not ws or r.workspace_id == ws then
      r.properties = json.object(r.properties or {})
      out[#out + 1] = r
    end
  end
  table.sort(out, function(a, b)
    if a.ts ~= b.ts then return a.ts > b.ts end
    return a.request_id < b.request_id
  end)
  return out
end

-- Public shape of a row (drops internal fields).
function M.public(r)
  local o = {}
  for k, v in pairs(r) do
    if k ~= "ts" and k ~= "ingest_at" then o[k] = v end
  end
  if type(o.properties) == "table" then o.properties = json.object(o.properties) end
  return o
end

function M.find(id, ws)
  local r = store.log(id)
  if r then
    if r.ingest_at > ngx.now() then return nil end
    if ws and r.workspace_id ~= ws then return nil end
    return r
  end
  for _, row in ipairs(M.rows(ws)) do
    if row.request_id == id then return row end
  end
  return nil
end

return M
