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

-- Requests in flight: "in_flight" counts the recorded requests started and not done;
-- "peak:<k>" is set each time it reaches k, so the peak since the last reset is the
-- largest k (every value up to it was reached) and workers never race to update it.
-- "gen" changes at each clear, so a request that was in flight across a reset is not
-- taken off the new count.
local function started(d)
  ngx.ctx.rec_gen = d:get("gen")
  d:set("peak:" .. d:incr("in_flight", 1, 0), true)
end

-- Record the current request; returns its index.
function M.record(req)
  local d = dict()
  local n = d:incr("req:n", 1, 0)
  started(d)
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

-- The request `n` is done (once; later calls do nothing). The handler calls this when it
-- has answered, before nginx sends a small answer's bytes (they leave when the request is
-- finalized), so a client's next request, on any worker, starts after it; the log phase
-- calls it for the requests that ended otherwise (a reset, a dropped stream).
function M.done(n)
  local d = dict()
  if not n or ngx.ctx.rec_gen ~= d:get("gen") then return end
  if d:add("req:" .. n .. ":done", true) then d:incr("in_flight", -1, 0) end
end

function M.finish(n, status)
  if n then
    dict():set("req:" .. n .. ":status", status)
    M.done(n)
  end
end

-- The requests in flight now, and the most that were in flight at once since the last reset.
function M.in_flight()
  local d = dict()
  local peak = 0
  while d:get("peak:" .. (peak + 1)) do peak = peak + 1 end
  return d:get("in_flight") or 0, peak
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
  local d = dict()
  local gen = (d:get("gen") or 0) + 1
  d:flush_all()
  d:flush_expired()
  d:set("gen", gen)
end

return M
