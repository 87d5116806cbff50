-- A budget guard for access_by_lua: reads the caller's virtual key from
-- `Authorization: Bearer vk-...`, asks Alephant for its budget (cockpit.budget_status,
-- shared by all workers for `budget_cache_ttl` seconds) and answers 429 with a JSON body
-- when the budget is spent; otherwise the request goes on to the content handler.
--
--   access_by_lua_block { require("alephant_budget_guard").check() }
--
-- Decisions:
--   no or malformed key, or a key Alephant refuses     401 (OpenAI-style error body)
--   budget_cents set and remaining_cents <= 0 or usage_pct >= 100
--                                                       429, Retry-After until resets_at
--   no budget on the key (budget_cents null)           allowed
--   Alephant unreachable                               allowed (fail_open), logged
local alephant_ngx = require "alephant.ngx"
local core = require "alephant.core"
local cjson = require "cjson.safe"
local lrucache = require "resty.lrucache"
local metrics = require "alephant_metrics"

local M = {
  period = "30d",          -- the window budget_status reports spend over
  budget_cache_ttl = 10,   -- seconds one answer serves every worker
  fail_open = true,        -- when Alephant cannot answer, let the request through
  shared_dict = "alephant",
}

-- One client per key per worker (they are cheap, but keep their resolved state).
local clients = assert(lrucache.new(1000))

local function reply(status, body, headers)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  for k, v in pairs(headers or {}) do ngx.header[k] = v end
  ngx.say(cjson.encode(body))
  return ngx.exit(status)
end

local function unauthorized(message)
  return reply(401, { error = { type = "invalid_request_error", code = "invalid_api_key", message = message } })
end

-- Whole seconds from now until an ISO-8601 time ("2026-12-01T00:00:00Z"), or nil. The
-- calendar is the SDK's C core (the same parser that checks datetime parameters).
local function seconds_until(iso)
  local at = type(iso) == "string" and core.parse_datetime(iso, "resets_at")
  if not at then return nil end
  return math.max(0, math.ceil(at - ngx.time()))
end

local function client_for(key)
  -- the cache key is a hash: the key itself stays out of every table we keep
  local id = ngx.encode_base64(ngx.sha1_bin(key))
  local client = clients:get(id)
  if client then return client end
  local err
  client, err = alephant_ngx.new({ token = key, shared_dict = M.shared_dict, budget_cache_ttl = M.budget_cache_ttl,
    timeout = 5, max_retries = 1, on_response = metrics.on_response })
  if not client then return nil, err end
  clients:set(id, client)
  return client
end

--- The access-phase check; returns to let the request through, else answers it.
function M.check()
  local key = (ngx.var.http_authorization or ""):match("^Bearer%s+(vk%-%S+)$")
  if not key then return unauthorized("send your Alephant virtual key as Authorization: Bearer vk-...") end
  local client, err = client_for(key)
  if not client then return unauthorized("this is not an Alephant virtual key (" .. err.kind .. ")") end
  local budget, meta
  budget, err, meta = client.cockpit:budget_status({ period = M.period })
  if not budget then
    if err.kind == "auth" then return unauthorized("Alephant refused this virtual key") end
    -- tostring(err) names the endpoint and the cause; it never contains the key
    ngx.log(ngx.ERR, "budget guard: ", tostring(err))
    if M.fail_open then
      ngx.ctx.alephant_budget = { unavailable = true }
      return
    end
    return reply(503, { error = { type = "server_error", code = "budget_check_unavailable",
      message = "the budget could not be checked, try again" } })
  end
  local b = budget.virtual_key_budget or {}
  local exhausted = type(b.budget_cents) == "number"
    and ((type(b.remaining_cents) == "number" and b.remaining_cents <= 0)
      or (type(b.usage_pct) == "number" and b.usage_pct >= 100))
  if exhausted then
    local wait = seconds_until(b.resets_at)
    return reply(429, {
      error = {
        type = "insufficient_quota", code = "budget_exhausted",
        message = ("the budget of this virtual key is spent (%s of %s cents)"):format(b.spent_cents, b.budget_cents),
        budget_cents = b.budget_cents, spent_cents = b.spent_cents, resets_at = b.resets_at,
      },
    }, wait and { ["Retry-After"] = tostring(wait) } or nil)
  end
  ngx.ctx.alephant_budget = { budget_cents = b.budget_cents, remaining_cents = b.remaining_cents,
    usage_pct = b.usage_pct, cached = meta.cached or false }
end

return M
