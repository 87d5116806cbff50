-- The LuaLS annotation files (lua/alephant/types, `make annotations`). No
-- lua-language-server is packaged for Debian 12 or on npm, so this spec does its
-- checking: every file compiles as Lua, every annotation line parses, every type it
-- names is declared, each function's @param lines match its parameters, every catalog
-- endpoint, parameter and enum value is there, and the files are what the generator
-- makes from today's catalog (so they cannot fall out of date).
local core = require "alephant.core"
local annotations = require "scripts.annotations"

local DIR = "lua/alephant/types"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local BUILTIN = { string = true, integer = true, number = true, boolean = true, table = true, any = true,
  lightuserdata = true, ["nil"] = true, ["false"] = true, ["true"] = true, fun = true, T = true }

describe("editor annotations", function()
  local files = annotations.files(core.endpoints(), require("alephant.client").CALL_OPTIONS)

  it("are up to date with the catalog (make annotations)", function()
    for _, f in ipairs(files) do
      assert.equal(f[2], read(DIR .. "/" .. f[1]), f[1] .. " is out of date: run make annotations")
    end
    local p = io.popen("ls " .. DIR)
    local n = 0
    for name in p:lines() do
      if name:match("%.lua$") then n = n + 1 end
    end
    p:close()
    assert.equal(#files, n, "a file in " .. DIR .. " is no longer generated")
  end)

  it("compile as Lua and parse as annotations, naming only declared types", function()
    local declared, used = {}, {}
    for _, f in ipairs(files) do
      local path = DIR .. "/" .. f[1]
      assert(loadfile(path))
      local text = read(path)
      assert.matches("^%-%-%-@meta", text, f[1])
      local pending = {}
      for line in text:gmatch("[^\n]+") do
        local tag, rest = line:match("^%-%-%-@(%a+)%s*(.*)$")
        if tag == "class" then
          local name = assert(rest:match("^([%w_.]+)"), line)
          declared[name] = true
        elseif tag == "alias" then
          declared[assert(rest:match("^([%w_.]+)%s+%S"), line)] = true
        elseif tag == "field" then
          local ftype = rest:match("^[%a_][%w_]*%??%s+(%S+)") or rest:match("^%[string%]%s+(%S+)")
          assert(ftype, "bad @field: " .. line)
          used[#used + 1] = { ftype, line }
        elseif tag == "param" then
          local name, ptype = rest:match("^([%a_][%w_]*)%??%s+(%S+)")
          assert(name, "bad @param: " .. line)
          pending[#pending + 1] = name
          used[#used + 1] = { ptype, line }
        elseif tag == "return" then
          used[#used + 1] = { assert(rest:match("^(%S+)"), line), line }
        elseif tag and tag ~= "meta" and tag ~= "generic" then
          error("unknown annotation: " .. line)
        end
        local fn, params = line:match("^function ([%w_.:]+)%(([^)]*)%) end$")
        if fn then
          local names = {}
          for name in params:gmatch("[%a_][%w_]*") do names[#names + 1] = name end
          assert.same(names, pending, "the @param lines of " .. fn)
          pending = {}
        elseif line:match("^function") then
          error("a function stub must be one line with an empty body: " .. line)
        end
      end
    end
    for _, u in ipairs(used) do
      for name in u[1]:gmatch("alephant%.[%w_.]+") do
        assert(declared[name], "undeclared type " .. name .. " in: " .. u[2])
      end
      for word in u[1]:gsub('"[^"]*"', ""):gmatch("[%a_][%w_.]*") do
        assert(BUILTIN[word] or declared[word] or word:match("^alephant") or u[1]:find("{", 1, true)
          or u[1]:find("fun", 1, true), "unknown type " .. word .. " in: " .. u[2])
      end
    end
  end)

  it("cover every endpoint, parameter and enum value", function()
    local all = {}
    for _, f in ipairs(files) do all[#all + 1] = read(DIR .. "/" .. f[1]) end
    all = table.concat(all, "\n")
    local function has(s) return all:find(s, 1, true) ~= nil end
    for _, e in ipairs(core.endpoints()) do
      local method = e.name:match("%.(.+)$")
      assert(has(("function group:%s(params, opts) end"):format(method)), e.name)
      assert(has(("`%s %s`"):format(e.method, e.path)), e.name .. " path")
      for _, p in ipairs(e.params) do
        local line = all:match("\n(%-%-%-@field " .. p.name .. "%??[^\n]*)", all:find("@class alephant.params."
          .. e.name .. "\n", 1, true))
        assert(line, e.name .. "." .. p.name)
        assert.equal(not p.required, line:match("^%-%-%-@field [%w_]+(%?)") == "?", e.name .. "." .. p.name)
        assert(line:find(p.wire, 1, true), e.name .. "." .. p.name .. " wire name")
        for _, v in ipairs(p.values or {}) do
          local text = type(v) == "number" and ("%d"):format(v) or v
          assert(line:find(text, 1, true), e.name .. "." .. p.name .. " value " .. text)
        end
      end
      if e.paging then assert(has("function group:each"), e.name) end
    end
    for _, kind in ipairs({ "validation", "auth", "http", "network", "timeout" }) do
      assert(has('"' .. kind .. '"'), "error kind " .. kind)
    end
    for _, field in ipairs({ "kind", "message", "status", "code", "field", "request_id", "retryable", "endpoint" }) do
      assert(has("---@field " .. field), "error field " .. field)
    end
  end)
end)
