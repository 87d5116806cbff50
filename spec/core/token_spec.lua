local core = require "alephant.core"
local jwt = require "spec.support.jwt"
local fixtures = require "spec.support.fixtures"

describe("alephant.core tokens", function()
  it("classifies tokens by the server's prefix rule", function()
    assert.same({ kind = "virtual_key" }, core.token_info("vk-agent-a3f8c2d1e4b7"))
    assert.same({ kind = "pat" }, core.token_info("pat_wsa3f8c2_" .. string.rep("e4", 32)))
    local info = core.token_info(jwt.make('{"sub":"u1","exp":1893456000}'))
    assert.equal("jwt", info.kind)
    assert.equal(1893456000, info.exp)
    assert.is_nil(core.token_info(jwt.make('{"sub":"u1"}')).exp)
  end)

  it("rejects anything else with a config error naming the accepted forms", function()
    for _, bad in ipairs({ "", "sk-live-123", "vk-", "pat_", "a.b", "a.b.c.d", "vk-a b",
      "eyJ!.eyJhIjoxfQ.c2ln", jwt.b64url("{}") .. "." .. jwt.b64url("not json") .. ".c2ln" }) do
      local info, err = core.token_info(bad)
      assert.is_nil(info, bad)
      assert.equal("config", err.kind)
      assert.equal("token", err.field)
    end
    local _, err = core.token_info("sk-live-123")
    assert.matches("vk%-", err.message)
    assert.matches("pat_", err.message)
    assert.matches("JWT", err.message)
    local _, missing = core.token_info(nil)
    assert.matches("ALEPHANT_TOKEN", missing.message)
    local _, typed = core.token_info(42)
    assert.equal("config", typed.kind)
  end)

  it("accepts JWTs past 4 KB up to 16 KB and calls longer tokens too long", function()
    local big = jwt.make('{"sub":"u1","pad":"' .. string.rep("x", 9000) .. '","exp":1893456000}')
    assert.is_true(#big > 12000 and #big <= 16384)
    local info, err = core.token_info(big)
    assert.is_nil(err)
    assert.equal("jwt", info.kind)
    assert.equal(1893456000, info.exp)
    local client = assert(require("alephant").new{ token = big })
    assert.equal("jwt", client:token_kind())
    client:close()
    local huge = jwt.make('{"pad":"' .. string.rep("x", 12500) .. '"}')
    assert.is_true(#huge > 16384)
    info, err = core.token_info(huge)
    assert.is_nil(info)
    assert.equal("config", err.kind)
    assert.matches("too long", err.message)
    assert.matches("16384", err.message)
    assert.not_matches("xxxx", err.message)
  end)

  it("refuses control characters in a token, without echoing it", function()
    local info, err = core.token_info("vk-secretvalue\r\nX-Evil: 1")
    assert.is_nil(info)
    assert.matches("CR", err.message)
    assert.not_matches("secretvalue", err.message)
  end)

  it("refuses a JWT past exp with 60 s of leeway", function()
    local token = jwt.make('{"exp":1893456000}')
    assert.is_true(core.check_fresh(token, 1893456060))
    local ok, err = core.check_fresh(token, 1893456061)
    assert.is_nil(ok)
    assert.equal("auth", err.kind)
    assert.matches("2030%-01%-01T00:00:00Z", err.message)
    -- a clock with a fraction counts whole seconds; one past any date is still past
    assert.is_true(core.check_fresh(token, 1893456060.9))
    assert.is_nil(core.check_fresh(token, math.huge))
    assert.is_nil(core.check_fresh(token, 2 ^ 63))
  end)

  it("redacts every secret the same way", function()
    assert.equal("vk-ab…3f8a", core.redact("vk-ab0123456789abcdef3f8a"))
    assert.equal("pat_ws…e4b7", core.redact("pat_wsa3f8c2_e4b7e4b7e4b7e4b7"))
    assert.equal("vk-…", core.redact("vk-short"))
    assert.equal("(none)", core.redact(nil))
  end)

  it("gives errors a one-line tostring", function()
    local _, err = core.token_info("nope\nnope")
    local line = tostring(err)
    assert.matches("^alephant config error: ", line)
    assert.not_matches("\n", line)
  end)
end)

describe("alephant.core route policy", function()
  local vk, pat = "vk-agent-a3f8c2d1e4b7aaaa", "pat_wsa3f8c2_e4b7e4b7e4b7e4b7"
  local jwt_token = jwt.make('{"exp":4102444800}')
  local ws = fixtures.WS

  it("describes each family", function()
    assert.same({ family = "cockpit", kinds = { "virtual_key" }, workspace = "never" },
      core.policy("saas", "/api/v1/cockpit/scope"))
    assert.same({ family = "jwt_only", kinds = { "jwt" }, workspace = "required" },
      core.policy("saas", "/api/v1/pats"))
    assert.same({ family = "jwt_only", kinds = { "jwt" }, workspace = "never" },
      core.policy("saas", "/api/v1/workspaces/{id}/stats"))
    assert.same({ family = "workspace", kinds = { "jwt", "pat" }, workspace = "required" },
      core.policy("saas", "/api/v1/virtual-keys"))
    assert.same({ family = "models", kinds = { "jwt", "pat", "virtual_key" }, workspace = "unless_virtual_key" },
      core.policy("saas", "/api/v1/models"))
    assert.same({ family = "analytics", kinds = { "jwt", "pat", "virtual_key" }, workspace = "required" },
      core.policy("analytics", "/v1/analytics/request-logs"))
    assert.same({ family = "public", kinds = {}, workspace = "never" },
      core.policy("analytics", "/v1/analytics/health"))
    assert.same({ family = "gateway", kinds = { "virtual_key" }, workspace = "never" },
      core.policy("gateway", "/chat/completions"))
  end)

  it("never sends X-Workspace-Id on Cockpit routes", function()
    local h, needs = core.auth_headers(vk, "saas", "/api/v1/cockpit/usage-summary", ws, "cockpit.usage_summary")
    assert.same({ Authorization = "Bearer " .. vk }, h)
    assert.is_false(needs)
  end)

  it("sends X-Workspace-Id for a PAT on workspace routes", function()
    local h = core.auth_headers(pat, "saas", "/api/v1/analytics/usage", ws)
    assert.same({ Authorization = "Bearer " .. pat, ["X-Workspace-Id"] = ws }, h)
  end)

  it("says when a virtual key must resolve its workspace first", function()
    local h, needs = core.auth_headers(vk, "analytics", "/v1/analytics/request-logs/{id}")
    assert.same({ Authorization = "Bearer " .. vk }, h)
    assert.is_true(needs)
  end)

  it("sends no token at all to public routes", function()
    assert.same({}, (core.auth_headers(vk, "saas", "/api/v1/cockpit/health")))
  end)

  it("refuses the wrong token kind before any request, naming the accepted kinds", function()
    local h, err = core.auth_headers(pat, "saas", "/api/v1/pats", ws, "pats.list")
    local _
    assert.is_nil(h)
    assert.equal("auth", err.kind)
    assert.equal("pats.list accepts only a JWT; this client has a personal access token (pat_...)", err.message)
    _, err = core.auth_headers(jwt_token, "saas", "/api/v1/cockpit/scope", ws, "cockpit.scope")
    assert.equal("auth", err.kind)
    assert.matches("accepts only a virtual key", err.message)
    _, err = core.auth_headers(vk, "saas", "/api/v1/agents", nil, "agents.list")
    assert.matches("accepts only a JWT or a personal access token", err.message)
    _, err = core.auth_headers(pat, "gateway", "/chat/completions", ws, "gateway.chat")
    assert.equal("auth", err.kind)
  end)

  it("asks for ALEPHANT_WORKSPACE_ID when a PAT has no workspace", function()
    local h, err = core.auth_headers(pat, "saas", "/api/v1/analytics/usage")
    assert.is_nil(h)
    assert.equal("config", err.kind)
    assert.matches("ALEPHANT_WORKSPACE_ID", err.message)
  end)

  it("refuses a workspace id that is not a UUID or holds control characters", function()
    local _, err = core.auth_headers(pat, "saas", "/api/v1/analytics/usage", "ws-1")
    assert.equal("config", err.kind)
    assert.equal("workspace_id", err.field)
    _, err = core.auth_headers(pat, "saas", "/api/v1/analytics/usage", ws:sub(1, 35) .. "\n")
    assert.matches("LF", err.message)
  end)
end)
