-- client:batch against the emulator over the real libcurl transport: results in order,
-- the same answers as one call at a time, refusals before anything is sent, one scope
-- resolution, retries per call, concurrency seen as connections (the emulator records
-- each request's remote port), tracking options as headers.
local emulator = require "spec.support.emulator"
local refused = require("spec.support.assert").refused

describe("client:batch #integration", function()
  local emu = emulator.session()
  local WS = emu.ids.workspace_1
  local function fault(spec) return { headers = { ["X-Emulator-Fault"] = spec } } end
  local today = os.date("!%Y-%m-%d")

  it("answers each call in the order given, as client:call answers it", function()
    local c = emu:client("pat_read")
    local agents = { emu.ids.support_bot, emu.ids.code_reviewer, emu.ids.research_scout }
    local calls = {}
    for i, id in ipairs(agents) do
      calls[i] = { "analytics.usage", { from = "2026-11-01", to = today, agent_id = id } }
    end
    calls[#calls + 1] = { "agents.list" }
    local results = c:batch(calls)
    assert.equal(#calls, #results)
    for i, call in ipairs(calls) do
      local want, werr = c:call(call[1], call[2])
      assert.is_table(results[i].data, tostring(results[i].err))
      assert.is_table(want, tostring(werr))
      assert.same(want, results[i].data)
      assert.equal(200, results[i].meta.status)
      assert.equal(1, results[i].meta.attempts)
    end
    -- what went out: the wire names, per agent
    local seen = {}
    for _, r in ipairs(emu:requests("/api/v1/analytics/usage")) do seen[#seen + 1] = r.args.agentId end
    for _, id in ipairs(agents) do assert.truthy(table.concat(seen, " "):find(id, 1, true)) end
  end)

  it("refuses a call whose input is wrong in its own slot and sends nothing for it", function()
    local c = emu:client("pat_read")
    local results = c:batch({
      { "analytics.usage", { from = "2026-11-27", to = "2026-11-01" } },
      { "agents.list" },
      { "analytics.usage", { from = "2026-11-01" } },
      { "agents.list", nil, { headers = { ["X-Bad\r\nName"] = "x" } } },
    })
    refused("validation", "from", "^from %(2026%-11%-27%) must not be after to %(2026%-11%-01%)$",
      results[1].data, results[1].err)
    assert.is_nil(results[1].err.request_id)
    assert.is_table(results[2].data, tostring(results[2].err))
    refused("validation", "to", "^to is required when from is given: pass both or neither$",
      results[3].data, results[3].err)
    refused("validation", "headers", "^agents%.list: headers: a header name must be a non%-empty HTTP token",
      results[4].data, results[4].err)
    assert.equal(0, #emu:requests("/api/v1/analytics/usage"))
    assert.equal(1, #emu:requests("/api/v1/agents"))
  end)

  it("resolves a virtual key's workspace once for the whole batch", function()
    local c = emu:client("vk_agent")
    local calls = {}
    for i = 1, 6 do calls[i] = { "collector.usage", { from = today, to = today } } end
    local results = c:batch(calls)
    for _, r in ipairs(results) do assert.is_table(r.data, tostring(r.err)) end
    assert.equal(1, #emu:requests("/api/v1/cockpit/scope"))
    local sent = emu:requests("/v1/analytics/saas/usage")
    assert.equal(6, #sent)
    for _, r in ipairs(sent) do assert.equal(WS, r.headers["x-workspace-id"]) end
  end)

  it("retries each call on its own: a 503 goes out again while the others are done", function()
    local c = emu:client("vk_agent")
    local results = c:batch({
      { "cockpit.scope", nil, fault("status=503;count=2;key=batch-a") },
      { "cockpit.usage_summary", { period = "30d" } },
      -- (not a reset: libcurl itself retries a request whose reused connection died
      -- silently, so the attempts of a reset depend on which connection it got)
      { "cockpit.scope", nil, fault("status=502;count=1;key=batch-b") },
    })
    assert.is_table(results[1].data, tostring(results[1].err))
    assert.equal(3, results[1].meta.attempts)
    assert.is_table(results[2].data, tostring(results[2].err))
    assert.equal(1, results[2].meta.attempts)
    assert.is_table(results[3].data, tostring(results[3].err))
    assert.equal(2, results[3].meta.attempts)
  end)

  it("returns a far Retry-After at once in its slot, with err.retry_after", function()
    local c = emu:client("vk_agent", { max_retry_wait = 2 })
    local results = c:batch({
      { "cockpit.scope", nil, fault("429;retry-after=600;count=1;key=far") },
      { "cockpit.scope" },
    })
    assert.equal(429, results[1].err.status)
    assert.equal(600, results[1].err.retry_after)
    assert.is_table(results[2].data, tostring(results[2].err))
  end)

  it("keeps at most max_concurrency requests in flight, side by side", function()
    local c = emu:client("vk_agent")
    local calls = {}
    for i = 1, 9 do calls[i] = { "cockpit.scope", nil, fault("stall=300;key=slow" .. i) } end
    local results = c:batch(calls, { max_concurrency = 3 })
    for _, r in ipairs(results) do assert.is_table(r.data, tostring(r.err)) end
    local ports, n = {}, 0
    for _, r in ipairs(emu:requests("/api/v1/cockpit/scope")) do
      if not ports[r.remote_port] then ports[r.remote_port], n = true, n + 1 end
    end
    assert.equal(3, n) -- three connections at once, each reused for its next request
  end)

  it("sends a gateway call's tracking options as headers, never in the body", function()
    local c = emu:client("vk_agent")
    local results = c:batch({
      { "gateway.chat", { model = "gpt-4o-mini", messages = { { role = "user", content = "hi" } },
        agent_id = "agt_batch", session = { id = "sess_batch" } } },
    })
    assert.is_table(results[1].data, tostring(results[1].err))
    assert.is_string(results[1].meta.request_id)
    local r = emu:requests("/v1/chat/completions")[1]
    assert.equal("agt_batch", r.headers["alephant-agent-id"])
    assert.is_nil(r.body:find("agt_batch", 1, true))
  end)

  it("runs one call after another on a transport without request_many", function()
    local real = require("alephant.core").http_new({ timeout = 5 })
    local sequential = { request = function(_, req) return real:request(req) end }
    local c = emu:client("vk_agent", { transport = sequential })
    local results = c:batch({ { "cockpit.scope" }, { "cockpit.scope", nil, fault("status=503;count=1;key=seq") } })
    assert.is_table(results[1].data, tostring(results[1].err))
    assert.equal(2, results[2].meta.attempts)
    real:close()
  end)

  it("gives every slot the transport's own failure when the transport is closed", function()
    local real = require("alephant.core").http_new({ timeout = 5 })
    real:close()
    local c = emu:client("vk_agent", { transport = real })
    local results = c:batch({ { "cockpit.scope" }, { "cockpit.health" } })
    for _, r in ipairs(results) do
      assert.is_nil(r.data)
      assert.equal("network", r.err.kind)
      assert.matches("closed", r.err.message)
    end
    assert.equal(0, #emu:requests())
  end)

  it("takes an empty list and raises on programmer errors", function()
    local c = emu:client("pat_read")
    assert.same({}, c:batch({}))
    assert.has_error(function() c:batch("agents.list") end, "alephant: batch: calls must be a list, got string")
    assert.has_error(function() c:batch({ "agents.list" }) end,
      "alephant: batch: call 1 must be a table { name, params, opts }, got string")
    assert.has_error(function() c:batch({ { "agents.nope" } }) end, "unknown endpoint 'agents.nope'")
    assert.has_error(function() c:batch({ { "agents.list", nil, { bogus = 1 } } }) end,
      "alephant: unknown call option 'bogus' (known: deadline, timeout, retry, max_items, max_pages, prefetch, "
        .. "headers, extra)")
    for _, n in ipairs({ 0, 65, 1.5, "8" }) do
      assert.has_error(function() c:batch({}, { max_concurrency = n }) end,
        "alephant: batch option 'max_concurrency' must be an integer from 1 to 64")
    end
    assert.has_error(function() c:batch({}, { parallel = 2 }) end,
      "alephant: unknown batch option 'parallel' (known: max_concurrency)")
    assert.has_error(function() c:batch({}, 8) end, "alephant: batch options must be a table, got number")
    assert.equal(0, #emu:requests())
  end)
end)
