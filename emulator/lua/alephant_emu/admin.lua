-- /__admin/* : inspection and control for tests.  Not recorded, no faults, no auth.
local json = require("alephant_emu.json")
local store = require("alephant_emu.store")
local recorder = require("alephant_emu.recorder")
local faults = require("alephant_emu.faults")
local resp = require("alephant_emu.resp")

local M = {}

local function err(status, msg)
  return resp.json(status, { error = msg })
end

local function set_config(b)
  if type(b) ~= "table" then return nil, "body must be a JSON object" end
  for k, v in pairs(b) do
    if store.defaults[k] == nil then return nil, "unknown config key '" .. tostring(k) .. "'" end
    if type(v) ~= "number" or v < 0 or v ~= math.floor(v) then
      return nil, k .. " must be a non-negative integer"
    end
  end
  for k, v in pairs(b) do store.set_config(k, v) end
  return true
end

function M.handle(req)
  local p, m = req.path, req.method
  if p == "/__admin/health" or p == "/__admin" or p == "/__admin/" then
    return resp.json(200, { ok = true, pid = ngx.worker.pid(), workers = ngx.worker.count(),
      config = store.all_config() })
  elseif p == "/__admin/requests" then
    if m == "DELETE" then
      recorder.clear()
      return resp.json(200, { ok = true })
    end
    local body, n = recorder.list()
    return resp.new(200, '{"count":' .. n .. ',"requests":' .. body .. "}")
  elseif p == "/__admin/in-flight" then
    local now, max = recorder.in_flight()
    return resp.json(200, { in_flight = now, max_in_flight = max })
  elseif p == "/__admin/reset" then
    if m ~= "POST" then return err(405, "use POST") end
    local only = req.args.only
    if only == nil or only == "requests" then recorder.clear() end
    if only == nil then store.reset_state() end
    if only == "faults" then faults.clear() end
    return resp.json(200, { ok = true })
  elseif p == "/__admin/config" then
    if m == "POST" or m == "PUT" or m == "PATCH" then
      local okc, e = set_config(req.json)
      if not okc then return err(400, e) end
    end
    return resp.json(200, store.all_config())
  elseif p == "/__admin/faults" then
    if m == "POST" then
      local b = req.json
      if type(b) ~= "table" then return err(400, "body must be a JSON object") end
      local rules = b[1] and b or { b }
      local out = json.array()
      for _, r in ipairs(rules) do
        if type(r) ~= "table" or type(r.fault) ~= "string" then return err(400, "each rule needs a fault string") end
        local armed, e = faults.arm(r)
        if not armed then return err(400, e) end
        out[#out + 1] = armed
      end
      return resp.json(200, { armed = out })
    elseif m == "DELETE" then
      faults.disarm_all()
      return resp.json(200, { ok = true })
    end
    return resp.json(200, { armed = json.array(faults.armed()) })
  elseif p == "/__admin/logs" then
    local rows = json.array()
    for _, r in ipairs(store.logs(true)) do rows[#rows + 1] = r end
    return resp.json(200, { now = ngx.now(), rows = rows })
  elseif p == "/__admin/fixtures" then
    local f = io.open(store.fixtures_path, "rb")
    if not f then return err(500, "fixtures file not readable") end
    local s = f:read("*a")
    f:close()
    return resp.new(200, s)
  end
  return err(404, "unknown admin endpoint " .. p)
end

return M
