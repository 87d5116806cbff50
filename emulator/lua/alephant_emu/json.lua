-- JSON for the emulator: cjson decodes; a small encoder with sorted keys,
-- explicit arrays (empty tables are objects unless marked) and a null value.
local cjson = require("cjson.safe")

local M = {}

M.null = cjson.null
M.array_mt = { __jsontype = "array" }
M.object_mt = { __jsontype = "object" }

function M.array(t)
  return setmetatable(t or {}, M.array_mt)
end

function M.object(t)
  return setmetatable(t or {}, M.object_mt)
end

-- decode(str) -> value or nil, err.  JSON null becomes M.null.
function M.decode(s)
  if type(s) ~= "string" or s == "" then
    return nil, "empty body"
  end
  local v, err = cjson.decode(s)
  if v == nil and err then
    return nil, err
  end
  return v
end

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

local function esc_str(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end
M.quote = esc_str

local function is_array(t)
  local mt = getmetatable(t)
  if mt and mt.__jsontype then
    return mt.__jsontype == "array"
  end
  local n = #t
  if n == 0 then
    return false
  end
  local count = 0
  for _ in pairs(t) do
    count = count + 1
    if count > n then
      return false
    end
  end
  return count == n
end

local function fmt_num(v)
  if v ~= v or v == math.huge or v == -math.huge then
    return "null"
  end
  if v == math.floor(v) and v > -1e15 and v < 1e15 then
    return string.format("%d", v)
  end
  local s = string.format("%.14g", v)
  if s:find("e", 1, true) then
    -- avoid exponents for small amounts (e.g. 6e-06 USD): fixed notation, trimmed
    s = string.format("%.12f", v):gsub("0+$", ""):gsub("%.$", "")
  end
  return s
end

local encode_into

encode_into = function(v, buf)
  local tv = type(v)
  if tv == "string" then
    buf[#buf + 1] = esc_str(v)
  elseif tv == "number" then
    buf[#buf + 1] = fmt_num(v)
  elseif tv == "boolean" then
    buf[#buf + 1] = v and "true" or "false"
  elseif v == nil or v == M.null then
    buf[#buf + 1] = "null"
  elseif tv == "table" then
    if is_array(v) then
      buf[#buf + 1] = "["
      for i = 1, #v do
        if i > 1 then buf[#buf + 1] = "," end
        encode_into(v[i], buf)
      end
      buf[#buf + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do
        keys[#keys + 1] = tostring(k)
      end
      table.sort(keys)
      buf[#buf + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then buf[#buf + 1] = "," end
        buf[#buf + 1] = esc_str(k)
        buf[#buf + 1] = ":"
        local val = v[k]
        if val == nil then val = v[tonumber(k)] end
        encode_into(val, buf)
      end
      buf[#buf + 1] = "}"
    end
  else
    buf[#buf + 1] = "null"
  end
end

function M.encode(v)
  local buf = {}
  encode_into(v, buf)
  return table.concat(buf)
end

return M
