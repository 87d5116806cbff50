--- Output of the `alephant` command line: a result as a table, CSV or JSON (`--field`,
-- `--columns`), the reports as text with charts, and progress on a terminal.
-- @module alephant.cli.render
local core = require "alephant.core"
local chart = require "alephant.cli.chart"
local format = require "alephant.cli.format"
local args = require "alephant.cli.args"
local messages = require "alephant.cli.messages"

local usage = args.usage

local render = {}

local function money(v)
  if v == nil then return "-" end
  local s = string.format("%.2f", v)
  local int, frac = s:match("^(-?%d+)(%.%d+)$")
  int = int:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^(-?),", "%1")
  return "$" .. int .. frac
end

local function pct(v, signed)
  if v == nil then return "-" end
  return string.format(signed and "%+.1f%%" or "%.1f%%", v)
end

-- Selects a.b.c of data for --field.
local function select_field(data, path)
  local v = data
  for part in path:gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    local n = tonumber(part)
    v = v[part] ~= nil and v[part] or (n and v[n])
  end
  return v
end

local function object_lists(data)
  local names = {}
  if type(data) == "table" then
    for k, v in pairs(data) do
      if type(k) == "string" and format.is_rows(v) then names[#names + 1] = k end
    end
  end
  table.sort(names)
  return names
end

local function emit(ctx, data, opts)
  local f = ctx.format
  if f == "json" then
    ctx.stdout:write(messages.json(ctx, format.json(data, { compact = ctx.global.compact })), "\n")
  elseif f == "csv" then
    local text, why = format.csv(data, { columns = opts and opts.columns or ctx.columns })
    if not text then
      local lists = object_lists(data)
      local pick = #lists > 0 and ("pick a list with --field (" .. table.concat(lists, ", ") .. ") or ") or ""
      return usage("%s: %suse --format json or table", why, pick)
    end
    ctx.stdout:write(messages.scrub(ctx, text)) -- data for files and pipes: as received, secrets aside
  else
    ctx.stdout:write(messages.show(ctx, format.table(data, { columns = ctx.columns, utf8 = ctx.utf8,
      max_cell = opts and opts.max_cell }), "lines"), "\n")
  end
  return nil
end

-- Progress on stderr for long scans, only on a terminal, at most ten updates a second.
local function progress_printer(ctx)
  if ctx.stderr_tty == nil then ctx.stderr_tty = ctx.isatty() end -- only for commands that scan
  if not ctx.stderr_tty then return nil end
  local last = -1
  local dots = ctx.utf8 and "…" or "..."
  return function(what, count, done)
    if done then
      ctx.stderr:write("\r\27[K")
      last = -1
      return
    end
    local now = core.monotonic()
    if now - last >= 0.1 then
      ctx.stderr:write(("\r\27[Kalephant: reading %s%s %d"):format(what, dots, count))
      last = now
    end
  end
end

-- --------------------------------------------------------- report output ----
local DIM_TITLES = { { "agents", "Top agents" }, { "members", "Top members" }, { "departments", "Top departments" },
  { "models", "Top models" } }

-- The column chart of a daily spend series (`{date, cost}` rows), one column a day
-- labelled MM-DD, in the terminal's width: lines of text.
function render.daily_chart(series, ctx)
  local values, labels = {}, {}
  for i, d in ipairs(series) do
    values[i] = d.cost
    labels[i] = d.date:sub(6)
  end
  return chart.columns(values, { labels = labels, width = ctx.width, height = 8, utf8 = ctx.utf8, format = money,
    unit = "days" })
end

local function costs_text(r, ctx)
  local out = {}
  local function add(s) out[#out + 1] = s end
  local heading = ("Spend %s .. %s (%d day%s)"):format(r.window.from, r.window.to, r.window.days,
    r.window.days == 1 and "" or "s")
  if r.source == "cockpit" then
    local who = r.entity and (("%s %s"):format(r.entity.type or "entity", r.entity.name or r.entity.id or "?"))
      or "an unbound key"
    heading = heading .. ", period " .. r.period .. ", " .. who .. " (virtual key)"
  elseif r.workspace_id then
    heading = heading .. ", workspace " .. r.workspace_id
  end
  add(heading)
  add("")
  add(("  Total     %s"):format(money(r.total)))
  local prev = r.previous or {}
  add(("  Previous  %s%s  (%s .. %s)"):format(r.source == "cockpit" and prev.total and "~" or "", money(prev.total),
    prev.from or "?", prev.to or "?"))
  local change
  if r.change_pct then change = pct(r.change_pct, true)
  elseif r.change_reason == "baseline_zero" then change = "n/a (nothing spent in the previous window)"
  else change = "n/a (not reported)" end
  add("  Change    " .. change)
  if r.degraded then add("  Note      degraded answer" .. (r.message and (": " .. r.message) or "")) end
  add("")
  add("Daily spend")
  for _, l in ipairs(render.daily_chart(r.daily, ctx)) do add(l) end
  for _, dim in ipairs(DIM_TITLES) do
    local rows = r.top[dim[1]]
    if rows then
      add("")
      if #rows == 0 then
        add(dim[2] .. ": none in this window")
      else
        local table_rows = {}
        local bar_w = math.max(math.min(ctx.width - 60, 20), 5)
        for _, row in ipairs(rows) do
          table_rows[#table_rows + 1] = { name = row.name, cost = money(row.cost), share = pct(row.share_pct),
            [""] = chart.bar((row.share_pct or 0) / 100, bar_w, { utf8 = ctx.utf8 }) }
        end
        add(dim[2] .. ":")
        add(format.table(table_rows, { columns = { "name", "cost", "share", "" }, utf8 = ctx.utf8,
          align = { cost = "right", share = "right" }, max_cell = 32 }))
      end
    end
  end
  return table.concat(out, "\n")
end

local KIND_NAMES = { virtual_key = "virtual key" }

local function budgets_text(r, ctx)
  local out = {}
  local what = r.period and (" (spend in %s .. %s)"):format(r.period.from or "?", r.period.to or "?") or ""
  out[1] = ("Budgets at or above %s of their limit: %d of %d%s"):format(pct(r.threshold * 100):gsub("%.0%%", "%%"),
    #r.items, r.checked, what)
  if #r.items == 0 then return out[1] end
  local rows = {}
  local bar_w = math.max(math.min(ctx.width - 80, 10), 5)
  for _, it in ipairs(r.items) do
    local notes = {}
    if it.window then notes[#notes + 1] = it.window end
    if it.basis == "lifetime" then notes[#notes + 1] = "lifetime spend" end
    if it.action then notes[#notes + 1] = it.action end
    if it.status and it.status ~= "active" and it.status ~= "ok" then notes[#notes + 1] = it.status end
    rows[#rows + 1] = { kind = KIND_NAMES[it.kind] or it.kind, name = it.name or it.id or "?", spent = money(it.spent),
      budget = money(it.budget), used = pct(it.used_pct),
      [""] = chart.bar(math.min(it.used_pct / 100, 1), bar_w, { utf8 = ctx.utf8 }) .. (it.used_pct > 100 and "!" or ""),
      notes = table.concat(notes, ", ") }
  end
  out[2] = ""
  out[3] = format.table(rows, { columns = { "kind", "name", "spent", "budget", "used", "", "notes" }, utf8 = ctx.utf8,
    align = { spent = "right", budget = "right", used = "right" }, max_cell = 64 })
  return table.concat(out, "\n")
end

local function idle_text(r, ctx)
  local out = { ("Active virtual keys with no usage since %s (%d days): %d of %d"):format(r.from, r.days, #r.items,
    r.checked) }
  if #r.items == 0 then return out[1] end
  local rows = {}
  local BASIS = { last_used_at = "its lastUsedAt", entity = "its %s has no usage", none = "unbound, no usage seen" }
  for _, it in ipairs(r.items) do
    local entity = it.entity_name or it.entity_id
    rows[#rows + 1] = { label = it.label or it.id, entity = entity and ((it.entity_type or "") .. " " .. entity) or "-",
      ["last used"] = it.last_used or "-", ["idle days"] = it.idle_days and tostring(it.idle_days) or "-",
      why = BASIS[it.basis] and BASIS[it.basis]:format(it.entity_type or "entity") or it.basis,
      created = it.created_at and it.created_at:sub(1, 10) or "-" }
  end
  out[2] = ""
  out[3] = format.table(rows, { columns = { "label", "entity", "last used", "idle days", "why", "created" },
    utf8 = ctx.utf8, align = { ["idle days"] = "right" }, max_cell = 32 })
  return table.concat(out, "\n")
end

local CSV_COLUMNS = {
  costs = { "dimension", "rank", "kind", "id", "name", "cost", "share_pct", "requests" },
  budgets = { "kind", "id", "name", "spent", "budget", "used_pct", "window", "action", "status", "basis" },
  ["idle-keys"] = { "id", "label", "entity_type", "entity_id", "entity_name", "last_used", "idle_days", "basis",
    "created_at" },
}

local function report_rows(name, r)
  if name ~= "costs" then return r.items or {} end
  local rows = {}
  for _, dim in ipairs(DIM_TITLES) do
    for _, row in ipairs(r.top[dim[1]] or {}) do
      local copy = { dimension = dim[1]:gsub("s$", "") }
      for k, v in pairs(row) do copy[k] = v end
      rows[#rows + 1] = copy
    end
  end
  return rows
end

local function emit_report(ctx, name, r)
  local field = ctx.global.field
  if field then
    local data = select_field(r, field)
    if data == nil then return usage("--field %s: the report has no such field", field) end
    return emit(ctx, data)
  end
  if ctx.format == "json" then return emit(ctx, r) end
  if ctx.format == "csv" then
    local views = require "alephant.cli.report_views" -- loaded here: it uses render's helpers
    ctx.stdout:write(messages.scrub(ctx, format.csv(report_rows(name, r), { columns = ctx.columns
      or CSV_COLUMNS[name] or views.CSV_COLUMNS[name] })))
    return nil
  end
  local view = require("alephant.cli.report_views").TEXT[name]
  local text = name == "costs" and costs_text(r, ctx) or name == "budgets" and budgets_text(r, ctx)
    or name == "idle-keys" and idle_text(r, ctx) or view(r, ctx)
  ctx.stdout:write(messages.show(ctx, text, "lines"), "\n")
  return nil
end

render.emit, render.emit_report = emit, emit_report
render.money, render.pct = money, pct
render.select_field, render.progress_printer = select_field, progress_printer

return render
