-- One owner per rule: a report's options are declared once, by the report module
-- (`alephant.reports.options`). For every limited option of every report, the value just
-- past its limit (read from that declaration) is refused by the library and by the
-- command line with the same message, the help shows the same limit, and nothing is sent.
local reports = require "alephant.reports"
local options = require "alephant.reports.options"
local report_args = require "alephant.cli.report_args"
local emulator = require "spec.support.emulator"
local command = require "spec.support.cli"

local function dash(s) return (s:gsub("_", "-")) end

-- The limited options of a declaration: { option, a bad value, the limit as the help shows
-- it, the limit as the core's message says it }.
local function limited(decl)
  local out = {}
  for _, o in ipairs(decl) do
    if o.cli ~= false and o.type == "integer" and o.values then
      local top = o.values[1]
      for _, v in ipairs(o.values) do top = math.max(top, v) end
      local words = "one of " .. table.concat(o.values, ", ")
      out[#out + 1] = { o, top + 1, words, words }
    elseif o.cli ~= false and o.type == "integer" and o.max then
      local between = ("between %d and %d"):format(o.min, o.max)
      out[#out + 1] = { o, o.max + 1, ("%d..%d"):format(o.min, o.max), between }
      out[#out + 1] = { o, o.min - 1, ("%d..%d"):format(o.min, o.max), between }
    elseif o.cli ~= false and o.type == "string" and o.max then
      out[#out + 1] = { o, ("x"):rep(o.max + 1), ("%d..%d characters"):format(o.min, o.max),
        ("at most %d characters"):format(o.max) }
    end
  end
  return out
end

describe("report options: one declaration for the library and the command line #integration", function()
  local emu = emulator.session()

  it("covers every report, and most of them have limits", function()
    local n = 0
    for _, name in ipairs(report_args.ORDER) do
      local decl = options.of(report_args.REPORTS[name].options)
      assert.is_table(decl, name)
      n = n + #limited(decl)
    end
    assert.is_true(n >= 15, "limited options found: " .. n)
  end)

  for _, name in ipairs(report_args.ORDER) do
    local spec = report_args.REPORTS[name]
    local decl = options.of(spec.options)
    for _, case in ipairs(limited(decl)) do
      local o, bad, limit, words = case[1], case[2], case[3], case[4]
      local shown = #tostring(bad) > 10 and ("a text of " .. #bad) or tostring(bad)
      it(("%s --%s %s: the same refusal, limit %s"):format(name, dash(o.name), shown, limit), function()
        local token = spec.actions and "pat_admin" or "pat_read"
        local fn = reports[decl.report] -- the library's name of the report (set's for budget-policy)
        local r, err = fn(emu:client(token), { [o.name] = bad })
        assert.is_nil(r)
        assert.equal("validation", err.kind)
        assert.equal(o.name, err.field)
        assert.equal(o.name .. " must be ", err.message:sub(1, #o.name + 9))
        assert.truthy(err.message:find(words, 1, true), err.message)

        local argv = { "report", name }
        if spec.actions then argv[#argv + 1] = "set" end
        argv[#argv + 1] = "--" .. dash(o.name)
        argv[#argv + 1] = tostring(bad)
        local code, out, stderr = command.run(argv, command.env(emu, token))
        assert.equal(2, code, stderr)
        assert.equal("", out)
        assert.equal("alephant validation error: --" .. dash(o.name) .. err.message:sub(#o.name + 1) .. "\n", stderr)
        assert.equal(0, #emu:requests())

        local _, help = command.run({ "report", name, "--help" }, {})
        local line = help:match("\n  %-%-" .. dash(o.name):gsub("%-", "%%-") .. " [^\n]*")
        assert.truthy(line and line:find("; " .. limit .. ";", 1, true), line)
      end)
    end
  end
end)
