-- Fails when a route of the public API reference (docs/api-notes.md) with a known path has
-- no catalog entry. spec/fixtures/reference_routes.txt lists those routes, one per line.
local core = require "alephant.core"

-- Routes the SDK deliberately does not expose, with the reason (docs/api-notes.md).
local excluded = {
  ["GET /api/v1/auth/oauth/google/callback"] = "browser OAuth callback, not for SDKs",
  ["POST /v1/log/request"] = "Collector ingest: the reference says never to call it from SDKs",
  ["ANY /x402/{}/{}"] = "x402 paid-agent routes bypass virtual-key auth",
  ["GET /health"] = "gateway liveness probe outside /v1",
  ["GET /healthz/ready"] = "gateway readiness probe outside /v1",
}

local function read(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return text
end

-- "GET /api/v1/pats/{id}" -> "GET /api/v1/pats/{}" so placeholder names do not matter.
local function normal(method, path)
  return method .. " " .. path:gsub("{[^}]*}", "{}")
end

local function catalog_routes()
  local out = {}
  for _, e in ipairs(core.endpoints()) do
    -- gateway paths are relative to gateway_url, which ends in /v1
    local path = e.api == "gateway" and "/v1" .. e.path or e.path
    out[normal(e.method, path)] = e.name
  end
  return out
end

describe("catalog against the reference", function()
  local fixture = assert(read("spec/fixtures/reference_routes.txt"))
  local fixture_routes = {}
  for line in fixture:gmatch("[^\n]+") do fixture_routes[#fixture_routes + 1] = line end

  it("has an entry for every reference route with a known path", function()
    local have = catalog_routes()
    local missing = {}
    for _, route in ipairs(fixture_routes) do
      if not have[route] and not excluded[route] then missing[#missing + 1] = route end
    end
    assert.same({}, missing)
    assert.is_true(#fixture_routes > 50)
  end)

  it("excludes only routes the reference has", function()
    local known = {}
    for _, route in ipairs(fixture_routes) do known[route] = true end
    for route in pairs(excluded) do assert.is_true(known[route], route) end
  end)
end)
