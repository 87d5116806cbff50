-- core.json_decode / core.json_encode / core.null / core.array_mt (src/lua/json.c, json_encode.c).
local core = require "alephant.core"
local sys = require "spec.support.sys"

local decode, encode, null = core.json_decode, core.json_encode, core.null
-- Lua 5.3+ fields, looked up without tripping luacheck's portable std
local mtype = rawget(math, "type") -- nil on LuaJIT: doubles only
local maxinteger, mininteger = rawget(math, "maxinteger"), rawget(math, "mininteger")
local has_integers = mtype ~= nil

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- Asserts a decode failure whose message matches each pattern.
local function bad_json(s, ...)
  local v, err = decode(s)
  assert.is_nil(v)
  assert.equal("table", type(err))
  assert.equal("decode", err.kind)
  assert.equal("number", type(err.offset))
  for _, p in ipairs({ ... }) do assert.matches(p, err.message) end
  return err
end

-- Asserts an encode failure (kind validation) whose message matches each pattern.
local function bad_value(v, ...)
  local s, err = encode(v)
  assert.is_nil(s)
  assert.equal("validation", err.kind)
  for _, p in ipairs({ ... }) do assert.matches(p, err.message, 1, true) end
  return err
end

-- LuaJIT: the table constructors of a json_decode (its upvalue 2, see src/lua/json.c); nil
-- on Lua 5.4, which has none (its upvalue 2 is the long arrays' function)
local function shape_cache(f)
  local _, cache = debug.getupvalue(f, 2)
  if type(cache) == "table" then return cache end
end

describe("core.json_decode", function()
  it("decodes scalars, arrays and objects", function()
    assert.equal("x", decode('"x"'))
    assert.equal(true, decode("true"))
    assert.equal(false, decode(" false "))
    assert.equal(2.5, decode("2.5"))
    assert.same({ 1, 2, 3 }, decode("[1,2,3]"))
    assert.same({ a = { b = { "c" } } }, decode('{"a":{"b":["c"]}}'))
    assert.same({ a = 2 }, decode('{"a":1,"a":2}')) -- duplicate keys: the last wins
  end)

  it("tells apart keys of one length, first and last byte that differ anywhere else", function()
    -- such keys share a key-cache entry: only a compare of every byte tells them apart
    for len = 3, 40 do
      for at = 2, len - 1 do
        local k1 = "a" .. ("m"):rep(len - 2) .. "z"
        local k2 = k1:sub(1, at - 1) .. "n" .. k1:sub(at + 1)
        local t = decode(('[{"%s":1},{"%s":2,"%s":3}]'):format(k1, k2, k1))
        assert.same({ { [k1] = 1 }, { [k2] = 2, [k1] = 3 } }, t)
      end
    end
  end)

  it("makes arrays of any length alike (from 16 elements on by a Lua function)", function()
    -- every length around the function's threshold (16) and the early flushes (512 pending
    -- slots), alone and as rows' members, with nulls and containers among the elements
    for _, n in ipairs({ 0, 1, 2, 14, 15, 16, 17, 30, 63, 64, 65, 511, 512, 513, 600, 2000 }) do
      local elements, want = {}, {}
      for i = 1, n do
        local r = i % 5
        elements[i] = r == 0 and "null" or r == 1 and tostring(i) or r == 2 and ('"s%d"'):format(i)
          or r == 3 and ("[%d]"):format(i) or ('{"k":%d}'):format(i)
        want[i] = r == 0 and core.null or r == 1 and i or r == 2 and "s" .. i or r == 3 and { i } or { k = i }
      end
      local text = "[" .. table.concat(elements, ",") .. "]"
      for _, doc in ipairs({ text, '{"a":' .. text .. ',"b":1}', "[" .. ('{"a":' .. text .. "},"):rep(3) .. "0]" }) do
        local t = decode(doc)
        local list = doc == text and t or t.a or t[3].a
        assert.equal(n, #list)
        assert.equal(core.array_mt, getmetatable(list))
        for i = 1, n do
          local v = list[i]
          if type(want[i]) == "table" then
            assert.same(want[i], v)
            assert.equal(i % 5 == 3 and core.array_mt or nil, getmetatable(v))
          else
            assert.equal(want[i], v)
          end
        end
        assert.is_nil(list[n + 1])
        local count = 0
        for _ in pairs(list) do count = count + 1 end
        assert.equal(n, count) -- nothing but the elements
      end
    end
    -- an object whose keys may repeat is no array, however many members it has (children
    -- among them: its table is made when it closes, as an array's is)
    local members = {}
    for i = 1, 20 do members[i] = ('"k%d":%s'):format(i % 9, i == 1 and "[1]" or tostring(i)) end
    local t = decode("{" .. table.concat(members, ",") .. "}")
    assert.is_nil(getmetatable(t))
    assert.same({ k0 = 18, k1 = 19, k2 = 20, k3 = 12, k4 = 13, k5 = 14, k6 = 15, k7 = 16, k8 = 17 }, t)
  end)

  it("makes long arrays by a function that debug hooks see (Lua 5.4), not on LuaJIT", function()
    -- (as a count hook can stop any Lua code, it can stop a Lua 5.4 decode of a long
    -- array; LuaJIT's `{...}` would make a bigger table, so LuaJIT keeps the C API)
    local calls = {}
    local long, short = "[" .. ("1,"):rep(15) .. "1]", "[" .. ("1,"):rep(14) .. "1]"
    local ok, err = pcall(function()
      debug.sethook(function()
        local info = debug.getinfo(2, "S")
        if info and info.source == "=alephant.json_decode array" then calls[#calls + 1] = true end
      end, "c")
      assert.equal(16, #decode(long))
      assert.equal(15, #decode(short))
    end)
    debug.sethook()
    assert(ok, err)
    if rawget(_G, "jit") then
      assert.equal(0, #calls)
      return
    end
    assert.equal(1, #calls) -- the long one's
    ok, err = pcall(function()
      debug.sethook(function()
        local info = debug.getinfo(2, "S")
        if info and info.source == "=alephant.json_decode array" then error("stopped", 0) end
      end, "c")
      decode(long)
    end)
    debug.sethook()
    assert.is_false(ok)
    assert.equal("stopped", err)
  end)

  it("keeps the last of duplicate keys however they are spelled or nested", function()
    assert.same({ b = 2 }, decode('{"a":1,"b":2,"a":null}')) -- a null last: absent
    assert.same({ a = 3, b = 2 }, decode('{"a":null,"b":2,"a":3}'))
    assert.same({ ab = 2 }, decode('{"ab":1,"a\\u0062":2}')) -- escaped and plain: one key
    assert.same({ ab = 1 }, decode('{"a\\u0062":2,"ab":1}'))
    assert.same({ [""] = 2 }, decode('{"":1,"":2}'))
    local long = ("k"):rep(50)
    assert.same({ [long] = 2 }, decode(('{"%s":1,"%s":2}'):format(long, long)))
    -- a child object using the same key does not hide its parent's duplicate
    assert.same({ a = { a = 1, b = { a = 2 } } }, decode('{"a":0,"a":{"a":1,"b":{"a":2}}}'))
    assert.same({ x = 2, c = { x = 1 } }, decode('{"x":1,"c":{"x":1},"x":2}'))
  end)

  -- Under LuaJIT rows that share their keys are built by one generated constructor per
  -- shape (src/lua/json.c, shape_constructor); these documents take that way from the
  -- third such row on, and must give what the C-API way gives.
  describe("rows that share their keys", function()
    local function rows(n, row) -- a document of n copies of row, and what it decodes to
      local parts = {}
      for i = 1, n do parts[i] = row end
      return "[" .. table.concat(parts, ",") .. "]"
    end

    it("decode to the same tables as any object (nulls absent, nested values, any key bytes)", function()
      local t = decode(rows(5, '{"date":"2026-10-29","requests":2906,"cost":9.354414,"tokens":null,'
        .. '"1":{"x":[1]},"é":true,"é2":false}'))
      local cache = shape_cache(decode) -- LuaJIT: the constructors (a spec below)
      if cache then assert.is_function(cache['date"requests"cost"tokens"1"é"é2']) end -- this way taken
      assert.equal(5, #t)
      for i = 1, 5 do
        assert.same({ date = "2026-10-29", requests = 2906, cost = 9.354414, ["1"] = { x = { 1 } },
          ["é"] = true, ["é2"] = false }, t[i])
        assert.is_nil(t[i][1]) -- "1" stays a string key
        local n = 0
        for _ in pairs(t[i]) do n = n + 1 end
        assert.equal(6, n) -- the null member is absent to pairs as well
      end
      -- values differ per row; 2, 12 and 13 keys; a one-key row; duplicate keys
      local doc = {}
      for i = 1, 6 do doc[i] = ('{"a":%d,"b":"%d"}'):format(i, -i) end
      t = decode("[" .. table.concat(doc, ",") .. "]")
      for i = 1, 6 do assert.same({ a = i, b = tostring(-i) }, t[i]) end
      for _, n in ipairs({ 1, 12, 13 }) do -- keys "ka", "kb", ...: each its own key slot
        local members, want = {}, {}
        for k = 1, n do
          members[k] = ('"k%s":%d'):format(string.char(96 + k), k)
          want["k" .. string.char(96 + k)] = k
        end
        t = decode(rows(4, "{" .. table.concat(members, ",") .. "}"))
        for i = 1, 4 do assert.same(want, t[i]) end
      end
      assert.same({ { a = 2, b = 1 }, { a = 2, b = 1 }, { a = 2, b = 1 } }, decode(rows(3, '{"a":1,"b":1,"a":2}')))
      assert.same({ { ab = 2, c = 1 }, { ab = 2, c = 1 }, { ab = 2, c = 1 } },
        decode(rows(3, '{"ab":1,"c":1,"a\\u0062":2}'))) -- an escaped key: no key slot
      -- 13 keys, past what a shape's signature holds: "a0b" and "q0b" have key slots that
      -- differ in the bit a 13th slot would push out ("kl" .. "kw": 12 other slots)
      local tail = {}
      for c = ("l"):byte(), ("w"):byte() do tail[#tail + 1] = ('"k%s":0'):format(string.char(c)) end
      tail = "," .. table.concat(tail, ",") .. "}"
      t = decode("[" .. rows(3, '{"a0b":1' .. tail):sub(2, -2) .. "," .. rows(3, '{"q0b":2' .. tail):sub(2, -2) .. "]")
      for i = 1, 6 do assert.equal(i <= 3 and 1 or 2, i <= 3 and t[i].a0b or t[i].q0b) end
    end)

    it("keep each key when a key slot changes key between rows or during an object", function()
      -- "axb" and "ayb" share a key slot (length, first and last byte)
      assert.same({ { axb = 1, c = 2 }, { axb = 1, c = 2 }, { axb = 1, c = 2 }, { ayb = 3, c = 4 },
        { ayb = 3, c = 4 }, { ayb = 3, c = 4 }, { axb = 5, c = 6 }, { axb = 5, c = 6 } },
        decode("[" .. ('{"axb":1,"c":2},'):rep(3) .. ('{"ayb":3,"c":4},'):rep(3)
          .. '{"axb":5,"c":6},{"axb":5,"c":6}]'))
      -- an expected row's child takes the slot of a key the row had (the row's keys go
      -- in before the child opens)
      assert.same({ { axb = 1, c = 2, d = 3 }, { axb = 1, c = 2, d = 3 }, { axb = 1, c = 2, d = 3 },
        { axb = 1, c = { ayb = 0 }, d = 3 }, { axb = 1, c = 2, d = 3 } },
        decode("[" .. ('{"axb":1,"c":2,"d":3},'):rep(3) .. '{"axb":1,"c":{"ayb":0},"d":3},{"axb":1,"c":2,"d":3}]'))
      -- the parent's "axb" loses its slot to the rows' "ayb" before the parent closes
      assert.same({ { axb = { { ayb = 1, c = 2 }, { ayb = 1, c = 2 }, { ayb = 1, c = 2 } }, c = 7 },
        { axb = 0, c = 8 } },
        decode('[{"axb":[' .. ('{"ayb":1,"c":2},'):rep(2) .. '{"ayb":1,"c":2}],"c":7},{"axb":0,"c":8}]'))
      -- the rows' shape is forgotten ("ab" takes the slot of "a") and another shape takes its
      -- entry inside an array between two rows: the next row is not expected to have the
      -- rows' shape nor the new one (whose constructor was not looked for yet)
      assert.same({ { c = 0 }, { d = 0 }, { a = 1, b = 2 }, { a = 1, b = 2 }, { a = 1, b = 2 },
        { { ab = 0 }, { c = 5, d = 6 } }, { c = 7, d = 8 }, { c = 7, d = 8 } },
        decode('[{"c":0},{"d":0},' .. ('{"a":1,"b":2},'):rep(3) .. '[{"ab":0},{"c":5,"d":6}],'
          .. '{"c":7,"d":8},{"c":7,"d":8}]'))
    end)

    it("decode a row that differs from the rows before it in any way", function()
      -- members: { key, JSON text, Lua value }; a row's JSON and its table from one list
      local function row(members)
        local parts, want = {}, {}
        for i, m in ipairs(members) do
          parts[i] = ('"%s":%s'):format(m[1], m[2])
          want[m[1]] = m[3]
        end
        return "{" .. table.concat(parts, ",") .. "}", want
      end
      local base = { { "day", '"d"', "d" }, { "spend", "1.5", 1.5 }, { "calls", "3", 3 }, { "flag", "true", true } }
      local function variant(f)
        local m = {}
        for i, x in ipairs(base) do m[i] = x end
        f(m)
        return m
      end
      local variants = {
        variant(function(m) m[2] = { "calls", "7", 7 }; m[3] = { "spend", "2.5", 2.5 } end), -- keys swapped
        variant(function(m) m[4] = nil end),                                                 -- one fewer
        variant(function(m) m[5] = { "extra", "0", 0 } end),                                 -- one more
        variant(function(m) table.remove(m, 1) end),                                         -- the first missing
        variant(function(m) m[3] = { "calls", '{"n":[1,{"day":2}]}', { n = { 1, { day = 2 } } } } end), -- a child
        variant(function(m) m[1] = { "day", '[]', {} } end),                                 -- a child first
        variant(function(m) m[4] = { "flag", "null", nil } end),                               -- a null last
        variant(function(m) m[2] = { "brand_new_key", "5", 5 } end),                         -- a new key
        variant(function(m) m[2] = { "sp\\u0065nd", "6", 6 }; m[2].key = "spend" end),     -- an escaped key
        variant(function(m) m[4] = { "day", '"again"', "again" } end),                       -- a duplicate
        {},                                                                                  -- empty
      }
      for _, v in ipairs(variants) do
        for _, prefix in ipairs({ 1, 3, 5 }) do -- base rows before the variant: learning, then expecting
          local docs, want = {}, {}
          for i = 1, prefix do docs[i], want[i] = row(base) end
          local vj, vw = row(v)
          if v[2] and v[2].key then vw = { day = "d", spend = 6, calls = 3, flag = true } end
          if v[4] and v[4][1] == "day" then vw = { day = "again", spend = 1.5, calls = 3 } end
          docs[#docs + 1], want[#want + 1] = vj, vw
          docs[#docs + 1], want[#want + 1] = row(base) -- and the expected rows again after it
          docs[#docs + 1], want[#want + 1] = row(base)
          assert.same(want, decode("[" .. table.concat(docs, ",") .. "]"))
          assert.same({ rows = want }, decode('{"rows":[' .. table.concat(docs, ",") .. "]}"))
        end
      end
      local cache = shape_cache(decode)
      if cache then assert.is_function(cache['day"spend"calls"flag']) end -- (each key its own slot)
    end)

    it("know a row that stops being expected after some keys by all of its keys", function()
      -- the rows of {"bt", "c"} ("bt" has key slot 0) teach a shape; then an expected
      -- {"a", "b"} row goes on with "c" after its "a": the row is {"a", "c"}, whose
      -- signature (slots 7, 23) must hold the "a" that came as expected, or it would be
      -- slot 0 then 23, the shape of {"bt", "c"}, and that constructor would make the row
      local want, docs = {}, {}
      for i = 1, 3 do docs[i], want[i] = '{"bt":1,"c":2}', { bt = 1, c = 2 } end
      for i = 4, 6 do docs[i], want[i] = '{"a":1,"b":2}', { a = 1, b = 2 } end
      docs[7], want[7] = '{"a":3,"c":4}', { a = 3, c = 4 }
      docs[8], want[8] = '{"a":5,"c":6}', { a = 5, c = 6 }
      assert.same(want, decode("[" .. table.concat(docs, ",") .. "]"))
    end)

    it("get at most 64 constructors per VM however many shapes come (LuaJIT)", function()
      local cache = shape_cache(decode)
      if rawget(_G, "jit") then assert.equal("table", type(cache)) end
      if cache == nil then return end -- Lua 5.4: no constructors (see json.c)
      assert.is_nil(cache['day"spend'])
      assert.same({ { day = 1, spend = 2 }, { day = 1, spend = 2 }, { day = 1, spend = 2 } },
        decode(rows(3, '{"day":1,"spend":2}')))
      assert.is_function(cache['day"spend']) -- made at the third row, kept for the next document
      local doc, want = {}, {}
      for s = 1, 100 do
        local row = ('{"s%d":%d,"t":%d}'):format(s, s, -s)
        for _ = 1, 3 do
          doc[#doc + 1] = row
          want[#want + 1] = { ["s" .. s] = s, t = -s }
        end
      end
      assert.same(want, decode("[" .. table.concat(doc, ",") .. "]"))
      local count = 0
      for k, v in pairs(cache) do
        if type(k) == "string" then
          count = count + 1
          assert.is_function(v)
        end
      end
      assert.equal(64, count)
      assert.equal(64, cache[1])
    end)

    it("count the constructors made while one is made (LuaJIT)", function()
      -- a fresh core (its own cache); a call hook (as a __gc metamethod could) decodes rows
      -- of a new shape while the chunk that makes a constructor runs
      local path
      for dir in package.cpath:gmatch("[^;]+") do -- (LuaJIT has no package.searchpath)
        local p = dir:gsub("%?", "alephant/core")
        local f = io.open(p, "rb")
        if f then
          f:close()
          path = path or p
        end
      end
      local fresh = package.loadlib(path, "luaopen_alephant_core")("alephant.core")
      local cache = shape_cache(fresh.json_decode)
      if cache == nil then return end -- Lua 5.4: no constructors
      local g, busy = 0, false
      local ok, err = pcall(function()
        debug.sethook(function()
          local info = debug.getinfo(2, "S")
          if busy or not info or info.source ~= "=alephant.json_decode shape" or info.what ~= "main" then return end
          busy = true
          g = g + 1
          fresh.json_decode("[" .. ('{"g%d":1,"h":2},'):format(g):rep(3) .. '{"z":1}]')
          if g % 2 == 0 then -- and the very shape being made (the hook's g-th: the g-th document's)
            fresh.json_decode("[" .. ('{"s%d":1,"t":2},'):format(g):rep(3) .. '{"z":1}]')
          end
          busy = false
        end, "c")
        for i = 1, 100 do fresh.json_decode("[" .. ('{"s%d":1,"t":2},'):format(i):rep(3) .. '{"z":1}]') end
      end)
      debug.sethook()
      assert(ok, err)
      assert.is_true(g >= 32) -- (the hook did decode)
      local count = 0
      for k in pairs(cache) do if type(k) == "string" then count = count + 1 end end
      assert.equal(64, count)
      assert.equal(64, cache[1])
    end)
  end)

  it("reads the short numbers of a document as Lua reads them", function()
    -- inside a document (8 bytes or more after a number's first digit: the scanner's
    -- word-at-a-time way), around its bounds: 1-8 digits, a '.' and 1-8 more, "0" and
    -- "0." ones, signed zeros, an exponent after
    for _, s in ipairs({ "0", "-0", "7", "1234567", "12345678", "0.5", "-0.25", "0.0", "-0.0", "-0.000",
      "0.1234567", "0.12345678", "9.354414", "13.505616", "1.1234567", "1234567.1", "1234567.1234567",
      "7654321.12345678", "12345678.5", "0.5e1", "7.25E-2", "-1.5e+3", "0.30000000000000004" }) do
      local want = tonumber(s)
      if not s:find("[.eE]") then want = want + 0 end -- an integer: "-0" is 0 (LuaJIT's tonumber: -0.0)
      for _, doc in ipairs({ "[" .. s .. "," .. s .. ',"padding"]', '{"v":' .. s .. ',"w":"padding"}' }) do
        local t = decode(doc)
        local got = t[1] or t.v
        assert.equal(want, got)
        if want == 0 then assert.equal(1 / want, 1 / got) end -- the sign of a zero
        if has_integers then assert.equal(mtype(want), mtype(got)) end
      end
    end
  end)

  it("returns integers as integers on Lua 5.3+", function()
    assert.equal(10000, decode("10000"))
    assert.equal(-42, decode("-42"))
    if has_integers then
      assert.equal("integer", mtype(decode("10000")))
      assert.equal("integer", mtype(decode('{"a":10000}').a))
      assert.equal("float", mtype(decode("10000.0")))
      assert.equal("float", mtype(decode("1e4")))
      assert.equal(maxinteger, decode("9223372036854775807"))
      assert.equal(mininteger, decode("-9223372036854775808"))
      assert.equal(9007199254740993, decode("9007199254740993")) -- beyond 2^53, still exact
      assert.equal("float", mtype(decode("9223372036854775808"))) -- beyond int64: a double
    else
      -- LuaJIT: doubles, exact up to 2^53, then rounded to the nearest double
      assert.equal(2 ^ 53, decode("9007199254740992"))
      assert.equal(2 ^ 53, decode("9007199254740993"))
    end
    assert.equal(1.2345678901234568e23, decode("123456789012345678901234"))
    assert.equal(0, decode("-0"))
    assert.equal(math.huge, decode("1e400"))
    assert.equal(-math.huge, decode("-1e400"))
    assert.equal(0, decode("1e-400"))
  end)

  it("reads decimals exactly as Lua reads them", function()
    for _, s in ipairs({ "0.1", "1E-7", "123.456", "0.30000000000000004", "2.2250738585072011e-308",
      "4.9406564584124654e-324", "1.7976931348623157e308", "3.141592653589793238462643383279" }) do
      assert.equal(tonumber(s), decode(s))
    end
  end)

  it("drops null members of objects, and keeps null elements of arrays as core.null", function()
    local t = decode('{"a":null,"b":[1,null,3],"c":{"d":null}}')
    assert.is_nil(t.a)
    assert.is_nil(next(t.c))
    assert.equal(3, #t.b)
    assert.equal(null, t.b[2])
    assert.equal(null, decode("null"))
    assert.equal(null, decode("[null]")[1])
    assert.is_nil(decode('{"a":1,"a":null}').a) -- a later null undoes an earlier member
    assert.equal("userdata", type(null)) -- a lightuserdata: truthy, compare with ==
  end)

  it("marks arrays with core.array_mt, even empty ones", function()
    local t = decode('{"list":[],"obj":{},"nested":[[]]}')
    assert.equal(core.array_mt, getmetatable(t.list))
    assert.equal(core.array_mt, getmetatable(t.nested))
    assert.equal(core.array_mt, getmetatable(t.nested[1]))
    assert.is_nil(getmetatable(t.obj))
    assert.is_nil(getmetatable(t))
  end)

  it("decodes escapes, \\u escapes and surrogate pairs to UTF-8", function()
    assert.equal('"\\/\b\f\n\r\t', decode([["\"\\\/\b\f\n\r\t"]]))
    assert.equal("\195\169\226\130\172", decode([["\u00e9\u20AC"]])) -- é €
    assert.equal("\240\159\152\128", decode([["\ud83d\ude00"]])) -- U+1F600
    assert.equal("a\0b", decode([["a\u0000b"]]))
    assert.equal("caf\195\169", decode('"caf\195\169"')) -- raw UTF-8 passes
    bad_json([["\ud83d"]], "lone surrogate \\uD83D", "offset 1")
    bad_json([["\ude00x"]], "lone surrogate \\uDE00")
    bad_json([["\ud83d\u0041"]], "lone surrogate")
    bad_json([["\u12"]], "4 hex digits")
    bad_json([["\x41"]], "invalid escape")
    bad_json('"\255"', "invalid UTF%-8 %(byte 0xFF%)")
    bad_json('"\192\128"', "invalid UTF%-8") -- overlong NUL
    bad_json('"\237\160\128"', "invalid UTF%-8") -- a surrogate in UTF-8
    bad_json('"a\nb"', "control character 0x0A", "offset 2")
  end)

  it("names the offset and what was expected", function()
    local err = bad_json("{bad", "^invalid JSON at offset 1: expected a string key or '}', found 'bad'$")
    assert.equal(1, err.offset)
    assert.equal(false, err.retryable)
    assert.matches("^alephant decode error: invalid JSON at offset 1", tostring(err))
    bad_json('{"a":1,}', "offset 7", "expected a string key after ','")
    bad_json("[1,2", "offset 4", "expected ',' or ']'", "found end of input")
    bad_json('{"a" 1}', "offset 5", "expected ':'")
    bad_json("[1 2]", "offset 3")
    bad_json("01", "leading zeros")
    -- and inside a document (the scanner's word-at-a-time way: 8 bytes or more after it)
    bad_json('[01,"padding"]', "^invalid JSON at offset 1: leading zeros are not allowed in numbers$")
    bad_json('{"a":-00.5,"b":"padding"}', "^invalid JSON at offset 5: leading zeros are not allowed in numbers$")
    bad_json('[0.,"padding"]', "offset 3", "a digit after the decimal point")
    bad_json("1.", "a digit after the decimal point")
    bad_json("-", "a digit after '%-'")
    bad_json("[NaN]", "found 'NaN'")
    bad_json("{} x", "offset 3", "end of input after the JSON value")
  end)

  it("refuses malformed and truncated documents", function()
    for _, s in ipairs({ "", "   ", "[", "]", "{", "}", "[1,]", "[,1]", '{"a"}', '{"a":}', '{"a":1', '"abc',
      "tru", "nul", "True", "undefined", "'x'", "0x10", "+1", ".5", "1e", "1e+", "--1", "[1]]", "{}{}",
      "\239\187\191{}", "/* c */ 1", "[1,2,3,]", '{"a":1,,"b":2}', "[\"\\", "\0" }) do
      local v, err = decode(s)
      assert.is_nil(v, s)
      assert.equal("decode", err.kind, s)
    end
    bad_json("", "empty input")
    bad_json(" \n ", "empty input")
    bad_json("\239\187\191{}", "byte order mark")
    bad_json('"abc', "unterminated string", "offset 0")
    bad_json("tru", "truncated literal 'true'")
  end)

  it("quotes at most a few bytes of the input in messages", function()
    local secret = string.rep("s3cr3t", 20)
    local err = bad_json("[" .. secret .. "]")
    assert.is_nil(err.message:find(secret:sub(1, 17), 1, true))
    assert.truthy(#err.message < 120)
    err = bad_json('{"token":"' .. secret .. '\1"}')
    assert.is_nil(err.message:find("s3cr", 1, true))
  end)

  it("refuses nesting beyond 512 levels without crashing", function()
    local ok = string.rep("[", 512) .. string.rep("]", 512)
    local t = decode(ok)
    for _ = 1, 511 do t = t[1] end
    assert.same({}, t)
    bad_json(string.rep("[", 513) .. string.rep("]", 513), "nesting deeper than 512 levels", "offset 512")
    bad_json(string.rep("[", 10000) .. string.rep("]", 10000), "nesting deeper than 512")
    bad_json(string.rep('{"a":', 10000) .. "1" .. string.rep("}", 10000), "nesting deeper than 512")
    bad_json(string.rep("[", 100000), "nesting deeper than 512")
  end)

  it("raises on a non-string argument (a programmer error)", function()
    assert.has_error(function() decode(nil) end)
    assert.has_error(function() decode(42) end)
    assert.has_error(function() decode({}) end)
  end)
end)

describe("core.json_encode", function()
  it("encodes scalars", function()
    assert.equal("null", encode(nil))
    assert.equal("null", encode(null))
    assert.equal("true", encode(true))
    assert.equal("false", encode(false))
    assert.equal('"x"', encode("x"))
    assert.equal("3", encode(3))
    assert.equal("-7", encode(-7))
    assert.equal("2.5", encode(2.5))
    assert.equal("0.1", encode(0.1))
    assert.equal("0.30000000000000004", encode(0.1 + 0.2))
    assert.equal("0.3333333333333333", encode(1 / 3))
    assert.equal("1e-7", encode(1e-7))
    assert.equal("1e+300", encode(1e300))
    assert.equal("123456789012345", encode(123456789012345)) -- cjson 2.1.0 writes 1.2345678901234e+14
    assert.equal("9007199254740992", encode(2 ^ 53)) -- an integral double: no fraction
    assert.equal("3", encode(3.0))
    if has_integers then
      assert.equal("9223372036854775807", encode(maxinteger))
      assert.equal("-9223372036854775808", encode(mininteger))
    end
  end)

  it("writes numbers that read back to the same value", function()
    for _, x in ipairs({ 0.1, 1 / 3, 2 / 3, 1e-7, 123.456, 1.7976931348623157e308, 4.9406564584124654e-324,
      2.2250738585072014e-308, -1234.5678, 1e21, 2 ^ 60, 12.3456789 }) do
      local s = encode(x)
      assert.equal(x, tonumber(s), s)
      assert.equal(x, decode(s), s)
    end
  end)

  it("refuses NaN and infinities", function()
    bad_value(0 / 0, "cannot encode NaN at body")
    bad_value(math.huge, "cannot encode inf")
    bad_value({ x = -math.huge }, "cannot encode -inf at body.x")
  end)

  it("escapes strings, passes UTF-8 through, refuses invalid UTF-8", function()
    assert.equal([["a\"b\\c/d"]], encode('a"b\\c/d'))
    assert.equal([["\n\r\t\b\f"]], encode("\n\r\t\b\f"))
    assert.equal([["\u0001\u001f\u0000"]], encode("\1\31\0"))
    assert.equal('"\127"', encode("\127"))
    assert.equal('"caf\195\169 \240\159\152\128"', encode("caf\195\169 \240\159\152\128"))
    bad_value("ok\255", "not valid UTF-8 at body: byte 0xFF at offset 2")
    bad_value({ s = "\192\128" }, "not valid UTF-8 at body.s")
    bad_value({ ["k\255"] = 1 }, "cannot encode a key that is not valid UTF-8")
    local s = "q\"\\\1\n\195\169\240\159\152\128 end"
    assert.equal(s, decode(encode(s)))
  end)

  it("encodes sequences as arrays and string-keyed tables as objects", function()
    assert.equal("[1,2,3]", encode({ 1, 2, 3 }))
    assert.equal('{"a":1}', encode({ a = 1 }))
    assert.equal("{}", encode({}))
    assert.equal('[[],{}]', encode({ core.array(), {} }))
    assert.equal('{"1":"a"}', encode({ ["1"] = "a" })) -- a string key stays a key
    assert.equal("[1,null,3]", encode({ 1, null, 3 }))
  end)

  it("keeps empty arrays as [] through core.array_mt", function()
    assert.equal("[]", encode(core.array()))
    assert.equal("[]", encode(setmetatable({}, core.array_mt)))
    assert.equal('{"models":[],"tags":[]}', encode({ models = core.array(), tags = decode("[]") }))
    assert.equal("[]", encode(decode("[]")))
    assert.equal('{"a":[],"b":{}}', encode(decode('{"b":{},"a":[]}')))
    assert.equal("[1,2]", encode(core.array({ 1, 2 })))
    local t = {}
    assert.equal(t, core.array(t))
    assert.equal(core.array_mt, getmetatable(t))
    assert.equal(t, core.array(t)) -- again: fine
    assert.has_error(function() core.array(setmetatable({}, {})) end)
    assert.has_error(function() core.array("x") end)
  end)

  it("refuses tables that are neither arrays nor objects, naming the key", function()
    bad_value({ 1, 2, x = 3 }, "both string keys and integer key 1 at body")
    bad_value({ [1] = "a", [3] = "c" }, "integer key 3 at body", "use core.null for holes")
    bad_value({ [0] = "a" }, "integer key 0")
    bad_value({ [-1] = "a" }, "integer key -1")
    bad_value({ [1.5] = "a" }, "the number key 1.5")
    bad_value({ [true] = "a" }, "a boolean key")
    bad_value({ [{}] = "a" }, "a table key")
    bad_value(setmetatable({ x = 1 }, core.array_mt), "marked as an array")
  end)

  it("names the path of a value it cannot encode", function()
    local body = { model = "m", messages = { { role = "user", content = "hi" }, { role = "user", content = print } } }
    local err = bad_value(body, "cannot encode a function at body.messages[2].content")
    assert.equal("body.messages[2].content", err.field)
    bad_value({ meta = { ["odd key"] = { coroutine.create(print) } } },
      'cannot encode a thread at body.meta["odd key"][1]')
    bad_value({ f = io.stdout }, "cannot encode a userdata at body.f")
    local _, e2 = encode({ x = print }, "params")
    assert.equal("cannot encode a function at params.x", e2.message)
  end)

  it("refuses cycles and deep nesting without crashing", function()
    local t = {}
    t.self = t
    bad_value(t, "nested deeper than 512 levels at body.self.self.self.self.<504 more>", "contain itself")
    local a = {}
    a[1] = a
    bad_value(a, "nested deeper than 512 levels")
    local deep = {}
    local cur = deep
    for _ = 1, 10000 do
      cur[1] = {}
      cur = cur[1]
    end
    bad_value(deep, "nested deeper than 512 levels")
    local ok = "x"
    for _ = 1, 512 do ok = { ok } end
    assert.equal(string.rep("[", 512) .. '"x"' .. string.rep("]", 512), encode(ok))
  end)

  it("sorts object keys, so the same table always gives the same bytes", function()
    assert.equal('{"B":3,"a":2,"a b":4,"aa":5,"b":1}', encode({ b = 1, a = 2, B = 3, ["a b"] = 4, aa = 5 }))
    local one, two = {}, {}
    for i = 1, 200 do one["k" .. i] = i end
    for i = 200, 1, -1 do two["k" .. i] = i end
    assert.equal(encode(one), encode(two))
    assert.equal(encode({ z = { y = 1, x = 2 }, a = 0 }), '{"a":0,"z":{"x":2,"y":1}}')
  end)
end)

describe("JSON round trips", function()
  it("decode -> encode -> decode keeps a usage answer with a 30-day series", function()
    local text = read(here .. "usage_body.json")
    local body = assert(decode(text))
    local data = body.data
    assert.equal(0, body.code)
    assert.equal(30, #data.series)
    assert.equal("2026-10-29", data.series[1].date)
    assert.is_nil(data.agentId) -- null member: absent
    assert.equal(core.array_mt, getmetatable(data.notes))
    if has_integers then
      assert.equal("integer", mtype(data.totals.requests))
      assert.equal("integer", mtype(data.series[30].tokens))
      assert.equal("float", mtype(data.series[1].cost))
    end
    local again = encode(body)
    local body2 = assert(decode(again))
    assert.same(body, body2)
    assert.equal(again, encode(body2)) -- stable bytes
    assert.matches('"notes":%[%]', again)
    assert.matches('"tags":%[%]', again)
  end)

  it("round-trips values of every kind", function()
    for _, v in ipairs({
      { a = { 1, 2, { b = "c" } }, d = true, e = false, f = { null } },
      { "", "\0", string.rep("x", 1000), "\240\159\152\128" },
      { n = { 0, -1, 1.5, -2.25, 1e-9, 6.02214076e23 } },
      core.array(),
    }) do
      assert.same(v, decode(encode(v)))
    end
  end)

  it("handles a 1 MiB document", function()
    local parts = {}
    local i = 0
    local size = 0
    while size < 1024 * 1024 do
      i = i + 1
      local item = ('{"id":%d,"name":"item \\"%d\\"\\n","cost":%d.25,"tags":["a","b"],"none":null}'):format(i, i, i)
      parts[#parts + 1] = item
      size = size + #item + 1
    end
    local text = "[" .. table.concat(parts, ",") .. "]"
    assert.truthy(#text >= 1024 * 1024)
    local t = assert(decode(text))
    assert.equal(i, #t)
    assert.equal('item "7"\n', t[7].name)
    assert.equal(i + 0.25, t[i].cost)
    local out = assert(encode(t))
    assert.truthy(#out > 800 * 1024)
    assert.same(t, decode(out))
    -- one long string with escapes (decoded through the scratch buffer)
    local long = string.rep("ab\\n\\u00e9", 200000)
    local s = assert(decode('"' .. long .. '"'))
    assert.equal(string.rep("ab\n\195\169", 200000), s)
    assert.equal(s, decode(encode(s)))
  end)

  -- The decoder keeps the values of an open container on the Lua stack and builds
  -- each table at its full size; big containers and deep ones with many members
  -- per level must still come out whole (LuaJIT allows a C function 8,000 slots).
  it("decodes big arrays and objects, and deep documents with many members per level", function()
    local nums = {}
    for i = 1, 200000 do nums[i] = tostring(i) end
    local a = assert(decode("[" .. table.concat(nums, ",") .. "]"))
    assert.equal(200000, #a)
    assert.equal(1, a[1])
    assert.equal(123456, a[123456])
    assert.equal(core.array_mt, getmetatable(a))

    local members = {}
    for i = 1, 100000 do members[i] = ('"k%d":%d'):format(i % 3000, i) end
    members[#members + 1] = '"k5":null' -- a later null removes the member
    local o = assert(decode("{" .. table.concat(members, ",") .. "}"))
    local count = 0
    for _ in pairs(o) do count = count + 1 end
    assert.equal(2999, count)
    assert.is_nil(o.k5)
    assert.equal(99007, o.k7) -- the last duplicate wins
    assert.equal(99000, o.k0)

    local level = '{"a":1,"b":[' .. table.concat(nums, ",", 1, 1500) .. '],"c":'
    local t = assert(decode(string.rep(level, 500) .. "0" .. string.rep("}", 500)))
    for _ = 1, 499 do
      assert.equal(1, t.a)
      assert.equal(1500, #t.b)
      t = t.c
    end
    local arrays = "[" .. table.concat(nums, ",", 1, 2000) .. ","
    t = assert(decode(string.rep(arrays, 500) .. "0" .. string.rep("]", 500)))
    for _ = 1, 499 do
      assert.equal(2001, #t)
      assert.equal(2000, t[2000])
      t = t[2001]
    end
  end)

  -- An object's key waiting for its value keeps its stack slot through a flush of the
  -- pending pairs (here at each "x": opening {}); the decoder once counted that slot
  -- as freed, drifting one slot per flush until later pushes skipped lua_checkstack
  -- and wrote past the end of the Lua stack (heap corruption on Lua 5.4: an abort, or
  -- a hang). It runs in a child interpreter, so that a broken decoder fails this test
  -- alone, and in a fresh coroutine, whose small stack has no slack past what was checked.
  it("keeps its stack accounting when flushes leave a key waiting (many of them)", function()
    local script = [=[
      local decode = require("alephant.core").json_decode
      local parts = { "{" }
      local members = string.rep('"a":0,', 255)
      for _ = 1, 800 do parts[#parts + 1] = members .. '"x":{},' end
      local nums = {}
      for i = 1, 500 do nums[i] = tostring(i) end
      local level = "[" .. table.concat(nums, ",") .. ","
      parts[#parts + 1] = '"z":' .. string.rep(level, 20) .. "0" .. string.rep("]", 20) .. "}"
      local t = assert(coroutine.wrap(decode)(table.concat(parts)))
      assert(t.a == 0 and next(t.x) == nil, "members")
      local z = t.z
      for _ = 1, 19 do
        assert(#z == 501 and z[500] == 500, "a level of z")
        z = z[501]
      end
      assert(z[501] == 0, "the innermost element")
      io.write("decoded")
    ]=]
    local out = sys.slurp(("LUA_PATH=%s LUA_CPATH=%s timeout 60 %s -e %s 2>&1"):format(sys.shq(package.path),
      sys.shq(package.cpath), sys.lua_command(), sys.shq(script)))
    assert.equal("decoded", out)
  end)
end)

describe("JSON and the host", function()
  it("writes numbers the same way under a locale with a decimal comma", function()
    local old = os.setlocale(nil, "numeric")
    if not (os.setlocale("de_DE.UTF-8", "numeric") or os.setlocale("de_DE.utf8", "numeric")) then
      pending("no de_DE.UTF-8 locale on this machine")
      return
    end
    finally(function() os.setlocale(old, "numeric") end)
    assert.matches("^de_DE", os.setlocale(nil, "numeric"))
    if not rawget(_G, "jit") then assert.equal("0,5", string.format("%.1f", 0.5)) end -- LuaJIT formats on its own
    assert.equal("0.5", encode(0.5))
    assert.equal("-1234.5678", encode(-1234.5678))
    assert.equal("[0.1,1e-7,1.5e+300,3]", encode({ 0.1, 1e-7, 1.5e300, 3 }))
    assert.equal(0.5, decode("0.5"))
    assert.equal(1.25e-7, decode("1.25E-7"))
  end)

  it("does not load or change the host's cjson", function()
    local function fresh_alephant()
      for name in pairs(package.loaded) do
        if name == "alephant" or name:match("^alephant%.") then package.loaded[name] = nil end
      end
      return require "alephant"
    end
    local before = package.loaded.cjson
    local a = fresh_alephant()
    assert.equal(before, package.loaded.cjson)
    assert.equal(null, a.null)
    -- with cjson loaded (if installed): same table, same settings afterwards
    local ok, cjson = pcall(require, "cjson")
    if ok then
      local precision = cjson.encode_number_precision()
      local sparse = { cjson.encode_sparse_array() }
      fresh_alephant()
      assert.equal(cjson, package.loaded.cjson)
      assert.equal(precision, cjson.encode_number_precision())
      assert.same(sparse, { cjson.encode_sparse_array() })
      package.loaded.cjson = before
    end
  end)

  it("keeps core.null and core.array_mt when the module is loaded again", function()
    package.loaded["alephant.core"] = nil
    local again = require "alephant.core"
    assert.equal(null, again.null)
    assert.equal(core.array_mt, again.array_mt)
    assert.equal("[]", again.json_encode(core.array()))
    package.loaded["alephant.core"] = core
  end)
end)
