-- alephant.cli.chart: text charts for the terminal, Unicode or ASCII, within a width.
local chart = require "alephant.cli.chart"

local function env(t)
  return function(name) return t[name] end
end

describe("chart.utf8", function()
  it("follows LC_ALL, then LC_CTYPE, then LANG", function()
    assert.is_true(chart.utf8(env{ LANG = "en_US.UTF-8" }))
    assert.is_true(chart.utf8(env{ LANG = "C.utf8" }))
    assert.is_false(chart.utf8(env{ LANG = "C" }))
    assert.is_false(chart.utf8(env{}))
    assert.is_false(chart.utf8(env{ LC_ALL = "C", LANG = "en_US.UTF-8" }))
    assert.is_true(chart.utf8(env{ LC_CTYPE = "de_DE.UTF-8", LANG = "C" }))
    assert.is_true(chart.utf8(env{ LC_ALL = "", LC_CTYPE = "", LANG = "C.UTF-8" }))
  end)
end)

describe("chart.sparkline", function()
  it("scales to the largest value with block characters", function()
    assert.equal("▁▂▃▄▅▆▇█", chart.sparkline({ 0, 1, 2, 3, 4, 5, 6, 7 }, { utf8 = true }))
    assert.equal("▁▁▁", chart.sparkline({ 0, 0, 0 }, { utf8 = true }))
  end)

  it("falls back to ASCII and treats junk as zero", function()
    assert.equal("..:-=+*#", chart.sparkline({ 0, 1, 2, 3, 4, 5, 6, 7 }))
    assert.equal(".#.", chart.sparkline({ -5, 2, 0 / 0 }))
  end)
end)

describe("chart.bar", function()
  it("draws eighths of a character with UTF-8, whole characters in ASCII", function()
    assert.equal("█████", chart.bar(0.5, 10, { utf8 = true }))
    assert.equal("██▌", chart.bar(0.25, 10, { utf8 = true }))
    assert.equal("#####", chart.bar(0.5, 10))
    assert.equal("", chart.bar(0, 10))
    assert.equal(string.rep("#", 10), chart.bar(3, 10))
  end)
end)

describe("chart.columns", function()
  local values, labels = {}, {}
  for i = 1, 30 do
    values[i] = (i % 7) * 1.5
    labels[i] = ("11-%02d"):format(i)
  end

  it("draws a labelled axis in ASCII when the locale is not UTF-8 (columns up to 3 wide, 1 apart)", function()
    local lines = chart.columns({ 1, 2, 4 }, { labels = { "a", "b", "c" }, width = 40, height = 4 })
    assert.same({
      "4 +      ##",
      "  |      ##",
      "2 +   ## ##",
      "  |## ## ##",
      "0 +---------",
      "   a       c",
    }, lines)
  end)

  it("uses block characters with UTF-8, fractional tops included", function()
    local lines = chart.columns({ 1, 8 }, { height = 1, utf8 = true, width = 40 })
    assert.same({ "8 ┤▁▁ ██", "0 ┼──────" }, lines)
  end)

  it("stays within the width and keeps the first and last labels", function()
    for _, width in ipairs({ 40, 60, 80, 120 }) do
      for _, utf8 in ipairs({ true, false }) do
        local lines = chart.columns(values, { labels = labels, width = width, utf8 = utf8,
          format = function(v) return ("$%.2f"):format(v) end })
        for _, l in ipairs(lines) do
          assert.is_true(chart.width(l) <= width, ("%d > %d: %s"):format(chart.width(l), width, l))
        end
        assert.equal("$9.00", lines[1]:match("^%s*(%S+)"))
        assert.matches("11%-01", lines[#lines])
        assert.matches("11%-30$", lines[#lines])
      end
    end
  end)

  it("sums neighbouring values into one column when they do not fit, and says so", function()
    local many = {}
    for i = 1, 200 do many[i] = 1 end
    local lines = chart.columns(many, { width = 60, unit = "days" })
    assert.equal("(each column is 4 days)", lines[#lines]:match("%S.*$"))
    assert.matches("^4 %+", lines[1]) -- four days of 1 in each column
    for _, l in ipairs(lines) do assert.is_true(#l <= 60) end
  end)

  it("draws an empty chart for all-zero series", function()
    local lines = chart.columns({ 0, 0, 0 }, { height = 3 })
    assert.same({ "0 +", "  |", "  |", "0 +---------" }, lines)
  end)
end)
