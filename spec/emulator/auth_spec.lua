-- Token kinds per route family, X-Workspace-Id, PAT scope and binding
-- (docs/api-notes.md#token-kinds-and-route-families).
local emulator = require("spec.support.emulator")

describe("emulator auth", function()
  local emu = emulator.session({ reset = false })
  local t, ids = emu.tokens, emu.ids

  local function call(method, path, token, ws, body, headers)
    local status, text, h, json = emu:request(method, path, { token = token, workspace = ws, body = body,
      headers = headers })
    assert.is_truthy(status, text)
    return status, json, h, text
  end

  local function saas_error(status, json, want_status, message)
    assert.equal(want_status, status)
    assert.is_table(json)
    assert.equal(want_status * 100, json.code)
    assert.equal(emulator.null, json.data)
    if message then assert.equal(message, json.message) end
  end

  describe("token kinds", function()
    it("uses the prefix rule vk- / pat_ / JWT", function()
      emu:reset()
      call("GET", "/api/v1/models", t.vk_agent)
      call("GET", "/api/v1/models", t.pat_read)
      call("GET", "/api/v1/models", t.jwt)
      local recs = emu:requests("/api/v1/models")
      assert.same({ "vk", "pat", "jwt" }, { recs[1].token_kind, recs[2].token_kind, recs[3].token_kind })
    end)

    it("401 without a token on every authenticated family", function()
      local s, j = call("GET", "/api/v1/agents", nil, ids.workspace_1)
      saas_error(s, j, 401, "Missing authorization token")
      s, j = call("GET", "/api/v1/cockpit/scope")
      saas_error(s, j, 401, "Missing or invalid virtual key")
      s, j = call("GET", "/v1/analytics/saas/usage", nil, ids.workspace_1)
      assert.equal(401, s)
      assert.equal(40100, j.code)
      s, j = call("GET", "/v1/models")
      assert.equal(401, s)
      assert.equal("invalid_api_key", j.error.code)
    end)

    it("accepts a lower-case bearer scheme", function()
      local s = call("GET", "/api/v1/cockpit/scope", nil, nil, nil, { Authorization = "bearer " .. t.vk_agent })
      assert.equal(200, s)
    end)
  end)

  describe("virtual keys", function()
    it("unknown, revoked, expired and disabled keys are 401 with one message", function()
      for _, tok in ipairs({ "vk-does-not-exist-0000000000", t.vk_revoked, t.vk_expired, t.vk_disabled }) do
        local s, j = call("GET", "/api/v1/cockpit/scope", tok)
        saas_error(s, j, 401, "Missing or invalid virtual key")
        s, j = call("POST", "/v1/chat/completions", tok, nil, { model = "gpt-4o-mini",
          messages = { { role = "user", content = "hi" } } })
        assert.equal(401, s)
        assert.same({ message = "Missing or invalid virtual key", type = "invalid_request_error",
          code = "invalid_api_key", param = emulator.null }, j.error)
      end
    end)
  end)

  describe("cockpit (VK only)", function()
    it("rejects PATs and JWTs with 401", function()
      for _, tok in ipairs({ t.pat_admin, t.jwt }) do
        local s, j = call("GET", "/api/v1/cockpit/usage-summary", tok, ids.workspace_1)
        saas_error(s, j, 401, "Missing or invalid virtual key")
      end
    end)

    it("health needs no auth", function()
      local s, j = call("GET", "/api/v1/cockpit/health")
      assert.equal(200, s)
      assert.equal("healthy", j.status)
    end)

    it("needs no X-Workspace-Id", function()
      local s = call("GET", "/api/v1/cockpit/scope", t.vk_agent)
      assert.equal(200, s)
    end)
  end)

  describe("workspace routes (JWT or PAT + X-Workspace-Id)", function()
    it("accepts a JWT and a PAT", function()
      assert.equal(200, (call("GET", "/api/v1/agents", t.jwt, ids.workspace_1)))
      assert.equal(200, (call("GET", "/api/v1/agents", t.pat_read, ids.workspace_1)))
    end)

    it("rejects a virtual key with 401", function()
      local s, j = call("GET", "/api/v1/analytics/overview", t.vk_agent, ids.workspace_1)
      saas_error(s, j, 401)
      assert.matches("Virtual keys are not accepted", j.message)
    end)

    it("400 when X-Workspace-Id is missing or not a UUID", function()
      local s, j = call("GET", "/api/v1/virtual-keys", t.pat_read)
      saas_error(s, j, 400, "X-Workspace-Id header is required")
      s, j = call("GET", "/api/v1/virtual-keys", t.jwt, "workspace-1")
      saas_error(s, j, 400, "X-Workspace-Id must be a UUID")
    end)

    it("403 when the PAT is bound to another workspace", function()
      local s, j = call("GET", "/api/v1/virtual-keys", t.pat_read, ids.workspace_2)
      saas_error(s, j, 403)
      assert.matches("different workspace", j.message)
      s = call("GET", "/api/v1/virtual-keys", t.pat_ws2, ids.workspace_2)
      assert.equal(200, s)
      s = call("GET", "/api/v1/virtual-keys", t.pat_ws2, ids.workspace_1)
      assert.equal(403, s)
    end)

    it("403 when the JWT user is not in the workspace", function()
      local s, j = call("GET", "/api/v1/agents", t.jwt_ws2, ids.workspace_1)
      saas_error(s, j, 403, "You do not have access to this workspace")
      assert.equal(200, (call("GET", "/api/v1/agents", t.jwt_ws2, ids.workspace_2)))
      s = call("GET", "/api/v1/agents", t.jwt, "00000000-0000-4000-8000-000000000000")
      assert.equal(403, s)
    end)

    it("PAT scopes: read for GET, write for POST/PATCH, admin for PUT /policies", function()
      local ws = ids.workspace_1
      local s, j = call("POST", "/api/v1/agents", t.pat_read, ws, { name = "x" })
      saas_error(s, j, 403, "Insufficient permissions. Required scope: write")
      s, j = call("POST", "/api/v1/virtual-keys/" .. ids.vk_unbound .. "/revoke", t.pat_read, ws)
      saas_error(s, j, 403, "Insufficient permissions. Required scope: write")
      s, j = call("PATCH", "/api/v1/virtual-keys/" .. ids.vk_unbound, t.pat_read, ws, { label = "x" })
      saas_error(s, j, 403, "Insufficient permissions. Required scope: write")
      local policy = { config = { amount = 10 } }
      s, j = call("PUT", "/api/v1/policies/budget-control", t.pat_write, ws, policy)
      saas_error(s, j, 403, "Insufficient permissions. Required scope: admin")
      s = call("PUT", "/api/v1/policies/budget-control", t.pat_admin, ws, policy)
      assert.equal(200, s)
      -- admin implies write and read
      s = call("PATCH", "/api/v1/virtual-keys/" .. ids.vk_unbound, t.pat_admin, ws, { label = "renamed" })
      assert.equal(200, s)
      assert.equal(200, (call("GET", "/api/v1/policies/budget-control", t.pat_read, ws)))
      -- a JWT has no scopes to check
      s = call("PUT", "/api/v1/policies/budget-control", t.jwt, ws, policy)
      assert.equal(200, s)
      emu:reset()
    end)

    it("revoked and expired PATs are 401 with their messages", function()
      local s, j = call("GET", "/api/v1/agents", t.pat_revoked, ids.workspace_1)
      saas_error(s, j, 401, "Token has been revoked")
      s, j = call("GET", "/api/v1/agents", t.pat_expired, ids.workspace_1)
      saas_error(s, j, 401, "Token has expired")
      s, j = call("GET", "/api/v1/agents", "pat_ws000000_" .. string.rep("0", 64), ids.workspace_1)
      saas_error(s, j, 401, "Authentication failed")
    end)

    it("expired and unknown JWTs are 401", function()
      local s, j = call("GET", "/api/v1/agents", t.jwt_expired, ids.workspace_1)
      saas_error(s, j, 401, "Token has expired")
      s, j = call("GET", "/api/v1/agents", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", ids.workspace_1)
      saas_error(s, j, 401, "Authentication failed")
    end)
  end)

  describe("JWT-only routes", function()
    local jwt_only = {
      { "GET", "/api/v1/pats" }, { "GET", "/api/v1/logs" }, { "GET", "/api/v1/workspaces" },
    }

    it("reject a PAT and a VK with 401 and accept a JWT", function()
      for _, r in ipairs(jwt_only) do
        local s, j = call(r[1], r[2], t.pat_admin, ids.workspace_1)
        saas_error(s, j, 401)
        s, j = call(r[1], r[2], t.vk_agent, ids.workspace_1)
        saas_error(s, j, 401)
        s = call(r[1], r[2], t.jwt, ids.workspace_1)
        assert.equal(200, s, r[2])
      end
      local _, j = call("GET", "/api/v1/pats", t.pat_admin, ids.workspace_1)
      assert.matches("PAT bearer tokens are rejected", j.message)
      local s
      s, j = call("GET", "/api/v1/workspaces/" .. ids.workspace_1 .. "/stats", t.pat_admin)
      saas_error(s, j, 401)
      assert.equal(200, (call("GET", "/api/v1/workspaces/" .. ids.workspace_1 .. "/stats", t.jwt)))
    end)

    it("/workspaces needs no X-Workspace-Id, /pats and /logs do", function()
      assert.equal(200, (call("GET", "/api/v1/workspaces", t.jwt)))
      local s, j = call("GET", "/api/v1/pats", t.jwt)
      saas_error(s, j, 400, "X-Workspace-Id header is required")
      s, j = call("GET", "/api/v1/logs", t.jwt)
      saas_error(s, j, 400, "X-Workspace-Id header is required")
    end)

    it("PAT management needs the owner or admin role", function()
      local s, j = call("GET", "/api/v1/pats", t.jwt_ws2, ids.workspace_2)
      saas_error(s, j, 403)
      assert.equal(200, (call("GET", "/api/v1/pats", t.jwt, ids.workspace_2)))
    end)
  end)

  describe("/api/v1/models", function()
    it("accepts every token kind", function()
      assert.equal(200, (call("GET", "/api/v1/models", t.vk_agent)))
      assert.equal(200, (call("GET", "/api/v1/models", t.pat_read)))
      assert.equal(200, (call("GET", "/api/v1/models", t.pat_read, ids.workspace_1)))
      assert.equal(200, (call("GET", "/api/v1/models", t.jwt)))
      assert.equal(403, (call("GET", "/api/v1/models", t.pat_read, ids.workspace_2)))
      assert.equal(401, (call("GET", "/api/v1/models", t.vk_revoked)))
    end)
  end)

  describe("Analytics API", function()
    local path = "/v1/analytics/saas/usage"

    it("accepts a JWT, a PAT and a VK, each with X-Workspace-Id", function()
      for _, tok in ipairs({ t.jwt, t.pat_read, t.vk_agent }) do
        local s, j = call("GET", path, tok, ids.workspace_1)
        assert.equal(200, s)
        assert.equal(0, j.code)
      end
    end)

    it("accepts the alephant_token cookie", function()
      local s, j = call("GET", path, nil, ids.workspace_1, nil, { Cookie = "theme=dark; alephant_token=" .. t.jwt })
      assert.equal(200, s)
      assert.equal(0, j.code)
    end)

    it("needs X-Workspace-Id (except health)", function()
      local s, j = call("GET", path, t.vk_agent)
      assert.equal(400, s)
      assert.same({ code = 40002, message = "X-Workspace-Id header is required", data = emulator.null }, j)
      s, j = call("GET", path, t.vk_agent, "not-a-uuid")
      assert.equal(400, s)
      assert.equal(40002, j.code)
      s = call("GET", "/v1/analytics/health")
      assert.equal(200, s)
    end)

    it("403 when the token's workspace differs", function()
      local s, j = call("GET", path, t.vk_agent, ids.workspace_2)
      assert.equal(403, s)
      assert.equal(40300, j.code)
      s = call("GET", path, t.pat_read, ids.workspace_2)
      assert.equal(403, s)
      s = call("GET", path, t.vk_ws2, ids.workspace_2)
      assert.equal(200, s)
    end)

    it("401 for invalid tokens with the envelope", function()
      local s, j = call("GET", path, t.vk_revoked, ids.workspace_1)
      assert.equal(401, s)
      assert.same({ code = 40100, message = "Missing or invalid virtual key", data = emulator.null }, j)
      s, j = call("GET", path, t.jwt_expired, ids.workspace_1)
      assert.equal(401, s)
      assert.equal("Token has expired", j.message)
    end)
  end)

  describe("gateway (VK only)", function()
    it("rejects PATs and JWTs in the OpenAI error shape", function()
      for _, tok in ipairs({ t.pat_admin, t.jwt }) do
        local s, j = call("GET", "/v1/models", tok)
        assert.equal(401, s)
        assert.equal("invalid_api_key", j.error.code)
        assert.equal("invalid_request_error", j.error.type)
      end
      assert.equal(200, (call("GET", "/v1/models", t.vk_unbound)))
    end)
  end)
end)
