-- Fixtures (read once at nginx start) plus mutable state in the `emu_state` shared
-- dict: created virtual keys/agents/PATs, field overrides (PATCH, revoke), policies,
-- ingested request logs, fault counters and config.  Everything in the dict is
-- cleared by POST /__admin/reset, which restores the fixture state.
local json = require("alephant_emu.json")
local util = require("alephant_emu.util")

local M = {}

local fx
local idx = {}

local COLLECTIONS = { "workspaces", "departments", "agents", "members", "master_keys", "virtual_keys", "pats" }

function M.load(path)
  local f, err = io.open(path, "rb")
  if not f then error("cannot open fixtures " .. tostring(path) .. ": " .. tostring(err)) end
  local s = f:read("*a")
  f:close()
  local t, derr = json.decode(s)
  if not t then error("bad fixtures JSON in " .. path .. ": " .. tostring(derr)) end
  fx = t
  idx = { tokens = {}, by_id = {}, by_name = {}, users = {}, models = {}, memberships = {} }
  for _, coll in ipairs(COLLECTIONS) do
    idx.by_id[coll] = {}
    for _, item in ipairs(fx[coll] or {}) do
      idx.by_id[coll][item.id] = item
      if item.name then idx.by_name[item.name] = item end
    end
  end
  for _, vk in ipairs(fx.virtual_keys) do idx.tokens[vk.token] = { kind = "vk", coll = "virtual_keys", id = vk.id } end
  for _, p in ipairs(fx.pats) do idx.tokens[p.token] = { kind = "pat", coll = "pats", id = p.id } end
  for _, j in ipairs(fx.jwts) do idx.tokens[j.token] = { kind = "jwt", jwt = j } end
  for _, u in ipairs(fx.users) do idx.users[u.id] = u end
  for _, m in ipairs(fx.models) do idx.models[m.id] = m end
  for _, m in ipairs(fx.memberships or {}) do
    idx.memberships[m.user_id .. "|" .. m.workspace_id] = m.role
  end
  return fx
end

function M.fixtures() return fx end
function M.models() return fx.models end
function M.model(id) return idx.models[id] end
function M.user(id) return idx.users[id] end
function M.role(user_id, ws) return idx.memberships[user_id .. "|" .. ws] end
function M.workspace(id) return idx.by_id.workspaces[id] end

-- Name of a fixture token ("vk_agent", "pat_read", "jwt", ...), for inspection.
function M.token_name(tok)
  local t = idx.tokens[tok]
  if not t then return nil end
  if t.jwt then return t.jwt.name end
  local item = idx.by_id[t.coll][t.id]
  return item and item.name
end

local function dict() return ngx.shared.emu_state end

---------------------------------------------------------------------------
-- Config
---------------------------------------------------------------------------
M.defaults = { ingest_delay_ms = 300, record_body_max = 262144 }

function M.config(key)
  local v = dict():get("cfg:" .. key)
  if v == nil then return M.defaults[key] end
  return v
end

function M.set_config(key, value)
  dict():set("cfg:" .. key, value)
end

function M.all_config()
  local out = {}
  for k in pairs(M.defaults) do out[k] = M.config(k) end
  return out
end

---------------------------------------------------------------------------
-- Collections with overrides and created items
---------------------------------------------------------------------------
local function apply_override(coll, item)
  local o = dict():get("ovr:" .. coll .. ":" .. item.id)
  if not o then return item end
  local patch = json.decode(o) or {}
  local copy = util.copy(item)
  for k, v in pairs(patch) do copy[k] = v end
  return copy
end

local function created(coll)
  local out = {}
  local n = dict():get("dyn:" .. coll .. ":n") or 0
  for i = 1, n do
    local s = dict():get("dyn:" .. coll .. ":" .. i)
    if s then
      local item = json.decode(s)
      if item then out[#out + 1] = item end
    end
  end
  return out
end

-- All items of a collection (fixtures first, then created ones), optionally only
-- those of workspace `ws`.
function M.list(coll, ws)
  local out = {}
  for _, item in ipairs(fx[coll] or {}) do
    if not ws or item.workspace_id == ws then out[#out + 1] = apply_override(coll, item) end
  end
  for _, item in ipairs(created(coll)) do
    if not ws or item.workspace_id == ws then out[#out + 1] = apply_override(coll, item) end
  end
  return out
end

function M.get(coll, id)
  if type(id) ~= "string" then return nil end
  local item = idx.by_id[coll] and idx.by_id[coll][id]
  if item then return apply_override(coll, item) end
  local where = dict():get("dynid:" .. coll .. ":" .. id)
  if where then
    local s = dict():get("dyn:" .. coll .. ":" .. where)
    if s then return apply_override(coll, json.decode(s)) end
  end
  return nil
end

function M.create(coll, item)
  local n = dict():incr("dyn:" .. coll .. ":n", 1, 0)
  dict():set("dyn:" .. coll .. ":" .. n, json.encode(item))
  dict():set("dynid:" .. coll .. ":" .. item.id, n)
  if item.token then
    dict():set("tok:" .. item.token, coll .. "|" .. item.id)
  end
  return item
end

function M.update(coll, id, fields)
  local key = "ovr:" .. coll .. ":" .. id
  local cur = dict():get(key)
  local patch = cur and json.decode(cur) or {}
  for k, v in pairs(fields) do patch[k] = v end
  dict():set(key, json.encode(patch))
  return M.get(coll, id)
end

-- token -> { kind = "vk"|"pat"|"jwt", item = ..., jwt = ... } or nil
function M.lookup_token(tok)
  local t = idx.tokens[tok]
  if t then
    if t.jwt then return { kind = "jwt", jwt = t.jwt } end
    return { kind = t.kind, item = M.get(t.coll, t.id) }
  end
  local where = dict():get("tok:" .. tok)
  if where then
    local coll, id = where:match("^([^|]+)|(.+)$")
    local kind = coll == "pats" and "pat" or "vk"
    return { kind = kind, item = M.get(coll, id) }
  end
  return nil
end

---------------------------------------------------------------------------
-- Budget-control policy per workspace (with a version for 409 handling)
---------------------------------------------------------------------------
function M.policy(ws)
  local s = dict():get("policy:" .. ws)
  if s then return json.decode(s) end
  local w = M.workspace(ws)
  return { config = w and w.budget_control or {}, version = 1, updated_at = "2026-01-01T00:00:00Z" }
end

function M.set_policy(ws, p)
  dict():set("policy:" .. ws, json.encode(p))
end

---------------------------------------------------------------------------
-- Ingested request logs (gateway calls)
---------------------------------------------------------------------------
function M.add_log(row, ingest_at)
  local d = dict()
  local n = d:incr("ingest:n", 1, 0)
  row.ingest_at = ingest_at
  d:set("ingest:row:" .. row.request_id, json.encode(row))
  d:set("ingest:idx:" .. n, row.request_id)
end

-- Rows whose ingestion time has passed (or all rows with include_pending).
function M.logs(include_pending)
  local d = dict()
  local now = ngx.now()
  local out = {}
  local n = d:get("ingest:n") or 0
  for i = 1, n do
    local id = d:get("ingest:idx:" .. i)
    local s = id and d:get("ingest:row:" .. id)
    local row = s and json.decode(s)
    if row and (include_pending or row.ingest_at <= now) then out[#out + 1] = row end
  end
  return out
end

function M.log(id)
  local s = dict():get("ingest:row:" .. id)
  return s and json.decode(s)
end

---------------------------------------------------------------------------
-- Reset: clear everything except the config
---------------------------------------------------------------------------
function M.reset_state()
  local d = dict()
  local cfg = M.all_config()
  d:flush_all()
  d:flush_expired()
  for k, v in pairs(cfg) do d:set("cfg:" .. k, v) end
end

return M
