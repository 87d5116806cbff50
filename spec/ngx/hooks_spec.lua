-- The generic client hooks alephant.ngx is built on, outside nginx (Lua 5.4 and
-- LuaJIT, real libcurl, the emulator): `context_store` shares a virtual key's resolved
-- context between clients, `sleep` and `clock` replace the waits and the clock. And
-- alephant.ngx itself outside nginx: it loads, checks its options, refuses to work.
local emulator = require "spec.support.emulator"

describe("client hooks for nginx #integration", function()
  local emu = emulator.session()
  local WS = emu.ids.workspace_1

  local function client(extra)
    local opts = { max_retries = 0 }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return emu:client("vk_agent", opts)
  end

  -- a store over a plain table that records how it is used
  local function table_store()
    local s = { value = nil, gets = 0, sets = {} }
    function s.get()
      s.gets = s.gets + 1
      if s.value then return s.value end
      return nil, "handle-" .. s.gets
    end
    function s.set(_, ctx, handle)
      s.sets[#s.sets + 1] = { ctx = ctx, handle = handle }
      if ctx then s.value = ctx end
    end
    return s
  end

  local function usage(c)
    local today = os.date("!%Y-%m-%d")
    return c.collector:usage{ from = today, to = today }
  end

  local function scope_calls() return #emu:requests("/api/v1/cockpit/scope") end

  it("shares one scope call between clients through a context_store", function()
    local store = table_store()
    local a, b = client{ context_store = store }, client{ context_store = store }
    assert.is_table((usage(a)))
    assert.is_table((usage(b)))
    assert.is_table((usage(client{ context_store = store })))
    assert.equal(1, scope_calls())
    assert.equal(3, #emu:requests("/v1/analytics/saas/usage"))
    for _, r in ipairs(emu:requests("/v1/analytics/saas/usage")) do assert.equal(WS, r.headers["x-workspace-id"]) end
    -- the store saw the context once, with the handle its own get() gave
    assert.equal(1, #store.sets)
    local ctx = store.sets[1].ctx
    assert.equal("handle-1", store.sets[1].handle)
    assert.equal(WS, ctx.workspace_id)
    assert.equal(emu.ids.vk_agent, ctx.virtual_key_id)
    assert.equal(emu.ids.support_bot, ctx.entity_id)
    assert.equal("agent", ctx.entity_type)
    assert.is_number(ctx.fetched_at)
    assert.equal(ctx.fetched_at + 300, ctx.expires_at)
    assert.equal(WS, b:context().workspace_id)
  end)

  it("keeps the stored context's age: an expired one is fetched again", function()
    local store = table_store()
    store.value = { workspace_id = WS, fetched_at = os.time() - 400, expires_at = os.time() - 100 }
    assert.is_table((usage(client{ context_store = store })))
    assert.equal(1, scope_calls())
    assert.is_true(store.value.fetched_at >= os.time() - 5)
    -- the fresh one now stored is used as it is
    assert.is_table((usage(client{ context_store = store })))
    assert.equal(1, scope_calls())
  end)

  it("fetches again when the stored context is unusable", function()
    local store = table_store()
    store.value = { workspace_id = "not-a-uuid", fetched_at = os.time() }
    assert.is_table((usage(client{ context_store = store })))
    assert.equal(1, scope_calls())
    assert.equal(WS, store.value.workspace_id)
  end)

  it("hands back nil and the handle when the scope call fails", function()
    emu:arm({ fault = "status=500", count = 1, path = "/api/v1/cockpit/scope" })
    local store = table_store()
    local data, err = usage(client{ context_store = store })
    assert.is_nil(data)
    assert.equal("http", err.kind)
    assert.equal(1, #store.sets)
    assert.is_nil(store.sets[1].ctx)
    assert.equal("handle-1", store.sets[1].handle)
    assert.is_nil(store.value)
  end)

  it("waits between retries with the sleep hook", function()
    local waits = {}
    local c = client{ max_retries = 2, sleep = function(s) waits[#waits + 1] = s end }
    emu:arm({ fault = "status=503", count = 2, path = "/api/v1/cockpit/budget-status" })
    local data, err, meta = c.cockpit:budget_status()
    assert.is_table(data, tostring(err))
    assert.equal(3, meta.attempts)
    assert.equal(2, #waits)
    for _, w in ipairs(waits) do assert.is_true(w > 0 and w <= 8) end
  end)

  it("measures deadlines with the clock hook", function()
    local now = 0
    local c = client{ max_retries = 5, clock = function() return now end,
      sleep = function(s) now = now + s end, deadline = 1 }
    emu:arm({ fault = "status=503", count = 10, path = "/api/v1/cockpit/budget-status" })
    local data, err = c.cockpit:budget_status()
    assert.is_nil(data)
    assert.equal(503, err.status)
    -- the fake clock, not wall time, ran out: fewer attempts than max_retries allows
    assert.is_true(err.attempts < 6)
    assert.is_true(now < 1)
  end)

  it("refuses hooks of the wrong shape", function()
    assert.has_error(function() client{ context_store = { get = function() end } } end,
      "alephant.new: option 'context_store' must be a context store (an object with get and set methods), got table")
    assert.has_error(function() client{ sleep = 1 } end, "alephant.new: option 'sleep' must be a function, got number")
    assert.has_error(function() client{ clock = "now" } end,
      "alephant.new: option 'clock' must be a function, got string")
  end)
end)

describe("alephant.ngx outside nginx", function()
  local alephant_ngx = require "alephant.ngx"

  it("loads, and returns a config error from new()", function()
    local client, err = alephant_ngx.new{ token = "vk-agent-0123456789abcdef" }
    assert.is_nil(client)
    assert.equal("config", err.kind)
    assert.matches("use alephant.new elsewhere", err.message, 1, true)
  end)

  it("raises on options of the wrong type or combination", function()
    assert.has_error(function() alephant_ngx.new(5) end, "alephant.ngx.new: options must be a table, got number")
    assert.has_error(function() alephant_ngx:new{} end,
      "alephant.ngx.new is a function, not a method: write alephant_ngx.new{...}, not alephant_ngx:new{...}")
    assert.has_error(function() alephant_ngx.new{ blocking = "yes" } end,
      "alephant.ngx.new: option 'blocking' must be a boolean, got string")
    assert.has_error(function() alephant_ngx.new{ thread_pool = 1 } end,
      "alephant.ngx.new: option 'thread_pool' must be a string, got number")
    assert.has_error(function() alephant_ngx.new{ lock_timeout = 0 } end,
      "alephant.ngx.new: option 'lock_timeout' must be a positive number of seconds, at most 2147483, got 0")
    assert.has_error(function() alephant_ngx.new{ budget_cache_ttl = 0 / 0, shared_dict = "d" } end,
      "alephant.ngx.new: option 'budget_cache_ttl' must be a positive number of seconds, at most 2147483, got NaN")
    assert.has_error(function() alephant_ngx.new{ budget_cache_ttl = 10 } end,
      "alephant.ngx.new: budget_cache_ttl needs shared_dict (the lua_shared_dict the answers live in)")
  end)
end)
