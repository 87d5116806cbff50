-- alephant.cli.format: tables, CSV (RFC 4180) and JSON as the command line prints them.
local core = require "alephant.core"
local format = require "alephant.cli.format"

describe("format.table", function()
  it("aligns a list of objects, identifying columns first, numbers right-aligned", function()
    local text = format.table({ { id = "a", cost = 1.5, zeta = "x" }, { id = "bbb", cost = 20, zeta = "yy" } })
    assert.equal(table.concat({
      "id   cost  zeta",
      "a     1.5  x",
      "bbb    20  yy",
    }, "\n"), text)
  end)

  it("shows nested values as compact JSON, cut with a mark", function()
    local text = format.table({ { id = "a", tags = { x = 1 } }, { id = "b", tags = core.array{ 1, 2 } } })
    assert.matches('{"x":1}', text, 1, true)
    assert.matches("[1,2]", text, 1, true)
    local long = format.table({ { id = "a", blob = { text = string.rep("z", 100) } } }, { max_cell = 20, utf8 = true })
    local line = long:match("\n(.*)$")
    assert.equal("a   " .. '{"text":"' .. string.rep("z", 10) .. "…", line) -- 20 characters
    local ascii = format.table({ { id = "a", blob = string.rep("z", 100) } }, { max_cell = 10 })
    assert.equal("a   zzzzzzz...", ascii:match("\n(.*)$"))
  end)

  it("keeps rows of any key set: missing cells are blank, JSON null shows as null", function()
    local text = format.table({ { id = "a", x = 1 }, { id = "b", y = core.null } })
    assert.equal("id  x  y\na   1\nb      null", text)
  end)

  it("prints an object as key/value lines and its lists of objects as tables", function()
    local text = format.table({ period = { from = "2026-11-01", to = "2026-11-02" }, total = 3,
      series = { { date = "2026-11-01", cost = 1 }, { date = "2026-11-02", cost = 2 } } })
    assert.equal(table.concat({
      'period  {"from":"2026-11-01","to":"2026-11-02"}',
      "total   3",
      "",
      "series:",
      "date        cost",
      "2026-11-01     1",
      "2026-11-02     2",
    }, "\n"), text)
  end)

  it("honours columns and alignment, and counts UTF-8 characters, not bytes", function()
    local text = format.table({ { name = "Zoë", v = "1" }, { name = "Al", v = "22" } },
      { columns = { "v", "name" }, align = { v = "right" } })
    assert.equal(" v  name\n 1  Zoë\n22  Al", text)
  end)

  it("prints scalars, lists of scalars and empty lists", function()
    assert.equal("true", format.table(true))
    assert.equal("a\nb", format.table({ "a", "b" }))
    assert.equal("(no rows)", format.table(core.array{}))
  end)

  it("prints integral numbers without a fraction on every Lua", function()
    assert.equal("2606", format.cell(2606.0))
    assert.equal("26.063285", format.cell(26.063285))
    assert.equal("-3", format.cell(-3))
  end)
end)

describe("format.csv", function()
  it("quotes per RFC 4180 and ends lines with CRLF", function()
    local text = assert(format.csv({
      { id = "1", note = 'say "hi"', list = "a,b" },
      { id = "2", note = "two\nlines", list = "plain" },
    }))
    assert.equal('id,list,note\r\n1,"a,b","say ""hi"""\r\n2,plain,"two\nlines"\r\n', text)
  end)

  it("writes nested values as compact JSON in one quoted field", function()
    local text = assert(format.csv({ { id = "x", meta = { a = 1, b = 2 } } }))
    assert.equal('id,meta\r\nx,"{""a"":1,""b"":2}"\r\n', text)
  end)

  it("refuses anything but a list of objects", function()
    local text, why = format.csv({ a = 1 })
    assert.is_nil(text)
    assert.equal("csv needs a list of objects, this result is an object", why)
    text, why = format.csv({ 1, 2 })
    assert.is_nil(text)
    assert.matches("a list of values", why)
    assert.is_nil((format.csv("x")))
  end)

  it("gives the header alone for an empty list with known columns, else nothing", function()
    assert.equal("a,b\r\n", format.csv(core.array{}, { columns = { "a", "b" } }))
    assert.equal("", format.csv(core.array{}))
  end)
end)

describe("format.json", function()
  it("sorts keys and indents two spaces; compact is one line", function()
    local v = { b = 1, a = { core.null, "x" }, c = {}, d = core.array{} }
    assert.equal('{"a":[null,"x"],"b":1,"c":{},"d":[]}', format.json(v, { compact = true }))
    assert.equal(table.concat({
      "{",
      '  "a": [',
      "    null,",
      '    "x"',
      "  ],",
      '  "b": 1,',
      '  "c": {},',
      '  "d": []',
      "}",
    }, "\n"), format.json(v))
  end)

  it("leaves strings with brackets, commas, quotes and escapes untouched", function()
    local v = { s = 'a,{b}:[c] "q" \\ end' }
    local pretty = format.json(v)
    assert.same(v, core.json_decode(pretty))
    assert.equal(format.json(v, { compact = true }), core.json_encode(v))
  end)

  it("is the same text for the same data, whatever the table's insertion order", function()
    local a, b = {}, {}
    for i = 1, 50 do a["k" .. i] = i end
    for i = 50, 1, -1 do b["k" .. i] = i end
    assert.equal(format.json(a), format.json(b))
  end)
end)
