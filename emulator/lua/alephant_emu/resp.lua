-- Response objects and the writer that applies body faults.
--
-- A response is { status = n, headers = {...}, body = "string" } or, for SSE,
-- { status = n, headers = {...}, gen = function() -> next chunk or nil,
--   expected = approximate number of chunks }.
local json = require("alephant_emu.json")

local M = {}
local null = json.null

local function new(status, body, ctype)
  return { status = status, headers = { ["Content-Type"] = ctype or "application/json" }, body = body }
end
M.new = new

function M.json(status, tbl)
  return new(status, json.encode(tbl))
end

function M.empty(status)
  return { status = status, headers = {}, body = "" }
end

-- SaaS: {code:0, data:...}; errors {code:<5 digits>, message, data:null}
function M.saas_ok(data, status)
  return M.json(status or 200, { code = 0, message = "success", data = data })
end

function M.saas_list(items, page, page_size, total)
  return M.json(200, {
    code = 0, message = "success", data = json.array(items),
    pagination = { page = page, pageSize = page_size, total = total },
  })
end

function M.saas_err(status, message, code)
  return M.json(status, { code = code or status * 100, message = message, data = null })
end

-- Analytics API: always {code, message, data}
function M.an_ok(data)
  return M.json(200, { code = 0, message = "ok", data = data })
end

function M.an_err(status, code, message)
  return M.json(status, { code = code or status * 100, message = message, data = null })
end

-- Gateway: OpenAI error shape
function M.oai_err(status, message, etype, code, param)
  return M.json(status, { error = { message = message, type = etype or "invalid_request_error",
    param = param or null, code = code or null } })
end

-- Cockpit: top-level fields, or {data:{...}} when the client asked for it with
-- the request header X-Emulator-Envelope: data
function M.cockpit(tbl, status)
  local h = ngx.req.get_headers()["x-emulator-envelope"]
  if type(h) == "string" and h:lower() == "data" then
    return M.json(status or 200, { data = tbl })
  end
  return M.json(status or 200, tbl)
end

---------------------------------------------------------------------------
-- Family-shaped error used by faults and unknown routes
---------------------------------------------------------------------------
local oai_types = {
  [429] = { "rate_limit_error", "rate_limit_exceeded" },
  [500] = { "server_error", "internal_error" },
  [502] = { "server_error", "bad_gateway" },
  [503] = { "server_error", "service_unavailable" },
  [504] = { "upstream_timeout", "upstream_timeout" },
}

local reason = {
  [400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden", [404] = "Not Found",
  [405] = "Method Not Allowed", [409] = "Conflict", [413] = "Payload Too Large", [429] = "Too Many Requests",
  [500] = "Internal Server Error", [502] = "Bad Gateway", [503] = "Service Unavailable",
  [504] = "Gateway Timeout",
}
M.reason = reason

function M.family_err(family, status, message)
  message = message or reason[status] or ("HTTP " .. status)
  if family == "gateway" then
    local t = oai_types[status] or { status >= 500 and "server_error" or "invalid_request_error", null }
    return M.oai_err(status, message, t[1], t[2])
  elseif family == "analytics" then
    return M.an_err(status, status * 100, message)
  else
    return M.saas_err(status, message)
  end
end

---------------------------------------------------------------------------
-- Writer
---------------------------------------------------------------------------
local function send_headers(res, content_length)
  ngx.status = res.status
  for k, v in pairs(res.headers) do ngx.header[k] = v end
  if content_length then ngx.header["Content-Length"] = content_length end
end

local function abort()
  -- drop the connection without completing the response
  ngx.flush(true)
  return ngx.exit(444)
end

local function trickle_out(s, ms, chunk)
  chunk = chunk or 16
  local i = 1
  while i <= #s do
    local ok = ngx.print(s:sub(i, i + chunk - 1))
    if not ok then return end
    ngx.flush(true)
    i = i + chunk
    if i <= #s and ms > 0 then ngx.sleep(ms / 1000) end
  end
end

local function pad_object(body, n)
  -- a valid JSON object at least n bytes long: {"emulator_padding":"xxx…", <original fields>}
  local head = '{"emulator_padding":"'
  local rest
  if body:match("^%s*{%s*}%s*$") then
    rest = '"}'
  elseif body:sub(1, 1) == "{" then
    rest = '",' .. body:sub(2)
  else
    rest = '","emulator_body":' .. body .. "}"
  end
  local pad = n - #head - #rest
  if pad < 0 then pad = 0 end
  return head, pad, rest
end

local function send_body(res, fault)
  local body = res.body or ""
  if fault and fault.malformed then
    local half = body:sub(1, math.floor(#body / 2))
    if half == "" then half = "{" end
    body = half .. "<<emulator: malformed JSON>>"
    res.status = 200
    send_headers(res, #body)
    ngx.print(body)
    return
  end
  if fault and fault.oversized then
    local head, pad, rest = pad_object(body, fault.oversized)
    send_headers(res, #head + pad + #rest)
    ngx.print(head)
    local block = string.rep("x", 65536)
    local left = pad
    while left > 0 do
      local n = math.min(left, #block)
      local ok = ngx.print(n == #block and block or block:sub(1, n))
      if not ok then return end
      left = left - n
      if left > 0 and left % (1048576) < 65536 then ngx.flush(true) end
    end
    ngx.print(rest)
    return
  end
  if fault and fault.truncated then
    send_headers(res, #body + (#body == 0 and 64 or 0))
    ngx.print(body:sub(1, math.floor(#body / 2)))
    return abort()
  end
  send_headers(res, #body)
  if fault and fault.trickle then
    trickle_out(body, fault.trickle, fault.chunk)
    return
  end
  if ngx.req.get_method() ~= "HEAD" then ngx.print(body) end
end

local function send_stream(res, fault)
  send_headers(res, nil)
  local n = 0
  local expected = res.expected or 2
  local batch = {}
  -- returns false once the client has gone away, so a huge stream stops early
  local function flush_batch()
    if #batch > 0 then
      local ok = ngx.print(table.concat(batch))
      batch = {}
      if not ok or not ngx.flush(true) then return false end
    end
    return true
  end
  while true do
    local chunk = res.gen()
    if not chunk then break end
    n = n + 1
    if fault and fault.malformed and n == 2 then
      chunk = 'data: {"id": "malformed", "choices": [\n\n'
    end
    if fault and fault.oversized and n == 2 then
      local head = chunk:match("^data: ") and chunk:sub(7):gsub("%s+$", "") or chunk
      local h, pad, rest = pad_object(head, fault.oversized)
      flush_batch()
      ngx.print("data: " .. h)
      local left = pad
      local block = string.rep("x", 65536)
      while left > 0 do
        local k = math.min(left, #block)
        ngx.print(k == #block and block or block:sub(1, k))
        left = left - k
      end
      chunk = rest .. "\n\n"
    end
    -- halfway, at an event boundary: end cleanly without the terminal event, or send
    -- the endpoint's own mid-stream error event and end
    if fault and (fault.cut or fault.stream_error) and n > expected / 2 then
      if fault.stream_error and res.error_event then batch[#batch + 1] = res.error_event end
      flush_batch()
      return
    end
    if fault and fault.truncated and n > expected / 2 then
      flush_batch()
      ngx.print(chunk:sub(1, math.floor(#chunk / 2)))
      return abort()
    end
    if fault and fault.trickle then
      if n > 1 and fault.trickle > 0 then ngx.sleep(fault.trickle / 1000) end
      local ok = ngx.print(chunk)
      if not ok then return end
      ngx.flush(true)
    else
      batch[#batch + 1] = chunk
      if #batch >= 64 and not flush_batch() then return end
    end
  end
  flush_batch()
end

function M.send(res, fault)
  if res.gen then
    return send_stream(res, fault)
  end
  return send_body(res, fault)
end

return M
