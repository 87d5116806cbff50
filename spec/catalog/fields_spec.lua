-- The catalog's newer fields against the emulator: each is sent under its wire name
-- (read back from the emulator's inspection records and its own views), each invalid
-- value is refused before sending, and the emulator refuses the same values on its own
-- (sent with client:request, past the SDK's checks). The call option `extra` too.
local alephant = require "alephant"
local emulator = require "spec.support.emulator"
local check = require "spec.support.assert"

describe("catalog fields #integration", function()
  local emu = emulator.session()
  local MK = emu.ids.openai

  local function last_body(path, method)
    local r = emu:requests({ path = path, method = method })
    return alephant.core.json_decode(r[#r].body)
  end

  -- refused on `field` before anything was sent
  local function refused(field, data, err)
    check.refused("validation", field, nil, data, err)
    assert.equal(0, #emu:requests(), "nothing may be sent")
  end

  describe("virtual keys", function()
    local future = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + 30 * 86400)

    it("sends allowed_models, blocked_models, rate_limit_rph, expires_at under their wire names", function()
      local c = emu:client("pat_write")
      local key, err = c.virtual_keys:create{ label = "fields", master_key_id = MK,
        allowed_models = { "openai/gpt-4o-mini" }, blocked_models = {}, rate_limit_rph = 900, expires_at = future }
      assert.is_table(key, tostring(err))
      local body = last_body("/api/v1/virtual%-keys$", "POST")
      assert.same({ "openai/gpt-4o-mini" }, body.allowedModels)
      assert.equal(alephant.core.array_mt, getmetatable(body.blockedModels)) -- [] stays an array
      assert.equal(0, #body.blockedModels)
      assert.equal(900, body.rateLimitRph)
      assert.equal(future, body.expiresAt)
      -- the emulator took them: its view of the key says so
      assert.same({ "openai/gpt-4o-mini" }, key.allowedModels)
      assert.equal(900, key.rateLimitRph)
      assert.equal(future, key.expiresAt)
    end)

    it("updates status, blocked models and clears the expiry with alephant.null", function()
      local c = emu:client("pat_write")
      local key = assert(c.virtual_keys:create{ label = "upd", master_key_id = MK, expires_at = future })
      local upd, err = c.virtual_keys:update{ id = key.id, status = "disabled", blocked_models = { "openai/gpt-4o" },
        expires_at = alephant.null }
      assert.is_table(upd, tostring(err))
      local r = emu:requests({ path = "/api/v1/virtual%-keys/", method = "PATCH" })[1]
      assert.matches('"expiresAt":null', r.body)
      assert.equal("disabled", upd.status)
      assert.same({ "openai/gpt-4o" }, upd.blockedModels)
      assert.is_nil(upd.expiresAt) -- null in an object is an absent key
    end)

    it("refuses invalid values before sending", function()
      local c = emu:client("pat_write")
      refused("allowed_models", c.virtual_keys:create{ label = "x", master_key_id = MK, allowed_models = "gpt" })
      refused("allowed_models", c.virtual_keys:create{ label = "x", master_key_id = MK, allowed_models = { 1 } })
      refused("blocked_models", c.virtual_keys:create{ label = "x", master_key_id = MK, blocked_models = { "" } })
      refused("blocked_models", c.virtual_keys:create{ label = "x", master_key_id = MK,
        blocked_models = { a = "x" } })
      refused("rate_limit_rph", c.virtual_keys:create{ label = "x", master_key_id = MK, rate_limit_rph = 0 })
      refused("rate_limit_rph", c.virtual_keys:create{ label = "x", master_key_id = MK, rate_limit_rph = 1.5 })
      refused("expires_at", c.virtual_keys:create{ label = "x", master_key_id = MK, expires_at = "2026-12-01" })
      refused("status", c.virtual_keys:update{ id = MK, status = "revoked" })
      refused("label", c.virtual_keys:create{ label = alephant.null, master_key_id = MK })
    end)

    it("the emulator refuses the same values on its own", function()
      local c = emu:client("pat_write")
      for _, bad in ipairs({ { blockedModels = "x" }, { allowedModels = { 1 } }, { rateLimitRph = 0 },
        { expiresAt = "soon" } }) do
        bad.label, bad.masterKeyId = "raw", MK
        local data, err = c:request("POST", "/api/v1/virtual-keys", { body = bad })
        assert.is_nil(data)
        assert.equal(400, err.status, tostring(err))
      end
      local key = assert(c.virtual_keys:create{ label = "raw-status", master_key_id = MK })
      local _, err = c:request("PATCH", "/api/v1/virtual-keys/" .. key.id, { body = { status = "paused" } })
      assert.equal(400, err.status)
    end)
  end)

  describe("agents, PATs, logs, sparklines, images", function()
    it("sends an agent's about", function()
      local c = emu:client("pat_write")
      local agent, err = c.agents:create{ name = "with-about", about = "Answers tickets" }
      assert.is_table(agent, tostring(err))
      assert.equal("Answers tickets", last_body("/api/v1/agents$", "POST").about)
      assert.equal("Answers tickets", agent.about)
      emu:reset()
      refused("about", c.agents:create{ name = "x", about = string.rep("a", 2001) })
    end)

    it("creates and updates a PAT that never expires (expires_at = alephant.null)", function()
      local c = emu:client("jwt")
      local pat, err = c.pats:create{ name = "forever", scopes = { "read" }, expires_at = alephant.null }
      assert.is_table(pat, tostring(err))
      assert.matches('"expires_at":null', emu:requests({ path = "/api/v1/pats$", method = "POST" })[1].body)
      assert.is_nil(pat.expires_at)
      local upd = assert(c.pats:update{ id = pat.id, expires_at = alephant.null })
      assert.is_nil(upd.expires_at)
      emu:reset()
      refused("expires_at", c.pats:create{ name = "x", scopes = { "read" }, expires_at = true })
    end)

    it("pages collector.logs with page/page_size (pageSize on the wire)", function()
      local c = emu:client("pat_read")
      local today = os.date("!%Y-%m-%d")
      local from = os.date("!%Y-%m-%d", os.time() - 6 * 86400)
      local p1, err = c.collector:logs{ from = from, to = today, page = 1, page_size = 2 }
      assert.is_table(p1, tostring(err))
      local p2 = assert(c.collector:logs{ from = from, to = today, page = 2, page_size = 2 })
      local by_offset = assert(c.collector:logs{ from = from, to = today, offset = 2, limit = 2 })
      assert.same(by_offset.data or by_offset, p2.data or p2)
      assert.equal(2, #(p2.data or p2))
      local r = emu:requests("/v1/analytics/saas/logs")[1]
      assert.equal("1", r.args.page)
      assert.equal("2", r.args.pageSize)
      emu:reset()
      refused("page_size", c.collector:logs{ from = from, to = today, page_size = 201 })
      refused("page", c.collector:logs{ from = from, to = today, page = 1, offset = 0 })
      refused("page_size", c.collector:logs{ from = from, to = today, page_size = 5, limit = 5 })
    end)

    it("checks sparkline metrics against their enum", function()
      local c = emu:client("pat_read")
      local data, err = c.analytics:sparklines{ metrics = "spend,requests" }
      assert.is_table(data, tostring(err))
      assert.is_table(data.spend)
      assert.is_nil(data.latency)
      assert.equal("spend,requests", emu:requests("/api/v1/analytics/sparklines")[1].args.metrics)
      assert(c.analytics:sparklines{ metrics = "all" })
      emu:reset()
      for _, bad in ipairs({ "spend,bogus", "all,spend", "spend,,requests", "spend,spend", "", "spend," }) do
        refused("metrics", c.analytics:sparklines{ metrics = bad })
      end
      -- the emulator's own check
      local _, rerr = c:request("GET", "/api/v1/analytics/sparklines", { query = { metrics = "bogus" } })
      assert.equal(400, rerr.status)
    end)

    it("requires a prompt for gateway.images", function()
      local c = emu:client("vk_agent")
      refused("prompt", c.gateway:images{ model = "openai/gpt-4o-mini" })
      local img, err = c.gateway:images{ prompt = "a lighthouse", n = 2 }
      assert.is_table(img, tostring(err))
      assert.equal(2, #img.data)
      assert.equal("a lighthouse", last_body("/v1/images/generations").prompt)
      local _, rerr = c:request("POST", "/images/generations", { body = { model = "openai/gpt-4o-mini" } })
      assert.equal(400, rerr.status)
    end)
  end)

  describe("the call option extra", function()
    it("adds body fields verbatim", function()
      local c = emu:client("pat_write")
      local key = assert(c.virtual_keys:create({ label = "extra", master_key_id = MK },
        { extra = { budgetCents = 1234, expiryPreset = "30d" } }))
      local body = last_body("/api/v1/virtual%-keys$", "POST")
      assert.equal(1234, body.budgetCents)
      assert.equal("30d", body.expiryPreset)
      assert.equal(1234, key.budgetCents) -- the emulator took the verbatim field
    end)

    it("adds query fields to a GET, encoded", function()
      local c = emu:client("pat_read")
      assert(c.agents:list({ page_size = 2 }, { extra = { sort = "name", x = "a b&c" } }))
      local r = emu:requests("/api/v1/agents")[1]
      assert.equal("name", r.args.sort)
      assert.equal("a b&c", r.args.x)
      assert.equal("2", r.args.pageSize)
    end)

    it("gives a POST without parameters a body", function()
      local c = emu:client("pat_write")
      local key = assert(c.virtual_keys:create{ label = "rev", master_key_id = MK })
      assert(c.virtual_keys:revoke({ id = key.id }, { extra = { reason = "rotated" } }))
      local r = emu:requests({ path = "/revoke$", method = "POST" })[1]
      assert.equal("application/json", r.headers["content-type"])
      assert.equal("rotated", alephant.core.json_decode(r.body).reason)
    end)

    it("refuses names the endpoint already has, and bad values, before sending", function()
      local c = emu:client("pat_write")
      refused("rateLimitRpm", c.virtual_keys:create({ label = "x", master_key_id = MK },
        { extra = { rateLimitRpm = 5 } }))
      refused("label", c.virtual_keys:create({ label = "x", master_key_id = MK }, { extra = { label = "y" } }))
      refused("extra", c.agents:list({}, { extra = { ["a\nb"] = "x" } }))
      refused("x", c.agents:list({}, { extra = { x = { y = 1 } } }))
      assert.has_error(function() c.agents:list({}, { extra = "x" }) end)
    end)
  end)
end)
