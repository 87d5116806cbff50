-- The emulator on its own (LuaSocket, no SDK): the fields past the first catalog are
-- validated and stored under their wire names, and images require a prompt.
local emulator = require "spec.support.emulator"

describe("emulator: newer fields", function()
  local emu = emulator.session()
  local t, ws = emu.tokens, emu.ids.workspace_1

  local function saas(method, path, body, token)
    local status, _, _, json = emu:request(method, path, { token = token or t.pat_admin, workspace = ws, body = body })
    return status, json
  end

  it("stores a virtual key's model lists, hourly limit and expiry, and updates its status", function()
    local expires = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + 86400)
    local status, json = saas("POST", "/api/v1/virtual-keys", { label = "emu", masterKeyId = emu.ids.openai,
      allowedModels = { "openai/gpt-4o" }, blockedModels = { "openai/gpt-4o-mini" }, rateLimitRph = 300,
      expiresAt = expires })
    assert.equal(201, status)
    local key = json.data
    assert.same({ "openai/gpt-4o" }, key.allowedModels)
    assert.same({ "openai/gpt-4o-mini" }, key.blockedModels)
    assert.equal(300, key.rateLimitRph)
    assert.equal(expires, key.expiresAt)
    status = saas("PATCH", "/api/v1/virtual-keys/" .. key.id, { status = "disabled", expiresAt = "null" })
    assert.equal(400, status) -- "null" is a string, not JSON null
    local _, text = emu:request("PATCH", "/api/v1/virtual-keys/" .. key.id, { token = t.pat_admin, workspace = ws,
      body = '{"status":"disabled","expiresAt":null}', headers = { ["content-type"] = "application/json" } })
    assert.matches('"status":"disabled"', text)
    assert.not_matches('"expiresAt":"', text)
  end)

  for _, bad in ipairs({ { blockedModels = "x" }, { allowedModels = { 1 } }, { allowedModels = { "" } },
    { rateLimitRph = 0 }, { rateLimitRph = 1.5 }, { expiresAt = "2026-12-01" } }) do
    local name = next(bad)
    it("refuses a bad " .. name, function()
      bad.label, bad.masterKeyId = "bad", emu.ids.openai
      local status = saas("POST", "/api/v1/virtual-keys", bad)
      assert.equal(400, status)
    end)
  end

  it("stores an agent's about and refuses one that is too long", function()
    local status, json = saas("POST", "/api/v1/agents", { name = "emu-about", about = "Reviews code" })
    assert.equal(201, status)
    assert.equal("Reviews code", json.data.about)
    assert.equal(400, (saas("POST", "/api/v1/agents", { name = "x", about = string.rep("a", 2001) })))
  end)

  it("requires a prompt for images", function()
    local status, _, _, json = emu:request("POST", "/v1/images/generations", { token = t.vk_agent,
      body = { prompt = "a lighthouse", n = 2 } })
    assert.equal(200, status)
    assert.equal(2, #json.data)
    status, _, _, json = emu:request("POST", "/v1/images/generations", { token = t.vk_agent, body = { n = 1 } })
    assert.equal(400, status)
    assert.equal("prompt", json.error.param)
  end)
end)
