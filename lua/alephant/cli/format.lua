--- Renders API results as text: aligned tables, CSV (RFC 4180) and JSON with a
-- deterministic key order. Used by the command line; plain functions of Lua tables.
--
--     local format = require "alephant.cli.format"
--     print(format.table({ { id = "a", cost = 1.5 }, { id = "b", cost = 2 } }))
--     print(format.csv(rows))             -- nil, message when rows is not a list of objects
--     print(format.json(data))            -- pretty; format.json(data, { compact = true })
--
-- @module alephant.cli.format
local core = require "alephant.core"
local chart = require "alephant.cli.chart"
local util = require "alephant.util"

local format = {}

local math_type = rawget(math, "type") -- Lua 5.3+: integers print in full

-- Columns that read best first, in this order; the rest follow sorted.
local PREFERRED = { "id", "name", "label", "date", "dimension", "model", "kind", "status" }

local function is_array(t)
  if type(t) ~= "table" then return false end
  if getmetatable(t) == core.array_mt then return true end
  if next(t) == nil then return false end
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" then return false end
    n = n + 1
  end
  return n == #t
end

local function is_object(t)
  return type(t) == "table" and not is_array(t) and getmetatable(t) ~= core.array_mt
end

--- True when `v` is a non-empty list whose items are all objects (tables with string keys).
-- @param v any value
-- @treturn boolean
function format.is_rows(v)
  if not is_array(v) or #v == 0 then return false end
  for i = 1, #v do
    if not is_object(v[i]) then return false end
  end
  return true
end

--- Compact JSON, keys in byte order (the C encoder sorts them).
-- @param v any value the encoder accepts
-- @treturn string
function format.compact(v)
  local s = core.json_encode(v, "result")
  if s == nil then return tostring(v) end
  return s
end

-- Re-indents compact JSON, two spaces per level; strings are copied untouched.
local function indent(s)
  local out, depth, i, n = {}, 0, 1, #s
  local function newline() out[#out + 1] = "\n" .. string.rep("  ", depth) end
  while i <= n do
    local c = s:sub(i, i)
    if c == '"' then
      local j = i + 1
      while true do
        local q = s:find('["\\]', j)
        if not q then j = n break end
        if s:sub(q, q) == "\\" then j = q + 2 else j = q break end
      end
      out[#out + 1] = s:sub(i, j)
      i = j
    elseif c == "{" or c == "[" then
      local close = c == "{" and "}" or "]"
      if s:sub(i + 1, i + 1) == close then
        out[#out + 1] = c .. close
        i = i + 1
      else
        out[#out + 1] = c
        depth = depth + 1
        newline()
      end
    elseif c == "}" or c == "]" then
      depth = depth - 1
      newline()
      out[#out + 1] = c
    elseif c == "," then
      out[#out + 1] = ","
      newline()
    elseif c == ":" then
      out[#out + 1] = ": "
    else
      out[#out + 1] = c
    end
    i = i + 1
  end
  return table.concat(out)
end

--- JSON text of a value: pretty (two-space indent) unless `opts.compact`; keys sorted.
-- @param v the value
-- @tparam[opt] table opts `compact` (boolean)
-- @treturn string
function format.json(v, opts)
  local s = format.compact(v)
  if opts and opts.compact then return s end
  return indent(s)
end

--- The text of one cell: scalars as they are (integral numbers without a fraction),
-- `null` for JSON null, tables as compact JSON.
-- @param v any value
-- @treturn string
function format.cell(v)
  local t = type(v)
  if v == nil then return "" end
  if v == core.null then return "null" end
  if t == "number" then
    if math_type and math_type(v) == "integer" then return tostring(v) end
    if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%d", v) end
    return string.format("%.12g", v)
  end
  if t == "table" then return format.compact(v) end
  return tostring(v)
end

-- The text of a cell or a name in a table for a terminal: control characters from the
-- data (ESC, OSC, BEL, C1, line ends) escaped, so a cell stays one line and inert.
local function shown(v)
  return core.printable(format.cell(v))
end

-- Cuts a cell to `max` characters, marking the cut.
local function shorten(s, max, utf8)
  if chart.width(s) <= max then return s end
  local mark = utf8 and "…" or "..."
  local keep, count, i = max - chart.width(mark), 0, 1
  while i <= #s and count < keep do
    local b = s:byte(i)
    i = i + (b >= 0xF0 and 4 or b >= 0xE0 and 3 or b >= 0xC0 and 2 or 1)
    count = count + 1
  end
  return s:sub(1, i - 1) .. mark
end

--- Pads a string with spaces to `w` characters (UTF-8 aware); never cuts.
-- @tparam string s
-- @tparam integer w the width
-- @tparam[opt] boolean right pad on the left, aligning the text right
-- @treturn string
function format.pad(s, w, right)
  local gap = string.rep(" ", math.max(w - chart.width(s), 0))
  return right and gap .. s or s .. gap
end
local pad = format.pad

--- The columns of a list of objects: `opts.columns` if given, else the keys of every
-- row, the usual identifying ones (`id`, `name`, `label`, `date`, ...) first, the rest sorted.
-- @tparam table rows a list of objects
-- @tparam[opt] table opts `columns` (list of names)
-- @treturn {string,...}
function format.columns(rows, opts)
  if opts and opts.columns then return opts.columns end
  local seen, cols = {}, {}
  for _, row in ipairs(rows) do
    for k in pairs(row) do seen[k] = true end
  end
  for _, k in ipairs(PREFERRED) do
    if seen[k] then
      cols[#cols + 1] = k
      seen[k] = nil
    end
  end
  local rest = {}
  for k in pairs(seen) do rest[#rest + 1] = k end
  table.sort(rest)
  for _, k in ipairs(rest) do cols[#cols + 1] = k end
  return cols
end

local function rows_table(rows, opts)
  local cols = format.columns(rows, opts)
  local max_cell = opts.max_cell or 40
  local cells, widths, numeric = {}, {}, {}
  local names = {}
  for c, name in ipairs(cols) do
    names[c] = shown(name)
    widths[c] = chart.width(names[c])
    numeric[c] = true
  end
  for r, row in ipairs(rows) do
    cells[r] = {}
    for c, name in ipairs(cols) do
      local v = row[name]
      if v ~= nil and type(v) ~= "number" then numeric[c] = false end
      local s = shorten(shown(v), max_cell, opts.utf8)
      cells[r][c] = s
      widths[c] = math.max(widths[c], chart.width(s))
    end
  end
  local lines = {}
  local right = {}
  for c, name in ipairs(cols) do
    local a = opts.align and opts.align[name]
    right[c] = a == "right" or (a == nil and numeric[c])
  end
  local head = {}
  for c in ipairs(cols) do head[c] = pad(names[c], widths[c], right[c]) end
  lines[1] = (table.concat(head, "  "):gsub("%s+$", ""))
  for r = 1, #rows do
    local line = {}
    for c = 1, #cols do line[c] = pad(cells[r][c], widths[c], right[c]) end
    lines[#lines + 1] = (table.concat(line, "  "):gsub("%s+$", ""))
  end
  return table.concat(lines, "\n")
end

local sorted_keys = util.sorted_keys

--- Text for a terminal: a list of objects as aligned columns (numbers right-aligned);
-- an object as `key  value` lines, each of its fields that is a list of objects as a
-- table under the field's name; nested values as compact JSON cut to `max_cell`.
-- @param data the value
-- @tparam[opt] table opts `columns` (names, for lists), `utf8` (boolean, for the cut
--   mark), `max_cell` (characters, default 40), `align` (column name -> `"right"` or
--   `"left"`; numbers are right-aligned by default)
-- @treturn string (without a final newline)
function format.table(data, opts)
  opts = opts or {}
  if format.is_rows(data) then return rows_table(data, opts) end
  if is_array(data) or (type(data) == "table" and next(data) == nil) then
    if #data == 0 then return "(no rows)" end
    local lines = {}
    for i = 1, #data do lines[i] = shown(data[i]) end
    return table.concat(lines, "\n")
  end
  if type(data) ~= "table" then return shown(data) end
  local keys = sorted_keys(data)
  local scalars, lists, kw = {}, {}, 0
  for _, k in ipairs(keys) do
    if format.is_rows(data[k]) then
      lists[#lists + 1] = k
    else
      scalars[#scalars + 1] = k
      kw = math.max(kw, chart.width(shown(k)))
    end
  end
  local out = {}
  for _, k in ipairs(scalars) do
    local v = data[k]
    local s = shown(v)
    if type(v) == "table" then s = shorten(s, opts.max_cell and opts.max_cell * 2 or 80, opts.utf8) end
    out[#out + 1] = (pad(shown(k), kw) .. "  " .. s):gsub("%s+$", "")
  end
  for _, k in ipairs(lists) do
    if #out > 0 then out[#out + 1] = "" end
    out[#out + 1] = shown(k) .. ":"
    out[#out + 1] = rows_table(data[k], { utf8 = opts.utf8, max_cell = opts.max_cell })
  end
  return table.concat(out, "\n")
end

local function csv_field(s)
  if s:find('[",\r\n]') then return '"' .. s:gsub('"', '""') .. '"' end
  return s
end

--- CSV (RFC 4180: CRLF line ends, fields with `,` `"` CR or LF quoted, quotes doubled)
-- of a list of objects, with a header row; nested values as compact JSON. An empty
-- list gives only the header when `opts.columns` names the columns, else nothing.
-- @param data a list of objects
-- @tparam[opt] table opts `columns` (list of names)
-- @treturn string
-- @return[2] nil
-- @return[2] string why `data` cannot be CSV
function format.csv(data, opts)
  if type(data) == "table" and next(data) == nil then
    if not (opts and opts.columns) then return "" end
    data = {}
  elseif not format.is_rows(data) then
    local what = type(data) == "table" and (is_array(data) and "a list of values" or "an object") or type(data)
    return nil, "csv needs a list of objects, this result is " .. what
  end
  local cols = format.columns(data, opts)
  local lines = {}
  local head = {}
  for c, name in ipairs(cols) do head[c] = csv_field(name) end
  lines[1] = table.concat(head, ",")
  for _, row in ipairs(data) do
    local line = {}
    for c, name in ipairs(cols) do line[c] = csv_field(format.cell(row[name])) end
    lines[#lines + 1] = table.concat(line, ",")
  end
  return table.concat(lines, "\r\n") .. "\r\n"
end

return format
