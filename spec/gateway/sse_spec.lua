-- The event-stream parser on its own: real byte strings, split at every position.
local sse = require "alephant.gateway.sse"

-- Feeds `text` in pieces cut at the given positions and collects every event.
local function parse(text, cuts, finish)
  local p = sse.parser()
  local out, names = {}, {}
  local function drain()
    while true do
      local data, name = p:next()
      if data == nil then break end
      out[#out + 1] = data
      names[#names + 1] = name or false
    end
  end
  local pos = 1
  for _, cut in ipairs(cuts or {}) do
    assert(p:feed(text:sub(pos, cut)))
    drain()
    pos = cut + 1
  end
  assert(p:feed(text:sub(pos)))
  drain()
  if finish ~= false then
    assert(p:finish())
    drain()
  end
  return out, names, p
end

-- Every way of cutting `text` in two and in three pieces gives the same events.
local function same_at_every_split(text, want)
  local got = parse(text)
  assert.same(want, got)
  for i = 0, #text do
    assert.same(want, (parse(text, { i })), "split at " .. i)
  end
  for i = 1, #text, 3 do
    for j = i, #text, 5 do
      assert.same(want, (parse(text, { i, j })), "split at " .. i .. "," .. j)
    end
  end
end

describe("sse parser", function()
  it("reads data events and [DONE]", function()
    same_at_every_split('data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n', { '{"a":1}', '{"b":2}', "[DONE]" })
  end)

  it("treats LF, CRLF and CR alike, also when a CRLF is cut in two", function()
    local want = { "one", "two", "three" }
    same_at_every_split("data: one\r\n\r\ndata: two\r\rdata: three\n\n", want)
    same_at_every_split("data: one\r\n\r\ndata: two\r\n\r\ndata: three\r\n\r\n", want)
  end)

  it("joins multi-line data with newlines and strips one space after the colon", function()
    same_at_every_split("data: first\ndata:second\ndata:  third\n\n", { "first\nsecond\n third" })
  end)

  it("skips comments and keep-alives, ignores id, retry and unknown fields", function()
    same_at_every_split(": keep-alive\n\n:\nid: 7\nretry: 1000\nfoo: bar\ndata: x\n: inside\n\n", { "x" })
  end)

  it("keeps the event name and drops empty events", function()
    local out, names = parse("event: ping\n\nevent: delta\ndata: 1\n\ndata: 2\n\n")
    assert.same({ "1", "2" }, out)
    assert.same({ "delta", false }, names)
  end)

  it("a field without a colon is a field with an empty value", function()
    assert.same({ "" }, (parse("data\n\n")))
    -- also when the whole stream is shorter than a byte-order mark
    assert.same({ "" }, (parse("data", { 1, 2 })))
  end)

  it("drops a byte-order mark at the start only", function()
    same_at_every_split("\239\187\191data: a\n\n", { "a" })
  end)

  it("reads a last line without its line break at the end of the stream", function()
    local out = parse("data: a\n\ndata: [DONE]")
    assert.same({ "a", "[DONE]" }, out)
    -- and an event whose blank line never came
    assert.same({ "b" }, (parse("data: b\n")))
  end)

  it("holds back an incomplete event until it is complete", function()
    local out, _, p = parse("data: a\n\ndata: b", nil, false)
    assert.same({ "a" }, out)
    assert.equal(#"data: b", p:buffered())
    assert(p:feed("c\n\n"))
    assert.equal("bc", p:next())
    assert.equal(0, p:buffered())
  end)

  it("keeps only the unconsumed tail however many events pass", function()
    local p = sse.parser()
    local event = 'data: {"choices":[{"delta":{"content":" word"}}]}\n\n'
    local chunk = event:rep(400)
    local count = 0
    for _ = 1, 200 do
      assert(p:feed(chunk:sub(1, 1000)))
      assert(p:feed(chunk:sub(1001)))
      while p:next() do count = count + 1 end
      assert.is_true(p:buffered() == 0)
    end
    assert.equal(80000, count)
  end)

  it("reassembles one long line sent in many small pieces", function()
    local p = sse.parser()
    local big = ("x"):rep(1000000)
    assert(p:feed("data: "))
    for i = 1, #big, 1000 do assert(p:feed(big:sub(i, i + 999))) end
    assert.is_nil(p:next())
    assert(p:feed("\n\n"))
    assert.equal(big, p:next())
  end)

  it("refuses an event larger than the limit", function()
    local p = sse.parser(100)
    assert(p:feed("data: " .. ("a"):rep(60) .. "\n"))
    local ok, err = p:feed("data: " .. ("b"):rep(60) .. "\n")
    assert.is_nil(ok)
    assert.equal("too_large", err.kind)
    local q = sse.parser(100)
    ok = q:feed(("y"):rep(50))
    assert.is_true(ok)
    ok, err = q:feed(("y"):rep(60))
    assert.is_nil(ok)
    assert.equal("too_large", err.kind)
    assert.matches("100 bytes", tostring(err))
  end)
end)
