-- Gateway calls against the emulator: answers, meta, and the OpenAI error shape
-- mapped onto err.
local emulator = require "spec.support.emulator"
local support = require "spec.gateway.support"

local MODEL, messages = support.MODEL, support.messages

describe("gateway calls #integration", function()
  local emu = emulator.session()

  it("chat returns the completion as it is, with the request id in meta", function()
    local c = emu:client()
    local reply, err, meta = c.gateway:chat{ model = MODEL, messages = messages("ping"), max_tokens = 50 }
    assert.is_table(reply, tostring(err))
    assert.equal("chat.completion", reply.object)
    assert.equal("Emulated reply to: ping", reply.choices[1].message.content)
    assert.equal(200, meta.status)
    local r = support.only(emu, "/v1/chat/completions")
    assert.equal(meta.request_id, r.headers["x-request-id"])
    assert.matches("^Bearer vk%-ag", r.headers.authorization)
    assert.is_nil(r.headers["x-workspace-id"])
    assert.same({ model = MODEL, messages = messages("ping"), max_tokens = 50 }, emulator.decode(r.body))
  end)

  it("embeddings and models", function()
    local c = emu:client()
    local emb, err = c.gateway:embeddings{ model = "openai/text-embedding-3-small", input = { "a", "b" },
      dimensions = 4 }
    assert.is_table(emb, tostring(err))
    assert.equal(2, #emb.data)
    assert.equal(4, #emb.data[1].embedding)
    local models
    models, err = c.gateway:models()
    assert.is_table(models, tostring(err))
    assert.equal("list", models.object)
    assert.is_true(#models.data > 0)
    assert.equal("GET", support.only(emu, "/v1/models").method)
  end)

  it("maps a 401 with a revoked key", function()
    local c = emu:client("vk_revoked")
    local data, err = c.gateway:chat{ model = MODEL, messages = messages() }
    assert.is_nil(data)
    assert.equal("auth", err.kind)
    assert.equal(401, err.status)
    assert.equal("invalid_api_key", err.code)
    assert.equal("invalid_request_error", err.type)
    assert.equal("gateway.chat", err.endpoint)
    assert.equal(support.only(emu, "/v1/chat/completions").headers["x-request-id"], err.request_id)
    assert.is_table(err.body.error)
    local line = tostring(err)
    assert.matches("check the token", line)
    assert.not_matches("\n", line)
    assert.not_matches(emu.tokens.vk_revoked, line, 1, true)
  end)

  it("maps a 400 in the OpenAI shape: type and param, no code", function()
    local c = emu:client()
    local data, err = c.gateway:chat{ model = "acme/none", messages = messages() }
    assert.is_nil(data)
    assert.equal("http", err.kind)
    assert.equal(400, err.status)
    assert.equal("invalid_request_error", err.type)
    assert.equal("model", err.param)
    assert.is_nil(err.code)
    assert.matches("Unsupported model: acme/none", err.message)
    data, err = c.gateway:chat{ model = MODEL, messages = require("alephant").array{} }
    assert.is_nil(data)
    assert.equal(400, err.status)
    assert.equal("messages", err.param)
  end)

  it("maps 429 and 503 faults, and does not retry a POST", function()
    local c = emu:client("vk_agent", { max_retries = 2 })
    local _, err = c.gateway:chat({ model = MODEL, messages = messages() },
      { headers = { ["X-Emulator-Fault"] = "429;retry-after=1" } })
    assert.equal(429, err.status)
    assert.equal("rate_limit_error", err.type)
    assert.equal("rate_limit_exceeded", err.code)
    assert.matches("not retried", err.message)
    _, err = c.gateway:chat({ model = MODEL, messages = messages() }, { headers = { ["X-Emulator-Fault"] = "503" } })
    assert.equal(503, err.status)
    assert.equal("server_error", err.type)
    assert.equal("service_unavailable", err.code)
    assert.equal(2, #emu:requests("/v1/chat/completions"))
  end)

  it("puts the request id on a network error too", function()
    local c = emu:client()
    local _, err = c.gateway:chat({ model = MODEL, messages = messages(), request_id = "net-1" },
      { headers = { ["X-Emulator-Fault"] = "reset" } })
    assert.equal("network", err.kind)
    assert.equal("net-1", err.request_id)
  end)

  it("raises on programmer errors", function()
    local c = emu:client()
    assert.has_error(function() c.gateway:chat("hello") end,
      "alephant: gateway.chat: params must be a table, got string")
    assert.has_error(function() c.gateway:chat({ model = MODEL, messages = messages() }, 5) end,
      "alephant: gateway.chat: call options must be a table, got number")
    assert.has_error(function() c.gateway:chat_stream({ model = MODEL }, { wait = 1 }) end)
    assert.equal(0, #emu:requests())
  end)
end)
