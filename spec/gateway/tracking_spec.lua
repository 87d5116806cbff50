-- Tracking options become exactly these headers (as the emulator received them), never
-- body fields; every bad value is refused before anything is sent, naming the field.
local emulator = require "spec.support.emulator"
local support = require "spec.gateway.support"
local tracking = require "alephant.gateway.tracking"

local MODEL, messages = support.MODEL, support.messages

describe("gateway tracking headers #integration", function()
  local emu = emulator.session()
  local c
  lazy_setup(function() c = emu:client() end)

  -- Sends a chat with `options` and returns the tracking headers the emulator got.
  local function sent(options, opts)
    local params = { model = MODEL, messages = messages() }
    for k, v in pairs(options) do params[k] = v end
    local data, err, meta = c.gateway:chat(params, opts)
    assert.is_table(data, tostring(err))
    local r = support.only(emu, "/v1/chat/completions")
    local body = emulator.decode(r.body)
    for _, name in ipairs(tracking.names) do assert.is_nil(body[name], name .. " leaked into the body") end
    local h = support.tracking_headers(r)
    assert.equal(meta.request_id, h["x-request-id"])
    h["x-request-id"] = nil
    return h, meta, r
  end

  it("sends agent_id and run_id", function()
    assert.same({ ["alephant-agent-id"] = "agt_support_bot_8f3a", ["alephant-run-id"] = "run_ticket_8421" },
      sent{ agent_id = "agt_support_bot_8f3a", run_id = "run_ticket_8421" })
  end)

  it("sends a session, normalising its path to start with /", function()
    assert.same({ ["alephant-session-id"] = "sess_42", ["alephant-session-name"] = "Support chat",
      ["alephant-session-path"] = "/triage/refund" },
      sent{ session = { id = "sess_42", name = "Support chat", path = "triage/refund" } })
    emu:reset()
    assert.same({ ["alephant-session-id"] = "s", ["alephant-session-path"] = "/a" },
      sent{ session = { id = "s", path = "/a" } })
    emu:reset()
    assert.same({ ["alephant-session-id"] = "s" }, sent{ session = { id = "s" } })
  end)

  it("sends properties with strings, numbers and booleans as text", function()
    assert.same({
      ["alephant-property-tier"] = "gold", ["alephant-property-n"] = "3", ["alephant-property-ratio"] = "0.25",
      ["alephant-property-big"] = "9007199254740992", ["alephant-property-neg"] = "-7",
      ["alephant-property-float-int"] = "2", ["alephant-property-yes"] = "true", ["alephant-property-no"] = "false",
      ["alephant-property-cache-key"] = "k1", ["alephant-property-9lives"] = "ü",
    }, sent{ properties = { tier = "gold", n = 3, ratio = 0.25, big = 2 ^ 53, neg = -7, ["float-int"] = 2.0,
      yes = true, no = false, ["cache-key"] = "k1", ["9lives"] = "ü" } })
  end)

  it("sends the cache options", function()
    assert.same({ ["alephant-cache-enabled"] = "true", ["alephant-cache-read"] = "false",
      ["alephant-cache-save"] = "true", ["alephant-cache-bucket-max-size"] = "20", ["alephant-cache-seed"] = "-42",
      ["alephant-cache-ttl"] = "3600" },
      sent{ cache = { enabled = true, read = false, save = true, bucket_max_size = 20, seed = -42, ttl = 3600 } })
  end)

  it("sends omit_request and omit_response only when true", function()
    assert.same({ ["alephant-omit-request"] = "true", ["alephant-omit-response"] = "true" },
      sent{ omit_request = true, omit_response = true })
    emu:reset()
    assert.same({}, sent{ omit_request = false, omit_response = false })
  end)

  it("sends the caller's request_id, else a header from opts, else a new UUID v4", function()
    local _, meta = sent{ request_id = "trace-7f3a" }
    assert.equal("trace-7f3a", meta.request_id)
    emu:reset()
    _, meta = sent({}, { headers = { ["X-Request-Id"] = "from-headers" } })
    assert.equal("from-headers", meta.request_id)
    emu:reset()
    local _, meta1 = sent{}
    emu:reset()
    local _, meta2 = sent{}
    assert.matches("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x+$", meta1.request_id)
    assert.are_not.equal(meta1.request_id, meta2.request_id)
  end)

  it("keeps one request id across retries", function()
    local r = emu:client("vk_agent", { max_retries = 2 })
    local data, err, meta = r.gateway:chat({ model = MODEL, messages = messages(), request_id = "same-id" },
      { retry = true, headers = { ["X-Emulator-Fault"] = "502;count=2" } })
    assert.is_table(data, tostring(err))
    assert.equal(3, meta.attempts)
    for _, rec in ipairs(emu:requests("/v1/chat/completions")) do
      assert.equal("same-id", rec.headers["x-request-id"])
    end
  end)

  it("lets an option win over a header of the same name, case-insensitively", function()
    local h = sent({ agent_id = "from-option" }, { headers = { ["ALEPHANT-AGENT-ID"] = "from-headers",
      ["alephant-property-extra"] = "kept" } })
    assert.same({ ["alephant-agent-id"] = "from-option", ["alephant-property-extra"] = "kept" }, h)
  end)

  it("sends every option together", function()
    local h = sent{ agent_id = "a", run_id = "r", session = { id = "s", name = "n", path = "p" },
      properties = { k = "v" }, cache = { enabled = true }, omit_response = true, request_id = "rid" }
    assert.same({ ["alephant-agent-id"] = "a", ["alephant-run-id"] = "r", ["alephant-session-id"] = "s",
      ["alephant-session-name"] = "n", ["alephant-session-path"] = "/p", ["alephant-property-k"] = "v",
      ["alephant-cache-enabled"] = "true", ["alephant-omit-response"] = "true" }, h)
  end)

  it("sends the agent context: agent_name and every step field", function()
    assert.same({ ["alephant-agent-name"] = "Support Bot", ["alephant-step-id"] = "st_2",
      ["alephant-parent-step-id"] = "st_1", ["alephant-step-kind"] = "tool_call", ["alephant-step-source"] = "runtime",
      ["alephant-step-attempt"] = "2", ["alephant-step-input-hash"] = "h1", ["alephant-tool-call-id"] = "call_9",
      ["alephant-handoff-id"] = "ho_1", ["alephant-graph-node"] = "search", ["alephant-iteration"] = "4294967295",
      ["alephant-state-hash"] = "s1" },
      sent{ agent_name = "Support Bot", step = { id = "st_2", parent_id = "st_1", kind = "tool_call",
        source = "runtime", attempt = 2, input_hash = "h1", tool_call_id = "call_9", handoff_id = "ho_1",
        graph_node = "search", iteration = 4294967295, state_hash = "s1" } })
  end)

  it("sends the semantic cache options; the embeddings key never shows", function()
    local key = "emb-key-0123456789abcdefXYZ"
    local h, meta = sent{ cache = { control = "max-age=60", semantic_threshold = 0.85,
      embeddings_model = "openai/text-embedding-3-small", embeddings_key = key } }
    assert.equal("max-age=60", h["alephant-cache-control"])
    assert.equal("0.85", h["alephant-cache-semantic-threshold"])
    assert.equal("openai/text-embedding-3-small", h["alephant-embeddings-model"])
    -- the key went out (the emulator's log redacts it like a token)
    assert.equal("emb-k…fXYZ", h["alephant-embeddings-key"])
    assert.is_nil(tostring(meta):find(key, 1, true))
    local _, err = c.gateway:chat{ model = MODEL, messages = messages(), cache = { embeddings_key = key .. "\n" } }
    assert.equal("cache.embeddings_key", err.field)
    assert.is_nil(tostring(err):find(key, 1, true))
    assert.is_nil(err.message:find("0123456789", 1, true))
  end)

  it("sends prompt_id, and webhook only when true", function()
    assert.same({ ["alephant-prompt-id"] = "pr_7", ["x-alephant-webhook-enabled"] = "true" },
      sent{ prompt_id = "pr_7", webhook = true })
    emu:reset()
    assert.same({}, sent{ webhook = false })
  end)

  it("makes a session id for session = { id = \"auto\" }", function()
    local h = sent{ session = { id = "auto", name = "n" } }
    assert.matches("^sess_[%w_%-]+$", h["alephant-session-id"])
    assert.equal(29, #h["alephant-session-id"])
    emu:reset()
    assert.not_equal(h["alephant-session-id"], sent{ session = { id = "auto" } }["alephant-session-id"])
  end)

  it("takes the same options on embeddings, models and agent_events", function()
    assert(c.gateway:embeddings{ model = "openai/text-embedding-3-small", input = "hi", agent_id = "a1",
      properties = { step = 2 } })
    local r = support.only(emu, "/v1/embeddings")
    assert.equal("a1", r.headers["alephant-agent-id"])
    assert.equal("2", r.headers["alephant-property-step"])
    assert.is_nil(emulator.decode(r.body).agent_id)
    local models, err = c.gateway:models{ session = { id = "s-models" } }
    assert.is_table(models, tostring(err))
    assert.equal("s-models", support.only(emu, "/v1/models").headers["alephant-session-id"])
    assert(c.gateway:agent_events{ type = "run.started", run_id = "r9", session = { id = "s9" } })
    r = support.only(emu, "/v1/agent/events")
    assert.equal("r9", r.headers["alephant-run-id"])
    assert.equal("s9", r.headers["alephant-session-id"])
    assert.equal("r9", emulator.decode(r.body).run_id) -- an event field too
  end)

  describe("refuses before sending", function()
    local long = function(n) return ("a"):rep(n) end
    local cases = {
      { "agent_id", { agent_id = 5 }, "must be a string" },
      { "agent_id", { agent_id = "" }, "must not be empty" },
      { "agent_id", { agent_id = "agt\nX-Evil: 1" }, "LF" },
      { "agent_id", { agent_id = long(129) }, "at most 128 bytes" },
      { "agent_id", { agent_id = ("é"):rep(65) }, "at most 128 bytes" },
      { "agent_id", { agent_id = "\255\254" }, "UTF%-8" },
      { "run_id", { run_id = "r\r" }, "CR" },
      { "run_id", { run_id = long(129) }, "at most 128" },
      { "session", { session = "sess_1" }, "must be a table" },
      { "session", { session = { id = "s", ID = "x" } }, 'does not take "ID"' },
      { "session.id", { session = { name = "n" } }, "required with session.name" },
      { "session.id", { session = { path = "/p" } }, "required with session.name or session.path" },
      { "session.id", { session = { id = long(129) } }, "at most 128" },
      { "session.id", { session = { id = 12 } }, "must be a string" },
      { "session.name", { session = { id = "s", name = long(129) } }, "at most 128" },
      { "session.name", { session = { id = "s", name = "a\0b" } }, "NUL" },
      { "session.path", { session = { id = "s", path = long(257) } }, "at most 256" },
      { "session.path", { session = { id = "s", path = long(256) } }, "once it starts with /" },
      { "session.path", { session = { id = "s", path = "/a\tb" } }, "control character" },
      { "properties", { properties = "tier=gold" }, "must be a table" },
      { "properties", { properties = { Tier = "gold" } }, "must match" },
      { "properties", { properties = { ["-x"] = "1" } }, "must match" },
      { "properties", { properties = { ["a b"] = "1" } }, "must match" },
      { "properties", { properties = { [long(65)] = "1" } }, "at most 64" },
      { "properties", { properties = { "positional" } }, "keys must be strings" },
      { "properties.api_key", { properties = { api_key = "x" } }, "looks like a secret" },
      { "properties.openai-apikey", { properties = { ["openai-apikey"] = "x" } }, "looks like a secret" },
      { "properties.auth-token", { properties = { ["auth-token"] = "x" } }, "looks like a secret" },
      { "properties.db_password", { properties = { db_password = 1 } }, "looks like a secret" },
      { "properties.client_secret", { properties = { client_secret = "x" } }, "looks like a secret" },
      { "properties.aws_access_key", { properties = { aws_access_key = "x" } }, "looks like a secret" },
      { "properties.x", { properties = { x = {} } }, "string, number or boolean" },
      { "properties.x", { properties = { x = long(513) } }, "at most 512 bytes" },
      { "properties.x", { properties = { x = 0 / 0 } }, "finite" },
      { "properties.x", { properties = { x = math.huge } }, "finite" },
      { "properties.x", { properties = { x = "a\nb" } }, "LF" },
      { "cache", { cache = true }, "must be a table" },
      { "cache", { cache = { ttl_seconds = 5 } }, 'does not take "ttl_seconds"' },
      { "cache.enabled", { cache = { enabled = "yes" } }, "must be a boolean" },
      { "cache.read", { cache = { read = 1 } }, "must be a boolean" },
      { "cache.bucket_max_size", { cache = { bucket_max_size = 0 } }, "between 1 and 20" },
      { "cache.bucket_max_size", { cache = { bucket_max_size = 21 } }, "between 1 and 20" },
      { "cache.bucket_max_size", { cache = { bucket_max_size = 2.5 } }, "integer" },
      { "cache.seed", { cache = { seed = 1.5 } }, "integer" },
      { "cache.seed", { cache = { seed = "7" } }, "integer" },
      { "cache.ttl", { cache = { ttl = 0 } }, "between 1 and" },
      { "cache.ttl", { cache = { ttl = 0.5 } }, "integer" },
      { "omit_request", { omit_request = "true" }, "must be a boolean" },
      { "omit_response", { omit_response = 1 }, "must be a boolean" },
      { "request_id", { request_id = "" }, "must not be empty" },
      { "request_id", { request_id = "id\n" }, "LF" },
      { "request_id", { request_id = long(129) }, "at most 128" },
      { "agent_name", { agent_name = long(129) }, "at most 128" },
      { "agent_name", { agent_name = "a\rb" }, "CR" },
      { "step", { step = "st_1" }, "must be a table {id, parent_id, kind" },
      { "step", { step = { parentId = "x" } }, 'does not take "parentId"' },
      { "step.id", { step = { id = 1 } }, "must be a string" },
      { "step.parent_id", { step = { parent_id = "" } }, "must not be empty" },
      { "step.kind", { step = { kind = "tool\n" } }, "LF" },
      { "step.attempt", { step = { attempt = 1.5 } }, "integer" },
      { "step.attempt", { step = { attempt = -1 } }, "between 0 and 4294967295" },
      { "step.iteration", { step = { iteration = 4294967296 } }, "between 0 and 4294967295" },
      { "step.iteration", { step = { iteration = "3" } }, "integer" },
      { "step.state_hash", { step = { state_hash = long(129) } }, "at most 128" },
      { "step.graph_node", { step = { graph_node = "\255" } }, "UTF%-8" },
      { "cache.control", { cache = { control = long(129) } }, "at most 128" },
      { "cache.semantic_threshold", { cache = { semantic_threshold = 1.5 } }, "between 0 and 1" },
      { "cache.semantic_threshold", { cache = { semantic_threshold = "0.8" } }, "between 0 and 1" },
      { "cache.semantic_threshold", { cache = { semantic_threshold = 0 / 0 } }, "between 0 and 1" },
      { "cache.embeddings_model", { cache = { embeddings_model = 3 } }, "must be a string" },
      { "cache.embeddings_key", { cache = { embeddings_key = "" } }, "must not be empty" },
      { "prompt_id", { prompt_id = long(129) }, "at most 128" },
      { "webhook", { webhook = "yes" }, "must be a boolean" },
      { "agentId", { agentId = "a" }, "use agent_id" },
      { "runId", { runId = "r" }, "use run_id" },
      { "agent", { agent = "a" }, "use agent_id" },
      { "session_id", { session_id = "s" }, "use session = { id = ... }" },
      { "sessionId", { sessionId = "s" }, "use session = { id = ... }" },
      { "step_id", { step_id = "s" }, "use step = { id = ... }" },
      { "parent_step_id", { parent_step_id = "s" }, "use step = { parent_id = ... }" },
      { "Alephant-Agent-Id", { ["Alephant-Agent-Id"] = "a" }, "use agent_id" },
      { "x-request-id", { ["x-request-id"] = "a" }, "use request_id" },
      { "AGENT_NAME", { AGENT_NAME = "a" }, "use agent_name" },
      { "promptId", { promptId = "a" }, "use prompt_id" },
      { "omitRequest", { omitRequest = true }, "use omit_request" },
    }
    for _, case in ipairs(cases) do
      local field, options, message = case[1], case[2], case[3]
      it(field .. ": " .. message, function()
        local params = { model = MODEL, messages = messages() }
        for k, v in pairs(options) do params[k] = v end
        local data, err = c.gateway:chat(params)
        assert.is_nil(data)
        assert.equal("validation", err.kind)
        assert.equal(field, err.field)
        assert.matches(message, err.message)
        assert.equal("gateway.chat", err.endpoint)
        assert.not_matches("\n", tostring(err))
        assert.equal(0, #emu:requests())
      end)
    end
  end)
end)

describe("gateway tracking options on every path #integration", function()
  local ctx = support.on_emulator()

  local OPTIONS = { agent_id = "agt_p", run_id = "run_p", session = { id = "s_p" }, step = { id = "st_p" },
    properties = { tier = "gold" } }
  local WANT = { ["alephant-agent-id"] = "agt_p", ["alephant-run-id"] = "run_p", ["alephant-session-id"] = "s_p",
    ["alephant-step-id"] = "st_p", ["alephant-property-tier"] = "gold" }

  local function params(extra)
    local p = { model = MODEL, messages = messages() }
    for k, v in pairs(OPTIONS) do p[k] = v end
    for k, v in pairs(extra or {}) do p[k] = v end
    return p
  end

  -- The tracking headers and body of the only chat request, without the request id.
  local function received()
    local r = support.only(ctx.emu, "/v1/chat/completions")
    local h = support.tracking_headers(r)
    h["x-request-id"] = nil
    local body = emulator.decode(r.body)
    for _, name in ipairs(tracking.names) do assert.is_nil(body[name], name .. " leaked into the body") end
    return h, r
  end

  it("client:call sends them as headers, exactly as the group method does", function()
    local data, err, meta = ctx.c:call("gateway.chat", params({ request_id = "rid-call" }))
    assert.is_table(data, tostring(err))
    assert.equal("rid-call", meta.request_id)
    local h, r = received()
    assert.same(WANT, h)
    assert.equal("rid-call", r.headers["x-request-id"])
    ctx.emu:reset()
    assert(ctx.c.gateway:chat(params()))
    assert.same(WANT, (received()))
  end)

  it("client:prepare puts them in the request's headers, never in its body", function()
    local req = assert(ctx.c:prepare("gateway.chat", params()))
    local lower = {}
    for k, v in pairs(req.headers) do lower[k:lower()] = v end
    for k, v in pairs(WANT) do assert.equal(v, lower[k]) end
    for _, name in ipairs(tracking.names) do assert.is_nil(req.body[name]) end
    assert.equal(MODEL, req.body.model)
    assert.equal(0, #ctx.emu:requests())
  end)

  it("a run's methods and streams send the run's options merged with the call's", function()
    local run = assert(ctx.c:run{ agent_id = "agt_p", run_id = "run_p", session = { id = "s_p" } })
    assert(run:chat{ model = MODEL, messages = messages(), step = { id = "st_p" }, properties = { tier = "gold" } })
    assert.same(WANT, (received()))
    ctx.emu:reset()
    local reply = assert(run:responses_stream{ model = MODEL, input = "x", step = { id = "st_2" } }:collect())
    assert.equal("completed", reply.status)
    local r = support.only(ctx.emu, "/v1/responses")
    assert.equal("run_p", r.headers["alephant-run-id"])
    assert.equal("st_2", r.headers["alephant-step-id"])
  end)

  it("refuses a misspelled option on every path, with a hint, sending nothing", function()
    local bad = { model = MODEL, messages = messages(), agentId = "a" }
    local function check(err)
      assert.equal("validation", err.kind)
      assert.equal("agentId", err.field)
      assert.matches("use agent_id", err.message)
    end
    local _, err = ctx.c:call("gateway.chat", bad)
    check(err)
    _, err = ctx.c.gateway:chat(bad)
    check(err)
    _, err = ctx.c:prepare("gateway.chat", bad)
    check(err)
    _, err = ctx.c.gateway:embeddings{ model = "openai/text-embedding-3-small", input = "x", runId = "r" }
    assert.equal("runId", err.field)
    local run = assert(ctx.c:run{ agent_id = "a" })
    _, err = run:chat(bad)
    check(err)
    _, err = ctx.c.gateway:chat_stream(bad):collect()
    check(err)
    assert.equal(0, #ctx.emu:requests())
  end)

  it("lets agent events keep their own step fields (they are event fields there)", function()
    assert(ctx.c:call("gateway.agent_events", { type = "step.started", step_id = "st_1", step_kind = "tool_call",
      agent_id = "agt_e", agent_name = "Bot" }))
    local r = support.only(ctx.emu, "/v1/agent/events")
    local body = emulator.decode(r.body)
    assert.equal("st_1", body.step_id)
    assert.equal("agt_e", body.agent_id)
    assert.equal("Bot", body.agent_name)
    assert.equal("Bot", r.headers["alephant-agent-name"])
  end)
end)

describe("alephant.gateway.tracking", function()
  it("maps options to headers without a client", function()
    assert.same({ ["Alephant-Agent-Id"] = "a", ["alephant-session-id"] = "s", ["alephant-session-path"] = "/p",
      ["Alephant-Cache-Ttl"] = "60", ["x-request-id"] = "r" },
      (tracking.headers{ agent_id = "a", session = { id = "s", path = "p" }, cache = { ttl = 60 }, request_id = "r" }))
    assert.same({}, (tracking.headers(nil)))
    -- the key pattern allows "_"; nginx in front of a gateway drops such header names
    -- unless underscores_in_headers is on (the emulator's nginx does), see the README
    assert.same({ ["alephant-property-cache_key"] = "k" }, (tracking.headers{ properties = { cache_key = "k" } }))
  end)

  it("refuses unknown option names, with a hint for near misses", function()
    local _, err = tracking.headers{ agentId = "a" }
    assert.equal("validation", err.kind)
    assert.matches('"agentId" is not a tracking option; did you mean agent_id%?', err.message)
    _, err = tracking.headers{ colour = "a" }
    assert.matches('"colour" is not a tracking option %(known: agent_id,', err.message)
  end)

  it("maps every option through one table", function()
    local seen = {}
    for _, o in ipairs(tracking.options) do
      for _, f in ipairs(o.fields or { o }) do
        if f.header then
          assert.is_nil(seen[f.header:lower()], f.header)
          seen[f.header:lower()] = true
        end
      end
    end
    assert.is_true(seen["alephant-embeddings-key"])
    assert.same({ "alephant-embeddings-key" }, tracking.secret_headers)
    assert.equal("agent_id", tracking.near_miss("AgentID"))
    assert.is_nil(tracking.near_miss("temperature"))
    assert.is_nil(tracking.near_miss("cache_control")) -- a body field elsewhere: never taken for cache.control
  end)

  it("merges a call's options over a run's, tables key by key", function()
    local merged = tracking.merge(
      { agent_id = "a", run_id = "r", session = { id = "s", name = "n" }, properties = { x = 1, y = 2 } },
      { run_id = "r2", session = { path = "/p" }, properties = { y = 3 } })
    assert.same({ agent_id = "a", run_id = "r2", session = { id = "s", name = "n", path = "/p" },
      properties = { x = 1, y = 3 } }, merged)
  end)
end)
