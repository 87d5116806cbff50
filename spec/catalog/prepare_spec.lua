local core = require "alephant.core"
local jwt = require "spec.support.jwt"
local refused = require("spec.support.assert").refused

local fixtures = require "spec.support.fixtures"
local WS = fixtures.WS
local WS2 = fixtures.ID
local VK = fixtures.VK
local PAT = fixtures.PAT

local function state(token, opts)
  opts = opts or {}
  return assert(core.state_new({
    token = token, workspace_id = opts.workspace_id,
    base_url = opts.base_url or "https://saas.test/", analytics_url = "https://analytics.test//",
    gateway_url = "https://gw.test/v1/", scope_ttl = opts.scope_ttl,
  }))
end

describe("prepare: one vocabulary", function()
  local pat = state(PAT, { workspace_id = WS })

  it("maps snake_case Lua names to the wire names of each family", function()
    local req = pat:prepare("analytics.usage", { from = "2026-11-01", to = "2026-11-27", agent_id = WS2 })
    assert.equal("https://saas.test/api/v1/analytics/usage?dateFrom=2026-11-01&dateTo=2026-11-27&agentId=" .. WS2,
      req.url)
    req = pat:prepare("collector.request_logs", { start = "2026-11-01T00:00:00Z", ["end"] = "2026-11-01T01:00:00Z" })
    assert.equal("https://analytics.test/v1/analytics/request-logs?start=2026-11-01T00%3A00%3A00Z"
      .. "&end=2026-11-01T01%3A00%3A00Z", req.url)
  end)

  it("hints at from/to when given start/end, and the reverse", function()
    local err = refused("validation", nil, "analytics%.usage takes a calendar%-date window from/to",
      pat:prepare("analytics.usage", { start = "2026-11-01T00:00:00Z", ["end"] = "2026-11-02T00:00:00Z" }))
    assert.is_true(err.field == "start" or err.field == "end") -- whichever key the table yields first
    refused("validation", nil, "takes a datetime window start/end",
      pat:prepare("collector.request_logs", { from = "2026-11-01" }))
  end)

  it("hints at the Lua name when given a wire or camelCase name", function()
    refused("validation", nil, "does not take 'dateFrom': use 'from'",
      pat:prepare("analytics.usage", { dateFrom = "2026-11-01" }))
    refused("validation", nil, "does not take 'agentId': use 'agent_id'",
      pat:prepare("analytics.usage", { agentId = WS2 }))
    refused("validation", nil, "does not take 'pageSize': use 'page_size'",
      pat:prepare("agents.list", { pageSize = 10 }))
    refused("validation", nil, "did you mean 'months'%?", pat:prepare("analytics.usage_history", { mnths = 3 }))
    refused("validation", nil, "it takes months", pat:prepare("analytics.usage_history", { colour = "red" }))
    refused("validation", nil, "it takes no parameters", pat:prepare("analytics.overview", { x = 1 }))
  end)

  it("refuses non-string parameter names and unknown endpoints", function()
    refused("validation", nil, "parameter names must be strings", pat:prepare("agents.list", { 1, 2 }))
    refused("validation", nil, "did you mean 'analytics%.usage'", pat:prepare("analytics.usge", {}))
    assert.has_error(function() pat:prepare("agents.list", "page=2") end)
  end)

  it("checks values and cross-field rules before anything is sent", function()
    refused("validation", nil, "both or neither", pat:prepare("analytics.usage", { from = "2026-11-01" }))
    refused("validation", nil, "must not be after",
      pat:prepare("analytics.costs", { from = "2026-11-02", to = "2026-11-01" }))
    refused("validation", nil, "not a leap year",
      pat:prepare("analytics.models", { from = "2026-02-29", to = "2026-03-01" }))
    refused("validation", nil, "cannot be combined",
      pat:prepare("analytics.usage", { agent_id = WS2, member_id = WS2 }))
    refused("validation", nil, "UUID", pat:prepare("analytics.usage", { agent_id = "bot-1" }))
    refused("validation", nil, "between 1 and 24", pat:prepare("analytics.usage_history", { months = 25 }))
    refused("validation", nil, "integer", pat:prepare("analytics.usage_history", { months = 2.5 }))
    refused("validation", nil, "one of 1, 7, 30", pat:prepare("agents.analytics", { agent_id = WS2, days = 14 }))
    refused("validation", nil, "agent_id is required", pat:prepare("agents.analytics", { days = 7 }))
    refused("validation", nil, "between 1 and 200", pat:prepare("members.list", { page_size = 500 }))
    refused("validation", nil, "1 or more", pat:prepare("members.list", { page = 0 }))
    refused("validation", nil, "not available for metric \"latency\"", pat:prepare("analytics.timeseries",
      { metric = "latency", granularity = "hour" }))
    refused("validation", nil, "must be after", pat:prepare("collector.request_logs",
      { start = "2026-11-01T01:00:00Z", ["end"] = "2026-11-01T01:00:00Z" }))
    refused("validation", nil, "entity_type is required when entity_id is given", pat:prepare("collector.request_logs",
      { start = "2026-11-01T00:00:00Z", ["end"] = "2026-11-01T01:00:00Z", entity_id = WS2 }))
    refused("validation", nil, "agent_id and entity_type cannot be combined", pat:prepare("collector.logs",
      { agent_id = WS2, entity_type = "agent" }))
    refused("validation", nil, "from and start cannot be combined", pat:prepare("collector.logs",
      { from = "2026-11-01", to = "2026-11-02", start = "2026-11-01T00:00:00Z", ["end"] = "2026-11-02T00:00:00Z" }))
    refused("validation", nil, "label must not be empty", pat:prepare("virtual_keys.create", { label = "" }))
    refused("validation", nil, "master_key_id is required by virtual_keys.create",
      pat:prepare("virtual_keys.create", { label = "x" }))
    refused("validation", nil, "at most 100 characters",
      pat:prepare("virtual_keys.create", { label = string.rep("x", 101) }))
    refused("validation", nil, "scopes must be one of read, write, admin",
      pat:prepare("pats.create", { name = "x", scopes = { "root" } }))
    refused("validation", nil, "budget must be a number, got string", pat:prepare("virtual_keys.create",
      { label = "x", master_key_id = WS2, budget = "5" }))
    refused("validation", nil, "config must be a table", pat:prepare("policies.set_budget_control", { config = "x" }))
    refused("validation", nil, "period must be one of 24h, 7d, 30d, billing_cycle",
      state(VK):prepare("cockpit.usage_summary", { period = "90d" }))
    refused("validation", nil, "metrics must not be empty", pat:prepare("analytics.sparklines", { metrics = "" }))
  end)

  it("refuses control characters in anything that becomes a URL or header", function()
    refused("validation", nil, "LF", pat:prepare("agents.list", { search = "bot\nX-Evil: 1" }))
    refused("validation", nil, "CR", pat:prepare("virtual_keys.list", { status = "active\r" }))
    -- typed values (dates, UUIDs, enums) get the control-character message, not their type's
    refused("validation", nil, "^from must not contain LF %(byte 0x0A at position 10%)",
      pat:prepare("analytics.usage", { from = "2026-10-2\n", to = "2026-11-27" }))
    refused("validation", nil, "^agent_id must not contain NUL %(byte 0x00 at position 1%)",
      pat:prepare("analytics.usage", { agent_id = "\0" .. ("0"):rep(35) }))
  end)
end)

describe("prepare: URLs", function()
  local vk = state(VK, { workspace_id = WS })

  -- Lua 5.4: the state keeps the last URL it built (src/lua/state_prepare.c, push_url)
  it("builds each call's own URL when calls repeat or alternate", function()
    local pat = state(PAT, { workspace_id = WS })
    local a = { from = "2026-10-29", to = "2026-11-27", agent_id = WS2 }
    local b = { from = "2026-10-29", to = "2026-11-28", agent_id = WS2 } -- the same length
    local url_a = "https://saas.test/api/v1/analytics/usage?dateFrom=2026-10-29&dateTo=2026-11-27&agentId=" .. WS2
    local url_b = "https://saas.test/api/v1/analytics/usage?dateFrom=2026-10-29&dateTo=2026-11-28&agentId=" .. WS2
    for _, p in ipairs({ a, a, b, b, a, b }) do
      assert.equal(p == a and url_a or url_b, pat:prepare("analytics.usage", p).url)
    end
    local other = state(PAT, { workspace_id = WS, base_url = "https://saas2.test" })
    assert.equal((url_a:gsub("saas%.test", "saas2.test", 1)), other:prepare("analytics.usage", a).url)
    other:close()
    pat:close()
  end)

  -- src/lua/state_prepare.c keeps, per endpoint, the key strings that named its parameters
  it("knows each parameter by its name in each endpoint, whichever endpoint saw the name first", function()
    local pat = state(PAT, { workspace_id = WS })
    local other = state(PAT, { workspace_id = WS }) -- the same VM: the same endpoints' keys
    local usage = "https://saas.test/api/v1/analytics/usage?dateFrom=2026-10-29&dateTo=2026-11-27&agentId=" .. WS2
    -- agent_id is the third parameter of analytics.usage, the fifth of collector.logs
    local logs = "https://analytics.test/v1/analytics/saas/logs?agentId=" .. WS2 .. "&limit=5"
    local p1 = { from = "2026-10-29", to = "2026-11-27", agent_id = WS2 }
    local p2 = { agent_id = WS2, to = "2026-11-27", from = "2026-10-29" }
    for _ = 1, 2 do
      for _, s in ipairs({ pat, other }) do
        assert.equal(usage, s:prepare("analytics.usage", p1).url)
        assert.equal(logs, s:prepare("collector.logs", { limit = 5, agent_id = WS2 }).url)
        assert.equal(usage, s:prepare("analytics.usage", p2).url)
      end
    end
    -- a key made at run time is the same name
    local key = ("agent"):rep(1) .. "_id"
    assert.equal(logs, pat:prepare("collector.logs", { limit = 5, [key] = WS2 }).url)
    refused("validation", nil, "does not take 'agent_idx'", pat:prepare("collector.logs", { [key .. "x"] = WS2 }))
    other:close()
    pat:close()
  end)

  it("joins base URLs without doubled slashes", function()
    assert.equal("https://saas.test/api/v1/cockpit/scope", vk:prepare("cockpit.scope").url)
    assert.equal("https://gw.test/v1/models", vk:prepare("gateway.models").url)
    assert.equal("https://analytics.test/v1/analytics/health", vk:prepare("collector.health").url)
  end)

  it("percent-encodes path parameters so they cannot change the route", function()
    local cases = {
      ["../../api/v1/pats"] = "..%2F..%2Fapi%2Fv1%2Fpats",
      ["a?admin=true"] = "a%3Fadmin%3Dtrue",
      ["a#frag"] = "a%23frag",
      ["a b%2F"] = "a%20b%252F",
      ["é"] = "%C3%A9",
    }
    for raw, encoded in pairs(cases) do
      local req = assert(vk:prepare("collector.request_log", { request_id = raw }))
      assert.equal("https://analytics.test/v1/analytics/request-logs/" .. encoded, req.url)
    end
    refused("validation", nil, "must not be \"%.\" or \"%.%.\"",
      vk:prepare("collector.request_log", { request_id = ".." }))
    refused("validation", nil, "must not be", vk:prepare("collector.request_log", { request_id = "." }))
    refused("validation", nil, "must not be empty", vk:prepare("collector.request_log", { request_id = "" }))
    refused("validation", nil, "UUID", state(PAT, { workspace_id = WS }):prepare("pats.get", { id = "../workspaces" }))
  end)

  it("encodes query values by RFC 3986 in catalog order, whatever the table order", function()
    local pat = state(PAT, { workspace_id = WS })
    for _ = 1, 20 do
      local req = pat:prepare("agents.list", { search = "a&b=c d+é", status = "active", page = 1 })
      assert.equal("https://saas.test/api/v1/agents?page=1&status=active&search=a%26b%3Dc%20d%2B%C3%A9", req.url)
    end
  end)

  it("builds long URLs", function()
    local long = string.rep("x", 120)
    local req = vk:prepare("collector.request_log", { request_id = long })
    assert.equal(#"https://analytics.test/v1/analytics/request-logs/" + 120, #req.url)
  end)
end)

describe("context resolution", function()
  local scope_top = {
    degraded = false,
    workspace = { id = WS, name = "Acme" },
    virtual_key = { id = "vk_row_1", label = "bot", prefix = "vk-agent-a3f8" },
    entity = { type = "agent", id = "agent-1", name = "Bot", department = "Support", department_id = WS2 },
  }

  it("needs cockpit.scope before a workspace route when only a virtual key is known", function()
    local vk = state(VK)
    assert.is_true(vk:needs_scope(1000))
    local req, why = vk:prepare("collector.usage", {}, 1000)
    assert.is_false(req)
    assert.equal("scope", why)
    -- Cockpit and gateway calls need no workspace
    assert.is_table(vk:prepare("cockpit.usage_summary", {}, 1000))
    assert.is_table(vk:prepare("gateway.models", {}, 1000))
  end)

  it("accepts the top-level envelope and adds X-Workspace-Id where the family needs it", function()
    local vk = state(VK)
    local ctx = assert(vk:accept_scope(scope_top, 1000))
    assert.same({ workspace_id = WS, virtual_key_id = "vk_row_1", entity_id = "agent-1", entity_type = "agent",
      department_id = WS2, expires_at = 1300 }, ctx)
    local req = assert(vk:prepare("collector.usage", {}, 1001))
    assert.equal(WS, req.headers["X-Workspace-Id"])
    assert.is_nil(vk:prepare("cockpit.scope", {}, 1001).headers["X-Workspace-Id"])
    assert.is_nil(vk:prepare("gateway.models", {}, 1001).headers["X-Workspace-Id"])
  end)

  it("accepts the {data = {...}} envelope and drops JSON null", function()
    local null = function() end -- stands for cjson.null: any non-string is absent
    local vk = state(VK)
    local ctx = assert(vk:accept_scope({ data = { workspace = { id = WS }, virtual_key = { id = 42 },
      entity = { id = "m-1", type = "member", department_id = null } } }, 1000))
    assert.equal(WS, ctx.workspace_id)
    assert.equal("42", ctx.virtual_key_id)
    assert.is_nil(ctx.department_id)
    ctx = assert(state(VK):accept_scope({ workspace = { id = WS }, entity = null }, 1000))
    assert.is_nil(ctx.entity_id)
  end)

  it("refuses a scope answer without a usable workspace id, keeping the old context", function()
    local vk = state(VK)
    local _, err = vk:accept_scope({ data = {} }, 1000)
    assert.equal("validation", err.kind)
    assert.matches("no workspace.id", err.message)
    _, err = vk:accept_scope({ workspace = { id = "ws-1" } }, 1000)
    assert.matches("UUID", err.message)
    assert.is_table(vk:accept_scope(scope_top, 1000))
    _, err = vk:accept_scope({ workspace = { id = WS2 }, virtual_key = { id = "a\nb" } }, 1001)
    assert.matches("LF", err.message)
    assert.equal(WS, vk:context(1001).workspace_id)
  end)

  -- The scope answer comes from the server: a workspace id with terminal escape bytes
  -- is refused, and the message quotes it with its control bytes shown as '?', never raw.
  it("quotes a scope answer's bad workspace id without its control bytes", function()
    local _, err = state(VK):accept_scope({ workspace = { id = "\27]0;owned\7\27[2J" .. WS } }, 1000)
    assert.equal("validation", err.kind)
    assert.equal("workspace.id", err.field)
    assert.equal('workspace.id must be a UUID such as 123e4567-e89b-12d3-a456-426614174000, got "?]0;owned??[2J'
      .. WS:sub(1, 26) .. '..."', err.message)
  end)

  it("keeps the context for its TTL, then needs scope again", function()
    local vk = state(VK, { scope_ttl = 60 })
    vk:accept_scope(scope_top, 1000)
    assert.is_false(vk:needs_scope(1059))
    assert.is_table(vk:prepare("collector.usage", {}, 1059))
    assert.is_true(vk:needs_scope(1060))
    assert.is_false((vk:prepare("collector.usage", {}, 1060)))
    assert.is_nil(vk:context(1060))
  end)

  it("can be invalidated (after a 401)", function()
    local vk = state(VK)
    vk:accept_scope(scope_top, 1000)
    vk:invalidate_scope()
    assert.is_true(vk:needs_scope(1001))
  end)

  it("is skipped when workspace_id is given", function()
    local vk = state(VK, { workspace_id = WS })
    assert.is_false(vk:needs_scope(1000))
    assert.equal(WS, vk:prepare("collector.usage", {}, 1000).headers["X-Workspace-Id"])
  end)

  -- prepare takes the header's string from the state's cache: the configured id, else
  -- the last accepted context's (src/lua/state_prepare.c, push_header_value)
  it("sends the configured workspace_id even after a scope answer names another", function()
    local vk = state(VK, { workspace_id = WS })
    assert(vk:accept_scope({ workspace = { id = WS2 } }, 1000))
    assert.equal(WS2, vk:context(1001).workspace_id)
    assert.equal(WS, vk:prepare("collector.usage", {}, 1001).headers["X-Workspace-Id"])
  end)

  it("sends the workspace of the last accepted scope answer", function()
    local vk = state(VK)
    assert(vk:accept_scope({ workspace = { id = WS } }, 1000))
    assert.equal(WS, vk:prepare("collector.usage", {}, 1001).headers["X-Workspace-Id"])
    assert(vk:accept_scope({ workspace = { id = WS2 } }, 1002))
    assert.equal(WS2, vk:prepare("collector.usage", {}, 1003).headers["X-Workspace-Id"])
  end)

  it("applies only to virtual keys", function()
    assert.is_false(state(jwt.make('{"exp":4102444800}'), { workspace_id = WS }):needs_scope(1000))
  end)
end)

describe("state lifecycle", function()
  it("closes idempotently and never shows the token", function()
    local s = state(VK)
    assert.equal("alephant.state<virtual_key vk-ag…3f8a>", tostring(s))
    s:close()
    s:close()
    assert.equal("alephant.state<closed>", tostring(s))
    assert.has_error(function() s:prepare("cockpit.scope") end, "alephant: the client is closed")
    collectgarbage()
  end)

  -- under LuaJIT prepare is a Lua function around the C one (src/lua/state_prepare_lua.c)
  it("raises the closed state at the line that called prepare", function()
    local s = state(VK)
    s:close()
    local line
    local ok, msg = pcall(function()
      line = debug.getinfo(1, "l").currentline + 1
      local req = s:prepare("cockpit.scope")
      return req
    end)
    assert.is_false(ok)
    assert.equal("spec/catalog/prepare_spec.lua:" .. line .. ": alephant: the client is closed", msg)
  end)

  -- LuaJIT: bad arguments raise from the caller's line too, numbered as for a method
  -- (not from inside the generated function, "alephant.state.prepare:3:")
  it("raises a bad argument at the line that called prepare, numbered from the method's first", function()
    local s, line = state(VK), nil
    local function raised(f)
      local ok, msg = pcall(f)
      assert.is_false(ok)
      return msg
    end
    -- each call on one line with the line it reads
    local at = "spec/catalog/prepare_spec.lua:"
    local sc = "cockpit.scope"
    local msg = raised(function() line = debug.getinfo(1, "l").currentline; local r = s:prepare(sc, "x") return r end)
    assert.equal(at .. line .. ": bad argument #2 to 'prepare' (table expected, got string)", msg)
    msg = raised(function() line = debug.getinfo(1, "l").currentline; local r = s:prepare({}); return r end)
    assert.equal(at .. line .. ": bad argument #1 to 'prepare' (string expected, got table)", msg)
    local nan = 0 / 0
    msg = raised(function() line = debug.getinfo(1, "l").currentline; local r = s:prepare(sc, nil, nan) return r end)
    assert.equal(at .. line .. ": bad argument #3 to 'prepare' (a time in seconds expected)", msg)
    assert.is_table(s:prepare("cockpit.scope", nil, 1e9)) -- and a good call after them
    s:close()
  end)

  it("refuses an expired JWT at prepare time", function()
    local s = state(jwt.make('{"exp":2000}'), { workspace_id = WS })
    assert.is_table(s:prepare("workspaces.list", {}, 2060))
    local req, err = s:prepare("workspaces.list", {}, 2061)
    assert.is_nil(req)
    assert.equal("auth", err.kind)
    -- the same instants as floats (Lua 5.4 reads an integer clock on its own path)
    assert.is_table(s:prepare("workspaces.list", {}, 2060.0))
    assert.is_table(s:prepare("workspaces.list", {}, 2060.5))
    req, err = s:prepare("workspaces.list", {}, 2061.0)
    assert.is_nil(req)
    assert.equal("auth", err.kind)
  end)
end)

describe("catalog introspection", function()
  it("describes every entry with its parameters", function()
    local byname = {}
    for _, e in ipairs(core.endpoints()) do byname[e.name] = e end
    local usage = byname["analytics.usage"]
    assert.equal("GET", usage.method)
    assert.equal("saas", usage.api)
    assert.equal("/api/v1/analytics/usage", usage.path)
    assert.same({ "jwt", "pat" }, usage.kinds)
    assert.equal("required", usage.workspace)
    assert.same({ name = "from", wire = "dateFrom", ["in"] = "query", type = "date", required = false },
      usage.params[1])
    assert.equal(1, usage.params[3].group)
    assert.same({ 1, 7, 30 }, byname["agents.analytics"].params[2].values)
    assert.equal("page", byname["virtual_keys.list"].paging)
    assert.equal("offset", byname["cockpit.recent_requests"].paging)
    assert.is_true(byname["gateway.chat"].open_body)
    assert.is_false(byname["gateway.chat"].idempotent)
    for _, e in ipairs(core.endpoints()) do
      assert.matches("^[a-z_]+%.[a-z_0-9]+$", e.name)
      assert.is_string(e.summary)
    end
  end)
end)

describe("prepare: the clock argument", function()
  local pat = state(PAT, { workspace_id = WS })

  it("refuses a clock that is not a time in seconds (NaN, infinite, past 2^62) instead of casting it", function()
    for _, now in ipairs({ 0 / 0, math.huge, -math.huge, 2 ^ 63 }) do
      local ok, msg = pcall(pat.prepare, pat, "analytics.overview", nil, now)
      assert.is_false(ok)
      assert.matches("bad argument #4 to '[^']+' %(a time in seconds expected%)", msg)
    end
    assert.is_table(pat:prepare("analytics.overview", nil, 1e9))
  end)
end)
