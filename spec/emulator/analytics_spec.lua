-- Analytics (Collector) API /v1/analytics/*: envelope, codes, pagination, request logs (reference 3.6, 4).
local emulator = require("spec.support.emulator")
local socket = require("socket")

local function ymd(offset_days)
  return os.date("!%Y-%m-%d", os.time() + (offset_days or 0) * 86400)
end

local function iso(offset_seconds)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + (offset_seconds or 0))
end

describe("emulator Analytics API", function()
  local emu = emulator.session({ ingest_delay_ms = 300, reset = false })
  local t, ids = emu.tokens, emu.ids

  local function get(path, query, token, ws)
    local status, text, h, json = emu:request("GET", "/v1/analytics/" .. path, { token = token or t.vk_agent,
      workspace = ws or ids.workspace_1, query = query })
    assert.is_truthy(status, text)
    return status, json, h, text
  end

  local function err(status, json, want_status, code, pattern)
    assert.equal(want_status, status)
    assert.equal(code, json.code)
    assert.equal(emulator.null, json.data)
    assert.is_string(json.message)
    if pattern then assert.matches(pattern, json.message) end
  end

  it("wraps every answer in {code, message, data}", function()
    for _, p in ipairs({ "health", "saas/usage", "saas/costs", "saas/logs" }) do
      local s, j = get(p)
      assert.equal(200, s, p)
      assert.equal(0, j.code)
      assert.is_string(j.message)
      assert.is_table(j.data)
    end
    local s, j = get("nope")
    err(s, j, 404, 40400)
  end)

  describe("saas/usage", function()
    it("returns a series with USD costs", function()
      local s, j = get("saas/usage", { dateFrom = ymd(-2), dateTo = ymd(0) })
      assert.equal(200, s)
      assert.same({ from = ymd(-2), to = ymd(0) }, j.data.period)
      assert.equal(3, #j.data.series)
      assert.is_number(j.data.series[1].cost)
    end)

    it("40020 for more than one scope filter", function()
      local s, j = get("saas/usage", { agentId = ids.support_bot, memberId = ids.alice })
      err(s, j, 400, 40020)
      s, j = get("saas/usage", { agentId = ids.support_bot, departmentId = ids.support })
      err(s, j, 400, 40020)
      assert.equal(200, (get("saas/usage", { memberId = ids.alice })))
    end)

    it("validates UUIDs and dates", function()
      local s, j = get("saas/usage", { departmentId = "support" })
      err(s, j, 400, 40013)
      s, j = get("saas/usage", { agentId = "bot" })
      err(s, j, 400, 40014)
      s, j = get("saas/usage", { dateFrom = ymd(-1) })
      err(s, j, 400, 40000, "together")
      s, j = get("saas/usage", { dateFrom = "2026-02-30", dateTo = "2026-03-01" })
      err(s, j, 400, 40000, "dateFrom")
      s, j = get("saas/usage", { dateFrom = ymd(0), dateTo = ymd(-1) })
      err(s, j, 400, 40000, "after")
    end)
  end)

  it("saas/costs validates departmentId (40013) and filters", function()
    local s, j = get("saas/costs", { departmentId = "x" })
    err(s, j, 400, 40013)
    s, j = get("saas/costs", { departmentId = ids.support, dateFrom = ymd(-6), dateTo = ymd(0) })
    assert.equal(200, s)
    for _, b in ipairs(j.data.breakdown) do
      if b.dimension == "agent" then
        assert.equal(1, #b.items)
        assert.equal(ids.support_bot, b.items[1].id)
      end
    end
  end)

  it("saas/models requires both dates", function()
    local s, j = get("saas/models")
    err(s, j, 400, 40000, "required")
    s, j = get("saas/models", { dateFrom = ymd(-6), dateTo = ymd(0) })
    assert.equal(200, s)
    assert.is_true(#j.data.models > 0)
    assert.is_number(j.data.models[1].cost)
  end)

  describe("saas/logs", function()
    it("pages with limit/offset and meta {total, hasMore, limit, offset}", function()
      local s, j = get("saas/logs", { limit = 7 })
      assert.equal(200, s)
      local meta = j.data.meta
      assert.equal(7, meta.limit)
      assert.equal(0, meta.offset)
      assert.is_true(meta.total > 7)
      assert.is_true(meta.hasMore)
      local total, seen, offset = meta.total, {}, 0
      while true do
        local _, page = get("saas/logs", { limit = 7, offset = offset })
        for _, r in ipairs(page.data.data) do
          assert.is_nil(seen[r.request_id])
          seen[r.request_id] = true
        end
        assert.equal(total, page.data.meta.total)
        if not page.data.meta.hasMore then
          assert.is_true(offset + 7 >= total)
          break
        end
        offset = offset + 7
      end
      local n = 0
      for _ in pairs(seen) do n = n + 1 end
      assert.equal(total, n)
    end)

    it("also accepts page/pageSize", function()
      local _, a = get("saas/logs", { limit = 4, offset = 4 })
      local _, b = get("saas/logs", { page = 2, pageSize = 4 })
      assert.same(a.data.data, b.data.data)
      assert.equal(2, b.data.meta.page)
      assert.equal(4, b.data.meta.offset)
    end)

    it("limit is at most 200; default 20", function()
      local s, j = get("saas/logs", { limit = 201 })
      err(s, j, 400, 40000, "limit")
      local _, d = get("saas/logs")
      assert.equal(20, d.data.meta.limit)
    end)

    it("filter codes 40020, 40028, 40027, 40011, 40013, 40014", function()
      local s, j = get("saas/logs", { agentId = ids.support_bot, memberId = ids.alice })
      err(s, j, 400, 40020)
      s, j = get("saas/logs", { entityType = "agent", agentId = ids.support_bot })
      err(s, j, 400, 40028)
      s, j = get("saas/logs", { search = "alice" })
      err(s, j, 400, 40027)
      s, j = get("saas/logs", { masterKeyId = "openai" })
      err(s, j, 400, 40011)
      s, j = get("saas/logs", { departmentId = "eng" })
      err(s, j, 400, 40013)
      s, j = get("saas/logs", { memberId = "alice" })
      err(s, j, 400, 40014)
    end)

    it("filters by entity and the ISO window wins over dates", function()
      local _, j = get("saas/logs", { agentId = ids.support_bot, limit = 200 })
      assert.is_true(#j.data.data > 0)
      for _, r in ipairs(j.data.data) do assert.equal(ids.support_bot, r.agent_id) end
      _, j = get("saas/logs", { entityType = "member", limit = 200 })
      for _, r in ipairs(j.data.data) do assert.equal("member", r.entity_type) end
      local _, none = get("saas/logs", { dateFrom = ymd(-3), dateTo = ymd(0), start = "2020-01-01T00:00:00Z",
        ["end"] = "2020-01-02T00:00:00Z" })
      assert.equal(0, none.data.meta.total)
    end)
  end)

  describe("request-logs", function()
    it("requires start/end ISO 8601 with end > start", function()
      local s, j = get("request-logs")
      err(s, j, 400, 40000, "required")
      s, j = get("request-logs", { start = "yesterday", ["end"] = iso(0) })
      err(s, j, 400, 40000, "ISO")
      s, j = get("request-logs", { start = iso(0), ["end"] = iso(-3600) })
      err(s, j, 400, 40000, "after")
      s, j = get("request-logs", { start = iso(0), ["end"] = iso(0) })
      err(s, j, 400, 40000)
    end)

    it("caps the window (40004)", function()
      local s, j = get("request-logs", { start = iso(-40 * 86400), ["end"] = iso(0) })
      err(s, j, 400, 40004)
      s, j = get("request-logs", { start = iso(-7 * 86400), ["end"] = iso(0), limit = 3 })
      assert.equal(200, s)
      assert.equal(3, #j.data.rows)
      assert.is_nil(j.data.meta)
    end)

    it("filter codes 40011, 40013, 40016, 40014, 40033", function()
      local w = { start = iso(-86400), ["end"] = iso(0) }
      local function q(extra)
        local o = { start = w.start, ["end"] = w["end"] }
        for k, v in pairs(extra) do o[k] = v end
        return o
      end
      local s, j = get("request-logs", q({ masterKeyId = "x" }))
      err(s, j, 400, 40011)
      s, j = get("request-logs", q({ departmentId = "x" }))
      err(s, j, 400, 40013)
      s, j = get("request-logs", q({ entityId = ids.alice }))
      err(s, j, 400, 40016)
      s, j = get("request-logs", q({ entityType = "member", entityId = "alice" }))
      err(s, j, 400, 40014)
      s, j = get("request-logs", q({ search = "alice" }))
      err(s, j, 400, 40033)
      s, j = get("request-logs", q({ entityType = "member", entityId = ids.alice, limit = 200 }))
      assert.equal(200, s)
      for _, r in ipairs(j.data.rows) do assert.equal(ids.alice, r.entity_id) end
    end)

    it("a gateway call is 404 40401 until ingested, then 200 with the row", function()
      emu:reset()
      local rid = "5b1f7f5e-3c1a-4d43-9a55-000000000001"
      local s, _, h = emu:request("POST", "/v1/chat/completions", { token = t.vk_agent, headers = {
        ["X-Request-Id"] = rid, ["Alephant-Agent-Id"] = "agt_support_bot_8f3a", ["Alephant-Run-Id"] = "run_42",
        ["Alephant-Session-Id"] = "sess_1", ["Alephant-Session-Path"] = "/triage",
        ["Alephant-Property-Ticket"] = "T-9", ["alephant-property-env"] = "ci" },
        body = { model = "openai/gpt-4o", messages = { { role = "user", content = "hello world" } } } })
      assert.equal(200, s)
      assert.equal(rid, h["x-request-id"])
      local t0 = socket.gettime()
      local st, j = get("request-logs/" .. rid)
      assert.equal(404, st)
      assert.same({ code = 40401, message = "request not found", data = emulator.null }, j)
      -- poll until it appears; it must not appear before the delay
      local row
      repeat
        socket.sleep(0.05)
        st, j = get("request-logs/" .. rid)
        if st == 200 then row = j.data.row end
      until row or socket.gettime() - t0 > 3
      assert.is_truthy(row)
      assert.is_true(socket.gettime() - t0 >= 0.2)
      assert.equal(0, j.code)
      assert.equal(rid, row.request_id)
      assert.equal("openai/gpt-4o", row.model)
      assert.equal(200, row.status)
      assert.equal("agt_support_bot_8f3a", row.agent_id)
      assert.equal("run_42", row.run_id)
      assert.equal("sess_1", row.session_id)
      assert.equal("/triage", row.session_path)
      assert.same({ ticket = "T-9", env = "ci" }, row.properties)
      assert.is_true(row.tokens_in > 0)
      assert.is_true(row.tokens_out > 0)
      assert.is_true(row.cost > 0)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT", row.created_at)
      -- scoped to the workspace
      st = get("request-logs/" .. rid, nil, t.vk_ws2, ids.workspace_2)
      assert.equal(404, st)
      -- and listed
      local _, list = get("request-logs", { start = iso(-60), ["end"] = iso(60), search = nil })
      local found = false
      for _, r in ipairs(list.data.rows) do if r.request_id == rid then found = true end end
      assert.is_true(found)
    end)

    it("the delay is configurable at run time", function()
      emu:set({ ingest_delay_ms = 0 })
      local rid = "5b1f7f5e-3c1a-4d43-9a55-000000000002"
      emu:request("POST", "/v1/embeddings", { token = t.vk_member, headers = { ["X-Request-Id"] = rid },
        body = { model = "text-embedding-3-small", input = "abc" } })
      local st, j = get("request-logs/" .. rid, nil, t.pat_read)
      assert.equal(200, st)
      assert.equal(ids.alice, j.data.row.member_id)
      emu:set({ ingest_delay_ms = 1500 })
      rid = "5b1f7f5e-3c1a-4d43-9a55-000000000003"
      emu:request("POST", "/v1/chat/completions", { token = t.vk_agent, headers = { ["X-Request-Id"] = rid },
        body = { model = "gpt-4o-mini", messages = { { role = "user", content = "x" } } } })
      socket.sleep(0.5)
      assert.equal(404, (get("request-logs/" .. rid)))
      emu:set({ ingest_delay_ms = 300 })
    end)

    it("a generated request id can be looked up too", function()
      emu:set({ ingest_delay_ms = 0 })
      local _, _, h = emu:request("POST", "/v1/chat/completions", { token = t.vk_agent,
        body = { model = "gpt-4o-mini", messages = { { role = "user", content = "x" } } } })
      local rid = h["x-request-id"]
      local st, j = get("request-logs/" .. rid)
      assert.equal(200, st)
      assert.equal(rid, j.data.row.request_id)
      emu:set({ ingest_delay_ms = 300 })
    end)
  end)

  it("usage/timeseries answers 40010 for hour + success_rate", function()
    local s, j = get("usage/timeseries", { metric = "success_rate", granularity = "hour" })
    err(s, j, 400, 40010)
    s = get("usage/timeseries", { metric = "cost", granularity = "hour", preset = "7d" })
    assert.equal(200, s)
  end)
end)
