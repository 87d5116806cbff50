-- Request inspection log in the `emu_requests` shared dict.
local json = require("alephant_emu.json")
local store = require("alephant_emu.store")
local auth = require("alephant_emu.auth")

local M = {}

local function dict() return ngx.shared.emu_requests end

-- "Bearer vk-ab…3f8a": scheme kept, token shortened to its first 5 and last 4
-- characters (tokens shorter than 12 characters are hidden completely).
function M.redact_token(tok)
  if #tok >= 12 then
    return tok:sub(1, 5) .. "…" .. tok:sub(-4)
  end
  return "…"
end

local function redact_auth(v)
  local scheme, tok = v:match("^%s*(%S+)%s+(%S+)%s*$")
  if not scheme then return M.redact_token(v) end
  return scheme .. " " .. M.redact_token(tok)
end

local SECRET_HEADERS = { ["x-alephant-virtual-key"] = true, ["alephant-api-key"] = true, ["x-api-key"] = true,
  ["alephant-embeddings-key"] = true }

local function redact_headers(h)
  local out = {}
  for k, v in pairs(h) do
    local name = k:lower()
    local function one(x)
      if name == "authorization" or name == "proxy-authorization" then return redact_auth(x) end
      if SECRET_HEADERS[name] then return M.redact_token(x) end
      if name == "cookie" then
        return (x:gsub("(alephant_token=)([^;%s]+)", function(p, t) return p .. M.redact_token(t) end))
      end
      return x
    end
    if type(v) == "table" then
      local arr = json.array()
      for i, x in ipairs(v) do arr[i] = one(x) end
      out[name] = arr
    else
      out[name] = one(v)
    end
  end
  return out
end

-- Record the current request; returns its index.
function M.record(req)
  local d = dict()
  local n = d:incr("req:n", 1, 0)
  local body = req.body or ""
  local max = store.config("record_body_max") or 262144
  local tok = auth.bearer(req.headers) or auth.cookie_token(req.headers)
  local rec = {
    seq = n, request_id = req.request_id, method = req.method, path = req.path, query = req.query or "",
    uri = ngx.var.request_uri, -- the request target exactly as the client sent it (path not decoded)
    args = json.object(req.args), headers = json.object(redact_headers(req.headers)),
    body = #body > max and body:sub(1, max) or body, body_size = #body, body_truncated = #body > max,
    connection = tonumber(ngx.var.connection), connection_requests = tonumber(ngx.var.connection_requests),
    scheme = ngx.var.scheme, remote_port = tonumber(ngx.var.remote_port), time = ngx.now(),
    token_kind = tok and auth.kind(tok) or json.null, token_name = tok and store.token_name(tok) or json.null,
    fault = req.fault_header or json.null,
  }
  local okset, err = d:set("req:" .. n, json.encode(rec))
  if not okset then ngx.log(ngx.WARN, "request log full: ", err) end
  return n
end

function M.finish(n, status)
  if n then dict():set("req:" .. n .. ":status", status) end
end

function M.list()
  local d = dict()
  local out = {}
  local n = d:get("req:n") or 0
  for i = 1, n do
    local s = d:get("req:" .. i)
    if s then
      local st = d:get("req:" .. i .. ":status")
      out[#out + 1] = s:sub(1, -2) .. ',"status":' .. (st and tostring(st) or "null") .. "}"
    end
  end
  return "[" .. table.concat(out, ",") .. "]", #out
end

function M.clear()
  dict():flush_all()
  dict():flush_expired()
end

return M
