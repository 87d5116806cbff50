-- The fault matrix: every fault the emulator injects × every HTTP method of the catalog,
-- through the real client over libcurl against the emulator. For each cell it asserts
-- the error kind, the number of attempts the emulator saw, that only GET was retried
-- (max_retries = 1) while writes went out once, that a fault firing fewer times than the
-- attempts ends in success (GET on its own, writes only with retry = true), and that the
-- same client then works for the next call.
local alephant = require "alephant"
local core = require "alephant.core"
local retry = require "alephant.retry"
local emulator = require "spec.support.emulator"

local TIMEOUT = 0.3 -- seconds per attempt; every stall and trickle below outlasts it
local MAX_BODY = 64 * 1024 -- the transport's max_body, for the oversized fault

-- kind: the error kind; status: err.status; retryable: what err.retryable must say
-- (retried on GET); lingers: the emulator keeps handling the request after the client
-- gave up, so its record arrives late; body: the fault acts on the response body, and a
-- 204 No Content has none, so the call succeeds (asserted too).
local faults = {
  { name = "reset", fault = "reset", kind = "network", retryable = true },
  { name = "stall beyond the timeout", fault = "stall=600", kind = "timeout", retryable = true, lingers = true },
  { name = "429 with retry-after", fault = "429;retry-after=0", kind = "http", status = 429, retryable = true },
  { name = "500", fault = "status=500", kind = "http", status = 500, retryable = false },
  { name = "502", fault = "status=502", kind = "http", status = 502, retryable = true },
  { name = "503", fault = "status=503", kind = "http", status = 503, retryable = true },
  { name = "504", fault = "status=504", kind = "http", status = 504, retryable = true },
  { name = "malformed", fault = "malformed", kind = "decode", status = 200, retryable = false },
  { name = "truncated", fault = "truncated", kind = "network", retryable = true, body = true },
  { name = "oversized", fault = "oversized=200000", kind = "too_large", retryable = false, body = true },
  { name = "trickle slower than the timeout", fault = "trickle=60;chunk=4", kind = "timeout", retryable = true,
    lingers = true, body = true },
}

-- One real endpoint per method. token: the fixture token; params(emu): the call's params.
local methods = {
  { method = "GET", endpoint = "agents.list", path = "/api/v1/agents", token = "pat_admin",
    params = function() return { page_size = 5 } end },
  { method = "POST", endpoint = "virtual_keys.create", path = "/api/v1/virtual%-keys$", token = "pat_admin",
    params = function(emu) return { label = "fault matrix", master_key_id = emu.ids.openai } end },
  { method = "PUT", endpoint = "policies.set_budget_control", path = "/api/v1/policies/budget%-control",
    token = "pat_admin", params = function() return { config = { amount = 100 } } end },
  { method = "PATCH", endpoint = "virtual_keys.update", path = "/api/v1/virtual%-keys/", token = "pat_admin",
    params = function(emu) return { id = emu.ids.vk_agent, label = "fault matrix" } end },
  { method = "DELETE", endpoint = "pats.revoke", path = "/api/v1/pats/", token = "jwt", no_content = true,
    params = function(emu) return { id = emu.ids.pat_read } end },
}

describe("fault matrix #integration", function()
  local emu = emulator.session()
  local cell_seq = 0

  local base_delay = retry.base_delay
  lazy_setup(function()
    retry.base_delay = 0.02 -- short backoff steps: the waits are not what this spec is about
  end)
  lazy_teardown(function() retry.base_delay = base_delay end)

  local function new_client(token_name)
    return assert(alephant.new({
      token = emu.tokens[token_name], workspace_id = emu.ids.workspace_1,
      base_url = emu.saas_url, analytics_url = emu.analytics_url, gateway_url = emu.gateway_url,
      getenv = function() return nil end, timeout = TIMEOUT, max_retries = 1,
      transport = core.http_new({ timeout = TIMEOUT, max_body = MAX_BODY }),
    }))
  end

  -- Requests the emulator recorded for one tagged call. A lingering fault is still being
  -- served after the client gave up, so wait (briefly) until `want` records are in.
  local function seen(m, tag, want, lingers)
    local t_end = core.monotonic() + (lingers and 3 or 0.5)
    local list
    repeat
      list = {}
      for _, r in ipairs(emu:requests({ path = m.path, method = m.method })) do
        if r.headers["x-matrix-call"] == tag then list[#list + 1] = r end
      end
      if #list >= want then break end
      core.sleep(0.05)
    until core.monotonic() > t_end
    return list
  end

  local function call(c, m, fault, extra)
    cell_seq = cell_seq + 1
    local tag = "call-" .. cell_seq
    local opts = { headers = { ["X-Emulator-Fault"] = fault, ["X-Matrix-Call"] = tag } }
    for k, v in pairs(extra or {}) do opts[k] = v end
    local data, err, meta = c:call(m.endpoint, m.params(emu), opts)
    return data, err, meta, tag
  end

  for _, f in ipairs(faults) do
    for _, m in ipairs(methods) do
      local retried = m.method == "GET" and f.retryable
      it(("%s × %s %s"):format(f.name, m.method, m.endpoint), function()
        local c = new_client(m.token)
        local want = retried and 2 or 1

        -- 1. the fault on every attempt
        local data, err, meta, tag = call(c, m, f.fault)
        if f.body and m.no_content then
          assert.is_true(data, tostring(err)) -- 204: no body to truncate, pad or trickle
          assert.equal(204, meta.status)
          assert.equal(1, meta.attempts)
          assert.equal(1, #seen(m, tag, 1))
        else
          assert.is_nil(data)
          assert.is_table(err)
          assert.equal(f.kind, err.kind, tostring(err))
          assert.equal(f.status, err.status, tostring(err))
          assert.equal(f.retryable, err.retryable, tostring(err))
          assert.equal(m.endpoint, err.endpoint)
          assert.equal(want, err.attempts, tostring(err))
          assert.equal(want, #seen(m, tag, want, f.lingers), "attempts the emulator saw")
          if f.retryable and m.method ~= "GET" then
            assert.matches("not retried: " .. m.method .. " is not idempotent", err.message, 1, true)
          end
          if f.status == 429 then assert.equal(0, err.retry_after) end
          assert.is_nil(tostring(err):find("\n"), "one line")

          -- 2. a fault that fires fewer times than the attempts: GET recovers by itself,
          -- a write only when the call opts in with retry = true
          if f.retryable then
            local fault = f.fault .. ";count=1;key=" .. tag
            data, err, meta, tag = call(c, m, fault, m.method ~= "GET" and { retry = true } or nil)
            assert.is_not_nil(data, tostring(err))
            assert.equal(2, meta.attempts)
            assert.equal(2, #seen(m, tag, 2, f.lingers), "attempts the emulator saw")
          end
        end

        -- 3. the same client works for the next call
        data, err, meta, tag = call(c, m, "count=0")
        assert.is_not_nil(data, tostring(err))
        assert.equal(1, meta.attempts)
        assert.equal(1, #seen(m, tag, 1))
        c:close()
      end)
    end
  end
end)
