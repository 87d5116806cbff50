-- Fault injection: the X-Emulator-Fault request header and faults armed through
-- the admin API.  Grammar (see emulator/README.md, "Fault injection"):
--
--   fault     = directive *( ";" directive )
--   directive = "reset" | "malformed" | "truncated" | "cut" | "stream-error"
--             | "stall=" MS | "trickle=" MS | "chunk=" BYTES | "oversized=" BYTES
--             | "status=" CODE | CODE            ; CODE = 3 digits, 300..599
--             | "retry-after=" VALUE | "location=" URL | "count=" N | "key=" NAME
--             | "echo" | "message=" TEXT        ; TEXT percent-encoded
--
-- `count=N` makes the fault fire for the first N requests that carry the same fault
-- key (the `key=` value, or else the whole header value); later ones are answered
-- normally.  Without `count` the fault fires every time.
local json = require("alephant_emu.json")
local util = require("alephant_emu.util")

local M = {}

local function dict() return ngx.shared.emu_state end

local function num(v, name, min, max)
  local n = util.to_int(v)
  if not n or n < min or (max and n > max) then
    return nil, name .. " must be an integer" .. (max and (" between " .. min .. " and " .. max) or (" >= " .. min))
  end
  return n
end

-- parse("status=503;count=2") -> spec table, or nil + error message
function M.parse(s)
  if type(s) ~= "string" then return nil, "empty fault" end
  local spec = {}
  local any = false
  for part in (s .. ";"):gmatch("([^;]*);") do
    part = util.trim(part)
    if part ~= "" then
      any = true
      local k, v = part:match("^([%w%-_]+)%s*=%s*(.-)$")
      k = (k or part):lower()
      local err
      if not v and k:match("^%d%d%d$") then
        spec.status, err = num(k, "status", 300, 599)
      elseif k == "reset" or k == "malformed" or k == "truncated" or k == "cut" or k == "stream-error" then
        if v then return nil, k .. " takes no value" end
        spec[(k:gsub("%-", "_"))] = true
      elseif k == "status" then
        spec.status, err = num(v, "status", 300, 599)
      elseif k == "stall" then
        spec.stall, err = num(v, "stall", 0, 600000)
      elseif k == "trickle" then
        spec.trickle, err = num(v, "trickle", 0, 60000)
      elseif k == "chunk" then
        spec.chunk, err = num(v, "chunk", 1, 1048576)
      elseif k == "oversized" then
        spec.oversized, err = num(v, "oversized", 1, 1073741824)
      elseif k == "retry-after" or k == "retry_after" then
        if not v or v == "" then return nil, "retry-after needs a value" end
        spec.retry_after = v
      elseif k == "location" then
        if not v or v == "" then return nil, "location needs a value" end
        spec.location = v
      elseif k == "count" then
        spec.count, err = num(v, "count", 0)
      elseif k == "echo" then
        if v then return nil, "echo takes no value" end
        spec.echo = true
      elseif k == "message" then
        if not v or v == "" then return nil, "message needs a value" end
        spec.message = ngx.unescape_uri(v)
      elseif k == "key" then
        if not v or v == "" then return nil, "key needs a value" end
        spec.key = v
      else
        return nil, "unknown fault directive '" .. part .. "'"
      end
      if err then return nil, err end
    end
  end
  if not any then return nil, "empty fault" end
  if spec.retry_after and not spec.status then spec.status = 429 end
  if spec.location and not spec.status then spec.status = 302 end
  if spec.message and not spec.status then return nil, "message needs a status" end
  return spec
end

-- Returns (spec, remaining) when the fault fires for this request, or nil.
-- A fault without count fires every time.
function M.fire(spec, raw)
  if spec.count == nil then return spec, nil end
  local key = "fault:" .. (spec.key or raw)
  local left = dict():incr(key, -1, spec.count)
  if left and left >= 0 then
    return spec, left
  end
  return nil
end

---------------------------------------------------------------------------
-- Armed faults (admin API)
---------------------------------------------------------------------------
-- rule = { fault = "...", count = N, path = "/exact", path_prefix = "/v1/",
--          path_pattern = "lua pattern", method = "GET" }
function M.arm(rule)
  local spec, err = M.parse(rule.fault)
  if not spec then return nil, err end
  local count = rule.count or spec.count or 1
  if type(count) ~= "number" or count < 0 then return nil, "count must be a non-negative integer" end
  if rule.path_pattern then
    local ok = pcall(string.find, "", rule.path_pattern)
    if not ok then return nil, "bad path_pattern" end
  end
  local d = dict()
  local n = d:incr("armed:n", 1, 0)
  local stored = {
    id = n, fault = rule.fault, count = count, path = rule.path, path_prefix = rule.path_prefix,
    path_pattern = rule.path_pattern, method = rule.method and rule.method:upper() or nil,
  }
  d:set("armed:" .. n, json.encode(stored))
  d:set("armed:" .. n .. ":left", count)
  return stored
end

function M.armed()
  local d = dict()
  local out = {}
  for i = 1, d:get("armed:n") or 0 do
    local s = d:get("armed:" .. i)
    if s then
      local r = json.decode(s)
      r.remaining = math.max(d:get("armed:" .. i .. ":left") or 0, 0)
      out[#out + 1] = r
    end
  end
  return out
end

function M.disarm_all()
  local d = dict()
  for i = 1, d:get("armed:n") or 0 do
    d:delete("armed:" .. i)
    d:delete("armed:" .. i .. ":left")
  end
  d:set("armed:n", 0)
end

-- Disarm every rule and forget every header fault counter.
function M.clear()
  M.disarm_all()
  local d = dict()
  for _, k in ipairs(d:get_keys(0)) do
    if k:sub(1, 6) == "fault:" then d:delete(k) end
  end
end

local function matches(r, method, path)
  if r.method and r.method ~= method then return false end
  if r.path and r.path ~= path then return false end
  if r.path_prefix and path:sub(1, #r.path_prefix) ~= r.path_prefix then return false end
  if r.path_pattern and not path:find(r.path_pattern) then return false end
  return true
end

-- The first armed rule matching this request that still has calls left.
function M.take_armed(method, path)
  local d = dict()
  local n = d:get("armed:n") or 0
  for i = 1, n do
    local s = d:get("armed:" .. i)
    if s then
      local r = json.decode(s)
      if r and matches(r, method, path) and (d:get("armed:" .. i .. ":left") or 0) > 0 then
        local left = d:incr("armed:" .. i .. ":left", -1, 0)
        if left and left >= 0 then
          local spec = M.parse(r.fault)
          spec.count = nil
          return spec, left, r.fault
        end
      end
    end
  end
  return nil
end

return M
