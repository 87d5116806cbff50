--- Charts drawn with text, for terminals: a column chart with a labelled axis, a
-- sparkline and a horizontal bar. Unicode block characters (`▁▂▃▄▅▆▇█`) when the
-- locale is UTF-8, plain ASCII (`#`) otherwise; every line fits the given width.
--
--     local chart = require "alephant.cli.chart"
--     local utf8 = chart.utf8()
--     for _, line in ipairs(chart.columns({ 1, 3, 2 }, { labels = { "a", "b", "c" }, utf8 = utf8 })) do
--       print(line)
--     end
--
-- @module alephant.cli.chart
local chart = {}

-- Eighths of a cell, bottom up (vertical) and left to right (horizontal).
local VBLOCKS = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" }
local HBLOCKS = { "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█" }
local ASCII_SPARK = { ".", ".", ":", "-", "=", "+", "*", "#" }

--- Whether the locale asks for UTF-8: the first set of `LC_ALL`, `LC_CTYPE`, `LANG`
-- (the POSIX precedence) names UTF-8.
-- @tparam[opt] function getenv a function like `os.getenv` (default `os.getenv`)
-- @treturn boolean
function chart.utf8(getenv)
  getenv = getenv or os.getenv
  for _, name in ipairs({ "LC_ALL", "LC_CTYPE", "LANG" }) do
    local v = getenv(name)
    if v and v ~= "" then
      local lower = v:lower()
      return lower:find("utf%-?8") ~= nil
    end
  end
  return false
end

--- The number of characters (code points) of a UTF-8 string: its width in a terminal
-- for the text this module draws.
-- @tparam string s
-- @treturn integer
function chart.width(s)
  local _, n = s:gsub("[^\128-\191]", "")
  return n
end

local function clean(v)
  if type(v) ~= "number" or v ~= v or v < 0 or v == math.huge then return 0 end
  return v
end

local function max_of(values)
  local m = 0
  for i = 1, #values do
    local v = clean(values[i])
    if v > m then m = v end
  end
  return m
end

--- A sparkline: one character per value, scaled to the largest.
-- @tparam {number,...} values non-negative numbers (anything else counts as 0)
-- @tparam[opt] table opts `utf8` (boolean: block characters, else ASCII `.:-=+*#`)
-- @treturn string
function chart.sparkline(values, opts)
  local glyphs = opts and opts.utf8 and VBLOCKS or ASCII_SPARK
  local top = max_of(values)
  local out = {}
  for i = 1, #values do
    local v = clean(values[i])
    local level = top > 0 and math.floor(v / top * 7 + 0.5) + 1 or 1
    out[i] = glyphs[level]
  end
  return table.concat(out)
end

--- A horizontal bar for a fraction of a width, in eighths of a character with UTF-8.
-- @tparam number fraction 0..1 (clamped)
-- @tparam integer width the width of a full bar in characters
-- @tparam[opt] table opts `utf8` (boolean)
-- @treturn string a string of at most `width` characters (no padding)
function chart.bar(fraction, width, opts)
  fraction = math.min(clean(fraction), 1)
  if opts and opts.utf8 then
    local eighths = math.floor(fraction * width * 8 + 0.5)
    local full, part = math.floor(eighths / 8), eighths % 8
    return string.rep(HBLOCKS[8], full) .. (part > 0 and HBLOCKS[part] or "")
  end
  return string.rep("#", math.floor(fraction * width + 0.5))
end

-- Sums consecutive values into buckets of `k`; each bucket keeps its first label.
local function bucket(values, labels, k)
  if k <= 1 then return values, labels end
  local v, l = {}, {}
  for i = 1, #values, k do
    local sum = 0
    for j = i, math.min(i + k - 1, #values) do sum = sum + clean(values[j]) end
    v[#v + 1] = sum
    l[#l + 1] = labels and labels[i]
  end
  return v, l
end

local function default_format(v)
  if v == math.floor(v) then return string.format("%d", v) end
  return string.format("%.2f", v)
end

--- A column chart with a labelled axis, one column per value, scaled to the largest.
-- When there are more values than columns fit, consecutive values are summed and the
-- chart says how many each column holds.
--
--     $3.12 ┤      █
--           │   ▃  █ ▅
--     $1.56 ┤ ▂ ██▆███
--           │▅████████
--     $0.00 ┼─────────
--            11-01 11-09
--
-- @tparam {number,...} values non-negative numbers (anything else counts as 0)
-- @tparam[opt] table opts `labels` (a string per value, the first and last are drawn
--   under the axis), `width` (the whole chart, default 80), `height` (rows, default 8),
--   `utf8` (boolean), `format` (function number -> string for the y axis),
--   `unit` (what a value is, for the bucket note, default "values")
-- @treturn {string,...} the lines of the chart
function chart.columns(values, opts)
  opts = opts or {}
  local width, height = opts.width or 80, opts.height or 8
  local format = opts.format or default_format
  local utf8 = opts.utf8
  -- The axis labels' width decides how many columns fit, which decides the buckets,
  -- whose sums decide the labels: settle it in a few rounds.
  local lw, k, cols, labels, top, ylabels, plot = 0, 1, nil, nil, nil, nil, nil
  for _ = 1, 3 do
    plot = math.max(width - lw - 2, 1)
    k = #values > plot and math.ceil(#values / plot) or 1
    cols, labels = bucket(values, opts.labels, k)
    top = max_of(cols)
    ylabels = { format(top), format(top / 2), format(0) }
    local w = 0
    for _, s in ipairs(ylabels) do w = math.max(w, #s) end
    if w == lw then break end
    lw = w
  end
  local n = #cols
  local cw = math.max(math.min(math.floor(plot / math.max(n, 1)), 3), 1) -- characters per column
  local bar_w = cw > 1 and cw - 1 or 1
  local full = utf8 and VBLOCKS[8] or "#"
  local axis = utf8 and { tick = "┤", line = "│", corner = "┼", rule = "─" }
    or { tick = "+", line = "|", corner = "+", rule = "-" }
  local lines = {}
  for row = height, 1, -1 do
    local label = ""
    if row == height then label = ylabels[1]
    elseif row == math.floor(height / 2 + 0.5) and height >= 4 then label = ylabels[2] end
    local cells = {}
    for i = 1, n do
      local v = clean(cols[i])
      local cell = " "
      if top > 0 then
        if utf8 then
          local eighths = math.floor(v / top * height * 8 + 0.5)
          local above = eighths - (row - 1) * 8
          if above >= 8 then cell = full elseif above > 0 then cell = VBLOCKS[above] end
        else
          local rows = math.floor(v / top * height + 0.5)
          if rows >= row then cell = full end
        end
      end
      cells[i] = string.rep(cell, bar_w) .. string.rep(" ", cw - bar_w)
    end
    local mark = label ~= "" and axis.tick or axis.line
    lines[#lines + 1] = (string.rep(" ", lw - #label) .. label .. " " .. mark .. table.concat(cells)):gsub("%s+$", "")
  end
  lines[#lines + 1] = string.rep(" ", lw - #ylabels[3]) .. ylabels[3] .. " " .. axis.corner
    .. string.rep(axis.rule, n * cw)
  if labels and labels[1] then
    local first, last = tostring(labels[1]), tostring(labels[n] or "")
    local span = n * cw
    local under = first
    if n > 1 and #first + #last + 1 <= span then
      under = first .. string.rep(" ", span - #first - #last) .. last
    end
    lines[#lines + 1] = string.rep(" ", lw + 2) .. under
  end
  if k > 1 then
    lines[#lines + 1] = string.rep(" ", lw + 2) .. ("(each column is %d %s)"):format(k, opts.unit or "values")
  end
  return lines
end

return chart
