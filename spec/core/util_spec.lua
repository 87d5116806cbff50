-- alephant.util: the one deep copy (metatables kept), the one sorted key list and the
-- one shortest round-trip number text, and their callers: raw query strings, gateway
-- tracking headers (runs and steps: spec/gateway/run_copies_spec.lua).
local alephant = require "alephant"
local core = require "alephant.core"
local util = require "alephant.util"
local request = require "alephant.request"
local tracking = require "alephant.gateway.tracking"

describe("alephant.util", function()
  it("copies deeply and keeps metatables, so an empty array stays an array", function()
    local src = { list = alephant.array(), nested = { a = { 1, 2 } }, n = 3 }
    local out = util.copy(src)
    assert.same(src, out)
    assert.are_not.equal(src.nested.a, out.nested.a)
    assert.equal(core.array_mt, getmetatable(out.list))
    assert.equal('{"list":[],"n":3,"nested":{"a":[1,2]}}', core.json_encode(out))
    assert.equal("x", util.copy("x"))
  end)

  it("sorts keys of any type by their text and keeps them as they are", function()
    assert.same({ 10, 2, "a", "b" }, util.sorted_keys({ b = 1, a = 1, [2] = 1, [10] = 1 }))
  end)

  it("writes numbers as their shortest round-trip text", function()
    for v, want in pairs({ [0.1] = "0.1", [3] = "3", [1 / 3] = "0.3333333333333333", [2 ^ 53] = "9007199254740992",
      [-2.5] = "-2.5", [1e300] = "1e+300" }) do
      assert.equal(want, util.number_text(v))
      assert.equal(v, tonumber(util.number_text(v)))
    end
    assert.equal("3", util.number_text(3.0))
    assert.is_nil(util.number_text(0 / 0))
    assert.is_nil(util.number_text(math.huge))
  end)
end)

describe("numbers in a raw query and in tracking headers", function()
  it("are the shortest round-trip text", function()
    local pairs_out = assert(request.query_pairs({ rate = 0.1, n = 3.0, big = 2 ^ 60, third = 1 / 3 }))
    assert.same({ { "big", "1152921504606846976" }, { "n", "3" }, { "rate", "0.1" },
      { "third", "0.3333333333333333" } }, pairs_out)
    local _, err = request.query_pairs({ x = 0 / 0 })
    assert.equal("query x must be a finite number", err.message)
    local h = assert(tracking.headers{ properties = { rate = 0.1 }, cache = { semantic_threshold = 0.3 } })
    assert.equal("0.1", h["alephant-property-rate"])
    assert.equal("0.3", h["Alephant-Cache-Semantic-Threshold"])
  end)
end)

describe("tracking's messages", function()
  it("show a caller's key by the core's display rule, cut short", function()
    local _, err = tracking.headers{ ["agent\27]0;x\7é"] = 1 }
    local known = table.concat(tracking.names, ", ")
    assert.equal('"agent\\x1B]0;x\\x07é" is not a tracking option (known: ' .. known .. ")", err.message)
    _, err = tracking.headers{ [string.rep("k", 100)] = 1 }
    assert.matches('^"' .. string.rep("k", 64) .. '%.%.%." is not a tracking option', err.message)
  end)
end)
