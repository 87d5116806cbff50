-- Real calls end to end: the SDK over the real libcurl transport against the emulator,
-- asserting what the emulator received.
local emulator = require "spec.support.emulator"

describe("client calls #integration", function()
  local emu = emulator.session()
  local WS = emu.ids.workspace_1
  local function client(token_name, extra) return emu:client(token_name, extra) end

  it("calls Cockpit with a virtual key and never sends X-Workspace-Id", function()
    local c = client("vk_agent")
    local scope, err, meta = c.cockpit:scope()
    assert.is_table(scope, tostring(err))
    assert.equal(WS, scope.workspace.id)
    assert.equal(200, meta.status)
    assert.is_string(meta.request_id)
    local summary = assert(c.cockpit:usage_summary{ period = "30d" })
    assert.is_number(summary.total_requests)
    local seen = emu:requests("/api/v1/cockpit/")
    assert.equal(2, #seen)
    for _, r in ipairs(seen) do
      assert.is_nil(r.headers["x-workspace-id"])
      assert.matches("^Bearer vk%-ag", r.headers.authorization)
    end
  end)

  it("resolves the workspace once for many Analytics API calls with a virtual key", function()
    local c = client("vk_agent")
    local today = os.date("!%Y-%m-%d")
    for _ = 1, 5 do
      local data, err = c.collector:usage{ from = today, to = today }
      assert.is_table(data, tostring(err))
    end
    assert.equal(1, #emu:requests("/api/v1/cockpit/scope"))
    local calls = emu:requests("/v1/analytics/saas/usage")
    assert.equal(5, #calls)
    for _, r in ipairs(calls) do assert.equal(WS, r.headers["x-workspace-id"]) end
    assert.equal(WS, c:context().workspace_id)
  end)

  it("sends X-Workspace-Id and the wire names for a PAT", function()
    local c = client("pat_read")
    local data, err = c.analytics:usage{ from = "2026-11-01", to = "2026-11-02", agent_id = emu.ids.support_bot }
    if not data then assert.is_nil(err and err.status == 400 and err, tostring(err)) end
    local r = emu:requests("/api/v1/analytics/usage")[1]
    assert.equal(WS, r.headers["x-workspace-id"])
    assert.equal("2026-11-01", r.args.dateFrom)
    assert.equal("2026-11-02", r.args.dateTo)
  end)

  it("calls JWT-only routes with a JWT", function()
    local c = client("jwt")
    local list, err = c.workspaces:list()
    assert.is_table(list, tostring(err))
    local r = emu:requests("/api/v1/workspaces")[1]
    assert.is_nil(r.headers["x-workspace-id"])
  end)

  it("refuses the wrong token kind without sending anything", function()
    local c = client("vk_agent")
    local data, err = c.pats:list()
    assert.is_nil(data)
    assert.equal("auth", err.kind)
    assert.equal(0, #emu:requests())
  end)

  it("refuses bad input without sending anything", function()
    local c = client("pat_read")
    local data, err = c.analytics:usage{ from = "2026-11-27", to = "2026-11-01" }
    assert.is_nil(data)
    assert.equal("validation", err.kind)
    assert.equal(0, #emu:requests())
  end)

  it("maps API errors to err tables", function()
    local c = client("pat_read")
    local data, err = c.virtual_keys:create{ label = "x", master_key_id = emu.ids.openai }
    assert.is_nil(data)
    assert.equal("auth", err.kind)
    assert.equal(403, err.status)
    assert.matches("write", err.message)
    assert.equal("virtual_keys.create", err.endpoint)
    assert.is_string(err.request_id)
    assert.not_matches("pat_ws", tostring(err))
  end)

  it("uses one TCP connection for 100 sequential calls", function()
    local c = client("vk_agent")
    for _ = 1, 100 do assert(c.cockpit:budget_status()) end
    local conns = {}
    for _, r in ipairs(emu:requests("/api/v1/cockpit/budget%-status")) do conns[r.connection] = true end
    local n = 0
    for _ in pairs(conns) do n = n + 1 end
    assert.equal(1, n)
  end)

  it("iterates over every page", function()
    local c = client("pat_read")
    local all, err = c.agents:all{ page_size = 2 }
    assert.is_table(all, tostring(err))
    local total = 0
    for _, a in ipairs(emu.fixtures.agents) do
      if a.workspace_id == WS then total = total + 1 end
    end
    assert.equal(total, #all)
    assert.is_true(#emu:requests("/api/v1/agents") >= math.ceil(total / 2))
    local first = c.agents:all{ page_size = 2 }
    assert.same(all, first)
    local limited = c.agents:all({ page_size = 2 }, { max_items = 3 })
    assert.equal(math.min(3, total), #limited)
  end)

  it("yields false, err once when a page fails", function()
    local c = client("pat_read", { max_retries = 0 })
    local got = {}
    for item, err in c.agents:each({ page_size = 2 }, { headers = { ["X-Emulator-Fault"] = "status=500;count=1" } }) do
      got[#got + 1] = item == false and err or item
    end
    assert.equal(1, #got)
    assert.equal("http", got[1].kind)
    assert.equal(500, got[1].status)
  end)
end)
