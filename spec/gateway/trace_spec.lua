-- A gateway call traced to its request log, which appears after the emulator's
-- ingestion delay (404 / 40401 until then).
local emulator = require "spec.support.emulator"
local support = require "spec.gateway.support"
local core = require "alephant.core"

local MODEL, messages = support.MODEL, support.messages

describe("collector:request_log #integration", function()
  local emu = emulator.session({ ingest_delay_ms = 300 })
  local c
  lazy_setup(function() c = emu:client() end)
  before_each(function() emu:set({ ingest_delay_ms = 300 }) end)

  local function chat(extra)
    local params = { model = MODEL, messages = messages("trace me") }
    for k, v in pairs(extra or {}) do params[k] = v end
    local reply, err, meta = c.gateway:chat(params)
    assert.is_table(reply, tostring(err))
    return meta.request_id
  end

  it("waits for the log of a chat call and returns its row", function()
    local id = chat{ agent_id = "agt_trace", run_id = "run_trace", session = { id = "s_t", path = "flows/a" },
      properties = { tier = "gold" } }
    local t0 = core.monotonic()
    local log, err, meta = c.collector:request_log(id, { wait = 5 })
    local took = core.monotonic() - t0
    assert.is_table(log, tostring(err))
    local row = log.row
    assert.equal(id, row.request_id)
    assert.equal("agt_trace", row.agent_id)
    assert.equal("run_trace", row.run_id)
    assert.equal("s_t", row.session_id)
    assert.equal("/flows/a", row.session_path)
    assert.equal("gold", row.properties.tier)
    assert.equal(MODEL, row.model)
    assert.is_true(meta.polls >= 2)
    assert.is_true(took >= 0.2 and took < 1.5, ("took %.2f s"):format(took))
    -- polls back off: 0.1, 0.2, 0.4 ... so a 300 ms delay needs only a few
    local polls = emu:requests("/v1/analytics/request%-logs/")
    assert.equal(meta.polls, #polls)
    assert.is_true(#polls <= 4, #polls .. " polls")
    for _, r in ipairs(polls) do assert.equal(emu.ids.workspace_1, r.headers["x-workspace-id"]) end
  end)

  it("returns a timeout error naming the request id when the wait is shorter than the delay", function()
    emu:set({ ingest_delay_ms = 3000 })
    local id = chat()
    local t0 = core.monotonic()
    local log, err = c.collector:request_log(id, { wait = 0.5 })
    local took = core.monotonic() - t0
    assert.is_nil(log)
    assert.equal("timeout", err.kind)
    assert.equal(id, err.request_id)
    assert.equal(404, err.status)
    assert.equal(40401, err.code)
    assert.matches(id, err.message, 1, true)
    assert.matches("not ingested within 0.5 s", err.message)
    assert.is_true(took >= 0.5 and took < 1.2, ("took %.2f s"):format(took))
    assert.equal(err.attempts, #emu:requests("/v1/analytics/request%-logs/"))
  end)

  it("is a single call without wait, in both forms", function()
    local id = chat()
    local log, err = c.collector:request_log(id)
    assert.is_nil(log)
    assert.equal(404, err.status)
    assert.equal(40401, err.code)
    assert.equal(1, #emu:requests("/v1/analytics/request%-logs/"))
    emu:set({ ingest_delay_ms = 0 })
    id = chat()
    log, err = c.collector:request_log{ request_id = id }
    assert.is_table(log, tostring(err))
    assert.equal(id, log.row.request_id)
    log, err = c.collector:request_log({ request_id = id }, { wait = 1 })
    assert.is_table(log, tostring(err))
  end)

  it("does not poll on other errors", function()
    local log, err = c.collector:request_log("bad\nid", { wait = 2 })
    assert.is_nil(log)
    assert.equal("validation", err.kind)
    assert.equal(0, #emu:requests())
    local pat = emu:client("vk_revoked")
    log, err = pat.collector:request_log("00000000-0000-4000-8000-000000000000", { wait = 2 })
    assert.is_nil(log)
    assert.equal("auth", err.kind)
  end)

  it("is bounded by the deadline too", function()
    emu:set({ ingest_delay_ms = 3000 })
    local id = chat()
    local t0 = core.monotonic()
    local _, err = c.collector:request_log(id, { wait = 10, deadline = 0.4 })
    assert.equal("timeout", err.kind)
    assert.is_true(core.monotonic() - t0 < 1)
  end)

  it("raises on programmer errors", function()
    assert.has_error(function() c.collector:request_log(42) end)
    assert.has_error(function() c.collector:request_log("id", { wait = "1" }) end)
    assert.has_error(function() c.collector:request_log("id", { wait = -1 }) end)
    assert.has_error(function() c.collector:request_log("id", { wiat = 1 }) end)
  end)
end)
