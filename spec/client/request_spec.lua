-- client:request: raw requests against the emulator, each route family and each
-- refusal before sending (asserted on the emulator's own inspection records).
local emulator = require "spec.support.emulator"
local shared_refused = require("spec.support.assert").refused

describe("client:request #integration", function()
  local emu = emulator.session({ client = { max_retries = 2 } })
  local WS = emu.ids.workspace_1

  -- a refusal (spec/support/assert.lua) with nothing in the emulator's request log
  local function refused(kind, field, pattern, data, err)
    shared_refused(kind, field, pattern, data, err)
    assert.equal(0, #emu:requests(), "nothing may be sent")
    return err
  end

  describe("SaaS family", function()
    it("sends a PAT with X-Workspace-Id and unwraps data, pagination in meta", function()
      local c = emu:client("pat_read")
      local list, err, meta = c:request("GET", "/api/v1/agents", { query = { page = 1, pageSize = 2 } })
      assert.is_table(list, tostring(err))
      assert.equal(2, #list)
      assert.equal("GET /api/v1/agents", meta.endpoint)
      assert.is_table(meta.pagination)
      local r = emu:requests("/api/v1/agents")[1]
      assert.equal(WS, r.headers["x-workspace-id"])
      assert.equal("1", r.args.page)
      assert.equal("2", r.args.pageSize)
      -- the same list through the catalog: one payload, two ways
      local same = assert(c.agents:list{ page = 1, page_size = 2 })
      assert.same(same, list)
    end)

    it("reaches a route the catalog lacks (GET one agent) with the wire names as given", function()
      local c = emu:client("pat_read")
      local agents = assert(c.agents:list{ page_size = 1 })
      local r = emu:requests("/api/v1/agents")
      assert.equal(1, #r)
      local data, err, meta = c:request("GET", "/api/v1/agents/" .. agents[1].id .. "/analytics",
        { query = { days = 7 } })
      assert.is_table(data, tostring(err))
      assert.equal(200, meta.status)
      assert.equal("7", emu:requests("/analytics$")[1].args.days)
    end)

    it("refuses a PAT on the JWT-only /api/v1/pats before sending", function()
      refused("auth", "token", "^GET /api/v1/pats accepts only a JWT; this client has a personal access token",
        emu:client("pat_read"):request("GET", "/api/v1/pats"))
    end)

    it("refuses a virtual key on workspace routes before sending", function()
      refused("auth", "token", "^GET /api/v1/agents accepts only a JWT or a personal access token %(pat_%.%.%.%); "
        .. "this client has a virtual key %(vk%-%.%.%.%)$", emu:client("vk_agent"):request("GET", "/api/v1/agents"))
    end)

    it("calls JWT-only routes with a JWT (no X-Workspace-Id on /api/v1/workspaces)", function()
      local c = emu:client("jwt")
      local list, err = c:request("GET", "/api/v1/workspaces")
      assert.is_table(list, tostring(err))
      assert.is_nil(emu:requests("/api/v1/workspaces")[1].headers["x-workspace-id"])
      assert(c:request("GET", "/api/v1/pats"))
      assert.equal(WS, emu:requests("/api/v1/pats")[1].headers["x-workspace-id"])
    end)

    it("sends a JSON body and does not retry a POST on 503", function()
      local c = emu:client("pat_write")
      emu:arm({ fault = "status=503", count = 1, path = "/api/v1/agents" })
      local data, err = c:request("POST", "/api/v1/agents", { body = { name = "raw-agent" } })
      assert.is_nil(data)
      assert.equal(503, err.status)
      assert.equal(1, err.attempts)
      assert.matches("not idempotent", err.message)
      emu:disarm()
      local created, cerr = c:request("POST", "/api/v1/agents", { body = { name = "raw-agent", about = "x" } })
      assert.is_table(created, tostring(cerr))
      local r = emu:requests({ path = "/api/v1/agents", method = "POST" })
      assert.equal(2, #r)
      assert.equal("application/json", r[2].headers["content-type"])
      assert.matches('"about"', r[2].body)
    end)

    it("retries a GET on 503", function()
      local c = emu:client("pat_read", { sleep = function() end })
      emu:arm({ fault = "status=503", count = 1, path = "/api/v1/members" })
      local data, err, meta = c:request("GET", "/api/v1/members")
      assert.is_table(data, tostring(err))
      assert.equal(2, meta.attempts)
    end)

    it("checks dateFrom/dateTo on /api/v1/analytics/* before sending", function()
      local c = emu:client("pat_read")
      refused("validation", "dateFrom", '^dateFrom: month 13 does not exist in "2026%-13%-01"$',
        c:request("GET", "/api/v1/analytics/costs", { query = { dateFrom = "2026-13-01", dateTo = "2026-11-02" } }))
      refused("validation", nil, "^dateTo is required when dateFrom is given: pass both or neither$",
        c:request("GET", "/api/v1/analytics/costs", { query = { dateFrom = "2026-11-01" } }))
      refused("validation", nil, "^dateFrom %(2026%-11%-05%) must not be after dateTo %(2026%-11%-01%)$",
        c:request("GET", "/api/v1/analytics/costs", { query = { dateFrom = "2026-11-05", dateTo = "2026-11-01" } }))
      local today = os.date("!%Y-%m-%d")
      local data, err = c:request("GET", "/api/v1/analytics/costs", { query = { dateFrom = today, dateTo = today } })
      assert.is_table(data, tostring(err))
      local r = emu:requests("/api/v1/analytics/costs")[1]
      assert.equal(today, r.args.dateFrom)
    end)
  end)

  describe("Cockpit and public routes", function()
    it("sends a virtual key to Cockpit without X-Workspace-Id and unwraps its envelope", function()
      local scope, err = emu:client("vk_agent"):request("GET", "/api/v1/cockpit/scope")
      assert.is_table(scope, tostring(err))
      assert.equal(WS, scope.workspace.id)
      assert.is_nil(emu:requests("/api/v1/cockpit/scope")[1].headers["x-workspace-id"])
    end)

    it("sends no token to a health route", function()
      local data, err = emu:client("vk_agent"):request("GET", "/api/v1/cockpit/health")
      assert.is_table(data, tostring(err))
      assert.is_nil(emu:requests("/api/v1/cockpit/health")[1].headers.authorization)
    end)
  end)

  describe("Analytics API family", function()
    it("resolves a virtual key's workspace through cockpit.scope once", function()
      local c = emu:client("vk_agent")
      local today = os.date("!%Y-%m-%d")
      for _ = 1, 2 do
        local data, err = c:request("GET", "/v1/analytics/saas/usage", { query = { dateFrom = today, dateTo = today } })
        assert.is_table(data, tostring(err))
      end
      assert.equal(1, #emu:requests("/api/v1/cockpit/scope"))
      for _, r in ipairs(emu:requests("/v1/analytics/saas/usage")) do
        assert.equal(WS, r.headers["x-workspace-id"])
      end
    end)

    it("turns a {code ~= 0} envelope into an error", function()
      local c = emu:client("pat_read")
      local data, err = c:request("GET", "/v1/analytics/saas/models", { query = { dateFrom = "2026-11-01" } })
      assert.is_nil(data)
      assert.equal("http", err.kind)
      assert.is_number(err.code)
      assert.equal("GET /v1/analytics/saas/models", err.endpoint)
    end)
  end)

  describe("gateway family", function()
    it("sends a virtual key and returns the OpenAI body as it is", function()
      local c = emu:client("vk_agent")
      local data, err = c:request("POST", "/chat/completions",
        { body = { model = "openai/gpt-4o-mini", messages = { { role = "user", content = "hi" } } } })
      assert.is_table(data, tostring(err))
      assert.is_table(data.choices)
      local r = emu:requests("/v1/chat/completions")[1]
      assert.matches("^Bearer vk%-", r.headers.authorization)
      assert.is_nil(r.headers["x-workspace-id"])
    end)

    it("takes root routes (/health) from the gateway's origin, without a token", function()
      local c = emu:client("vk_agent")
      local data, err, meta = c:request("GET", "/health")
      assert.equal(true, data, tostring(err))
      assert.equal(200, meta.status)
      local r = emu:requests("^/health$")[1]
      assert.is_nil(r.headers.authorization)
    end)

    it("refuses a PAT on the gateway before sending", function()
      refused("auth", "token", "^POST /chat/completions accepts only a virtual key %(vk%-%.%.%.%); this client has "
        .. "a personal access token", emu:client("pat_read"):request("POST", "/chat/completions", { body = {} }))
    end)

    it("goes to the API named by opts.api", function()
      local c = emu:client("vk_agent")
      local data, err = c:request("GET", "/models", { api = "gateway" })
      assert.is_table(data, tostring(err))
      assert.equal(1, #emu:requests("^/v1/models$"))
    end)
  end)

  describe("refusals before sending", function()
    local c
    before_each(function() c = emu:client("pat_read") end)

    local segment = '^path has an empty, "%." or "%.%." segment: a path may not leave the route it names$'
    local function bad_byte(at)
      return "^path holds a byte that is not allowed in a URL path at byte " .. at .. " %(spaces, control "
        .. "characters, '\\' and non%-ASCII must be percent%-encoded%)$"
    end
    for _, case in ipairs({
      { "relative", "api/v1/agents", '^path must start with "/" %(e%.g%. /api/v1/agents%)$' },
      { "dot-dot", "/api/v1/agents/../pats", segment },
      { "encoded dot-dot", "/api/v1/agents/%2e%2E/pats", segment },
      { "dot", "/api/v1/./agents", segment },
      { "empty segment", "/api/v1//agents", segment },
      { "encoded slash", "/api/v1/agents/a%2Fb",
        "^path holds an encoded separator or control byte at byte 17: one segment may not reach into another$" },
      { "CR LF", "/api/v1/agents\r\nX-Evil: 1", bad_byte(15) },
      { "NUL", "/api/v1/agents\0", bad_byte(15) },
      { "space", "/api/v1/agents list", bad_byte(15) },
      { "query in the path", "/api/v1/agents?page=2",
        "^path holds '%?' at byte 15: pass query parameters in opts%.query, not in the path$" },
      { "fragment", "/api/v1/agents#x",
        "^path holds '#' at byte 15: pass query parameters in opts%.query, not in the path$" },
      { "bad escape", "/api/v1/agents/%zz", "^path holds an invalid percent escape at byte 16$" },
      { "non-ASCII", "/api/v1/agénts", bad_byte(11) },
    }) do
      it("a path with " .. case[1], function()
        refused("validation", "path", case[3], c:request("GET", case[2]))
      end)
    end

    it("an unknown or lower-case method", function()
      local methods = "^method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS %(upper case%)$"
      refused("validation", "method", methods, c:request("get", "/api/v1/agents"))
      refused("validation", "method", methods, c:request("TRACE", "/api/v1/agents"))
    end)

    it("a body on GET", function()
      refused("validation", "body", "^GET /api/v1/agents: GET takes no body$",
        c:request("GET", "/api/v1/agents", { body = {} }))
    end)

    it("a header value with CR/LF, a reserved header", function()
      refused("validation", "headers", "^header X%-A must not contain CR %(byte 0x0D at position 2%): it would end up "
        .. "in an HTTP header$", c:request("GET", "/api/v1/agents", { headers = { ["X-A"] = "a\r\nb: c" } }))
      refused("validation", "headers", "^GET /api/v1/agents: headers: Authorization is set by the client, not by a "
        .. "call$", c:request("GET", "/api/v1/agents", { headers = { Authorization = "x" } }))
    end)

    it("a query value that is not text, a number or a boolean", function()
      refused("validation", "page", "^query page: a table value must be a non%-empty array$",
        c:request("GET", "/api/v1/agents", { query = { page = { a = 1 } } }))
      refused("validation", "x", "^query x must be a finite number$",
        c:request("GET", "/api/v1/agents", { query = { x = 0 / 0 } }))
      refused("validation", "x", "^query x must be a string, number, boolean or an array of them, got function$",
        c:request("GET", "/api/v1/agents", { query = { x = print } }))
    end)

    it("more query parameters than a request carries", function()
      local q = {}
      for i = 1, 65 do q["p" .. i] = i end
      refused("validation", "query", "^at most 64 query parameters$", c:request("GET", "/api/v1/agents", { query = q }))
    end)

    it("raises on programmer errors", function()
      assert.has_error(function() c:request(1, "/x") end, "alephant: request: method must be a string, got number")
      assert.has_error(function() c:request("GET", "/x", { qeury = {} }) end,
        "alephant: unknown request option 'qeury' (known: query, body, headers, api, deadline, timeout, retry)")
      assert.has_error(function() c:request("GET", "/x", { api = "other" }) end,
        'alephant: request option \'api\' must be "saas", "analytics" or "gateway", got "other"')
      assert.has_error(function() c:request("GET", "/x", "opts") end,
        "alephant: request options must be a table, got string")
      assert.equal(0, #emu:requests())
    end)
  end)

  it("encodes query values and repeats array values in order", function()
    local c = emu:client("pat_read")
    local req_data, err = c:request("GET", "/api/v1/agents", { query = { search = "a b&c", status = { "active" },
      page = 1.0 } })
    assert.is_table(req_data, tostring(err))
    local r = emu:requests("/api/v1/agents")[1]
    assert.equal("a b&c", r.args.search)
    assert.equal("1", r.args.page)
  end)

  it("never puts the token in an error or meta", function()
    local c = emu:client("pat_read")
    local _, err = c:request("GET", "/api/v1/pats")
    assert.falsy(tostring(err):find(emu.tokens.pat_read, 1, true))
  end)
end)
