-- examples/openresty/nginx.conf as a user would run it (rendered with a port and paths,
-- Debian's nginx, the SDK through alephant.ngx) against the emulator: the budget guard
-- lets a key with budget left through, answers 429 with a JSON body for a spent one
-- (the emulator's vk_member with its budget lowered below its spend through the SaaS
-- API) and 401 for a missing or refused key, shares one budget answer between workers,
-- fails open when Alephant errors; the timer fills the /status location.
local emulator = require "spec.support.emulator"
local nginx = require "spec.support.nginx"
local socket = require "socket"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

describe("examples/openresty #nginx", function()
  local emu, srv, WS

  lazy_setup(function()
    emu = emulator.start()
    WS = emu.ids.workspace_1
    srv = nginx.start({
      conf = read(nginx.root .. "/examples/openresty/nginx.conf"),
      vars = { ALEPHANT_LUA = nginx.root .. "/lua", EXAMPLE_LUA = nginx.root .. "/examples/openresty/lua",
        ALEPHANT_CPATH = nginx.build .. "/luajit" },
      env = { ALEPHANT_API_BASE_URL = emu.saas_url, ALEPHANT_ANALYTICS_BASE_URL = emu.analytics_url,
        ALEPHANT_TOKEN = emu.tokens.pat_read, ALEPHANT_WORKSPACE_ID = WS },
    })
  end)
  lazy_teardown(function()
    if srv then srv:stop() end
    if emu then emu:stop() end
  end)

  local function budget_calls() return #emu:requests("/api/v1/cockpit/budget%-status") end

  it("lets a virtual key with budget left through", function()
    local status, body, _, json = srv:request("GET", "/v1/chat", { token = emu.tokens.vk_agent })
    assert.equal(200, status, body)
    assert.is_true(json.ok)
    local _, _, _, direct = emu:request("GET", "/api/v1/cockpit/budget-status?period=30d",
      { token = emu.tokens.vk_agent })
    assert.equal(5000, json.budget.budget_cents)
    assert.equal(direct.virtual_key_budget.remaining_cents, json.budget.remaining_cents)
    assert.is_true(json.budget.remaining_cents > 0)
  end)

  it("answers 429 with a JSON body for a spent budget", function()
    -- vk_member has spent about 25 USD of 100; lower its budget to 10 USD
    local status, body = emu:request("PATCH", "/api/v1/virtual-keys/" .. emu.ids.vk_member,
      { token = emu.tokens.pat_write, workspace = WS, body = { budgetCents = 1000 } })
    assert.equal(200, status, body)
    local _, _, _, direct = emu:request("GET", "/api/v1/cockpit/budget-status?period=30d",
      { token = emu.tokens.vk_member })
    assert.equal(0, direct.virtual_key_budget.remaining_cents)

    local headers, json
    status, body, headers, json = srv:request("POST", "/v1/chat", { token = emu.tokens.vk_member, body = "{}" })
    assert.equal(429, status, body)
    assert.matches("^application/json", headers["content-type"])
    assert.equal("insufficient_quota", json.error.type)
    assert.equal("budget_exhausted", json.error.code)
    assert.equal(1000, json.error.budget_cents)
    assert.equal(direct.virtual_key_budget.spent_cents, json.error.spent_cents)
    assert.equal(direct.virtual_key_budget.resets_at, json.error.resets_at)
    local wait = tonumber(headers["retry-after"])
    assert.is_true(wait > 0 and wait <= 31 * 86400, tostring(headers["retry-after"]))
  end)

  it("lets a key without a budget through", function()
    local status, body, _, json = srv:request("GET", "/", { token = emu.tokens.vk_unbound })
    assert.equal(200, status, body)
    assert.is_true(json.ok)
    assert.is_nil(json.budget.budget_cents)
  end)

  it("answers 401 without a virtual key, for another token kind and for a refused key", function()
    local before = budget_calls()
    for _, token in ipairs({ false, emu.tokens.pat_read, "vk-" }) do
      local status, body, _, json = srv:request("GET", "/", { token = token or nil })
      assert.equal(401, status, body)
      assert.equal("invalid_api_key", json.error.code)
    end
    assert.equal(before, budget_calls())
    local status, body, _, json = srv:request("GET", "/", { token = emu.tokens.vk_revoked })
    assert.equal(401, status, body)
    assert.equal("Alephant refused this virtual key", json.error.message)
  end)

  it("asks Alephant once for many requests on all workers", function()
    local before = budget_calls()
    local results = srv:parallel(20, "GET", "/", { token = emu.tokens.vk_agent_nodept })
    local cached = 0
    for _, r in ipairs(results) do
      assert.equal(200, r.status, r.body)
      if r.json.budget.cached then cached = cached + 1 end
    end
    assert.equal(before + 1, budget_calls())
    assert.equal(19, cached)
  end)

  it("fails open, and logs why, when Alephant errors", function()
    emu:arm({ fault = "status=503", count = 5, path = "/api/v1/cockpit/budget-status" })
    finally(function() emu:disarm() end)
    local status, body, _, json = srv:request("GET", "/", { token = emu.tokens.vk_member_nodept })
    assert.equal(200, status, body)
    assert.is_true(json.budget.unavailable)
    assert.matches("budget guard: .*cockpit%.budget_status.*503", srv:log())
  end)

  it("serves the workspace status the timer refreshed", function()
    local json
    for _ = 1, 200 do
      json = select(4, srv:request("GET", "/status"))
      if json and json.ok ~= nil and not json.pending then break end
      socket.sleep(0.05)
    end
    assert.is_true(json.ok, json.error and json.error.message)
    assert.equal(WS, json.workspace_id)
    local _, _, _, overview = emu:request("GET", "/api/v1/analytics/overview",
      { token = emu.tokens.pat_read, workspace = WS })
    assert.equal(overview.data.totalRequests, json.requests)
    assert.equal(overview.data.totalCostCents, json.cost_cents)
    assert.is_number(json.budget.usage_pct)
    assert.is_true(os.time() - json.refreshed_at < 60)
  end)

  it("counts the SDK's attempts per endpoint and status at /metrics and logs a failed one", function()
    -- The counters only grow and earlier tests fed them: read them before and after. The
    -- key (vk_ws2) is used by no other test, so no budget answer of it is in the shared
    -- cache and the guard must ask Alephant.
    local function metrics()
      local status, body, headers = srv:request("GET", "/metrics")
      assert.equal(200, status, body)
      assert.matches("^text/plain", headers["content-type"])
      local function count(outcome)
        return tonumber(body:match('alephant_requests_total{endpoint="cockpit%.budget_status",status="' .. outcome
          .. '"} (%d+)')) or 0
      end
      return { ["503"] = count("503"), ["200"] = count("200") }, body
    end
    local before = metrics()
    local calls = budget_calls()
    -- one 503, then the retry (max_retries = 1) succeeds: two attempts, both counted
    emu:arm({ fault = "status=503", count = 1, path = "/api/v1/cockpit/budget-status" })
    finally(function() emu:disarm() end)
    local status, body, _, json = srv:request("GET", "/", { token = emu.tokens.vk_ws2 })
    assert.equal(200, status, body)
    assert.is_true(json.ok)
    assert.is_nil(json.budget.unavailable)
    assert.is_false(json.budget.cached)
    assert.equal(calls + 2, budget_calls())
    local after, text = metrics()
    assert.equal(before["503"] + 1, after["503"], text)
    assert.equal(before["200"] + 1, after["200"], text)
    assert.matches('alephant_request_seconds_total{endpoint="cockpit%.budget_status",status="200"} %d+%.%d+', text)
    assert.matches("alephant: GET http://127%.0%.0%.1:%d+/api/v1/cockpit/budget%-status%?period=30d attempt 1 %-> 503 "
      .. "in [%d.]+ ms %(request id %x+%-", srv:log())
  end)

  it("never writes a token to its logs", function()
    local text = srv:log() .. read(srv.dir .. "/logs/access.log")
    for name, token in pairs(emu.tokens) do
      assert.is_nil(text:find(token, 1, true), name .. " appears in the logs")
    end
  end)
end)
