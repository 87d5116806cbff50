--- How `alephant report` draws the newer reports in a terminal (`TEXT`), and the
-- columns of their CSV (`CSV_COLUMNS`, rows from the report's `items`). JSON is the
-- report's table as it is. Charts where a picture beats a table: sparklines on the
-- dashboard, a column chart of the daily spend above the anomalies' table, bars for shares.
-- @module alephant.cli.report_views
local chart = require "alephant.cli.chart"
local format = require "alephant.cli.format"
local render = require "alephant.cli.render"

local money, pct = render.money, render.pct

local M = {}

M.CSV_COLUMNS = {
  dashboard = { "section", "metric", "value" },
  anomalies = { "date", "cost", "expected", "delta", "delta_pct", "score", "severity", "direction" },
  compare = { "metric", "current", "previous", "delta", "delta_pct" },
  ["drill-down"] = { "level", "department", "kind", "entity", "model", "cost", "share_pct" },
  idle = { "kind", "id", "name", "last_used", "idle_days", "basis" },
  ["budget-policy"] = { "field", "value", "before", "after", "changed" },
}

local function num_text(v)
  if v == nil then return "-" end
  if math.floor(v) == v and math.abs(v) < 1e15 then
    return (("%d"):format(v):reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^(-?),", "%1"))
  end
  return ("%.2f"):format(v)
end

local function share_rows(rows, ctx, name_key)
  local out = {}
  local bar_w = math.max(math.min(ctx.width - 60, 20), 5)
  for _, r in ipairs(rows) do
    out[#out + 1] = { name = r[name_key or "name"], cost = money(r.cost), requests = num_text(r.requests),
      share = pct(r.share_pct), [""] = chart.bar((r.share_pct or 0) / 100, bar_w, { utf8 = ctx.utf8 }) }
  end
  return format.table(out, { columns = { "name", "cost", "requests", "share", "" }, utf8 = ctx.utf8,
    align = { cost = "right", requests = "right", share = "right" }, max_cell = 40 })
end

local M_TEXT = {}
M.TEXT = M_TEXT

M_TEXT.dashboard = function(r, ctx)
  local o, l, s = r.overview, r.live, r.sparklines
  local out = {}
  local function add(x) out[#out + 1] = x end
  add(("Workspace %s .. %s"):format(o.from or "?", o.to or "?"))
  add(("  Spend %s   Requests %s   Tokens %s   Success %s   Latency %s ms"):format(money(o.total_cost),
    num_text(o.total_requests), num_text(o.total_tokens), pct(o.success_rate), num_text(o.avg_latency_ms)))
  add(("  Keys %s active of %s   Agents %s   Members %s   Departments %s"):format(num_text(o.active_virtual_keys),
    num_text(o.total_virtual_keys), num_text(o.total_agents), num_text(o.total_members),
    num_text(o.total_departments)))
  add("")
  add(("Last 24 hours (%s .. %s)"):format(l.from or "?", l.to or "?"))
  add(("  Spend %s   Requests %s   Tokens %s   Success %s   Latency %s ms"):format(money(l.cost),
    num_text(l.requests), num_text(l.tokens), pct(l.success_rate), num_text(l.avg_latency_ms)))
  add("")
  add(("7 days (%s .. %s)"):format(s.from or "?", s.to or "?"))
  local rows = {}
  for _, m in ipairs({ { "spend", money }, { "requests", num_text }, { "tokens", num_text },
    { "success", function(v) return pct(v) end }, { "latency", function(v) return num_text(v) .. " ms" end } }) do
    local values = s[m[1]] or {}
    rows[#rows + 1] = { metric = m[1], trend = chart.sparkline(values, { utf8 = ctx.utf8 }),
      last = values[#values] and m[2](values[#values]) or "-" }
  end
  add(format.table(rows, { columns = { "metric", "trend", "last" }, utf8 = ctx.utf8, align = { last = "right" } }))
  for _, t in ipairs({ { "top_models", "Top models, 24 h" }, { "top_keys", "Top keys, 24 h" } }) do
    add("")
    if #l[t[1]] == 0 then
      add(t[2] .. ": none")
    else
      add(t[2] .. ":")
      add(share_rows(l[t[1]], ctx))
    end
  end
  return table.concat(out, "\n")
end

M_TEXT.anomalies = function(r, ctx)
  local out = {}
  local function add(x) out[#out + 1] = x end
  local who = r.scope.kind == "workspace" and "the workspace" or (r.scope.kind .. " " .. r.scope.id)
  add(("Spend anomalies of %s, %s .. %s: %d day%s (baseline %d days, |score| >= %s)"):format(who, r.from, r.to,
    #r.items, #r.items == 1 and "" or "s", r.baseline, tostring(r.threshold)))
  add("")
  for _, l in ipairs(render.daily_chart(r.series, ctx)) do add(l) end
  if #r.items == 0 then return table.concat(out, "\n") end
  add("")
  local rows = {}
  for _, it in ipairs(r.items) do
    local drivers = {}
    for _, list in ipairs({ "models", "agents" }) do
      local top = it.drivers and it.drivers[list] and it.drivers[list][1]
      if top then drivers[#drivers + 1] = ("%s %s"):format(top.name, pct(top.share_pct)) end
    end
    rows[#rows + 1] = { date = it.date, spend = money(it.cost), expected = money(it.expected),
      change = it.delta_pct and pct(it.delta_pct, true) or "-", score = ("%.1f"):format(it.score),
      severity = it.severity, ["what drove it"] = #drivers > 0 and table.concat(drivers, "; ") or "-" }
  end
  add(format.table(rows, { columns = { "date", "spend", "expected", "change", "score", "severity", "what drove it" },
    utf8 = ctx.utf8, align = { spend = "right", expected = "right", change = "right", score = "right" },
    max_cell = 60 }))
  add("")
  add("score = (spend - median) / (1.4826 x MAD) of the " .. r.baseline .. " days before; " .. #r.items
    .. " of " .. #r.series .. " days")
  return table.concat(out, "\n")
end

local METRIC_TEXT = { cost = money, requests = num_text, tokens = num_text, errors = num_text,
  error_rate_pct = function(v) return pct(v) end, cost_per_request = function(v)
    return v and ("$%.4f"):format(v) or "-" end }

M_TEXT.compare = function(r, ctx)
  local out = {}
  local function add(x) out[#out + 1] = x end
  local who = r.scope.kind == "workspace" and "the workspace" or (r.scope.kind .. " " .. r.scope.id)
  add(("Compare %s: %s .. %s against %s .. %s"):format(who, r.current.from, r.current.to, r.previous.from,
    r.previous.to))
  add("")
  local rows = {}
  for _, it in ipairs(r.items) do
    local f = METRIC_TEXT[it.metric] or num_text
    rows[#rows + 1] = { metric = it.metric, current = f(it.current), previous = f(it.previous),
      change = it.delta_pct and pct(it.delta_pct, true) or "-" }
  end
  add(format.table(rows, { columns = { "metric", "current", "previous", "change" }, utf8 = ctx.utf8,
    align = { current = "right", previous = "right", change = "right" } }))
  add("")
  local function costs(list)
    local v = {}
    for i, d in ipairs(list) do v[i] = d.cost end
    return v
  end
  add("Daily spend  current  " .. chart.sparkline(costs(r.daily.current), { utf8 = ctx.utf8 }))
  add("             previous " .. chart.sparkline(costs(r.daily.previous), { utf8 = ctx.utf8 }))
  if r.models and #r.models > 0 then
    add("")
    add("Models:")
    local mrows = {}
    for _, m in ipairs(r.models) do
      mrows[#mrows + 1] = { model = m.name, current = money(m.current), previous = money(m.previous),
        change = m.delta_pct and pct(m.delta_pct, true) or (m.previous == 0 and "new" or "-") }
    end
    add(format.table(mrows, { columns = { "model", "current", "previous", "change" }, utf8 = ctx.utf8,
      align = { current = "right", previous = "right", change = "right" }, max_cell = 40 }))
  end
  return table.concat(out, "\n")
end

M_TEXT["drill-down"] = function(r, ctx)
  local out = {}
  local function add(x) out[#out + 1] = x end
  add(("Spend %s .. %s (%d days): %s"):format(r.from, r.to, r.days, money(r.total)))
  add("")
  add("Departments:")
  add(#r.departments > 0 and share_rows(r.departments, ctx) or "  none in this window")
  local d = r.department
  if d then
    add("")
    add(("%s: %s, %s of the workspace"):format(d.name or d.id, money(d.cost), pct(d.share_pct)))
    for _, kind in ipairs({ "agents", "members" }) do
      add("")
      add(kind:gsub("^%l", string.upper) .. " (share of the department; their models, share of each):")
      if #d[kind] == 0 then add("  none in this window") end
      for _, e in ipairs(d[kind]) do
        add(("  %s  %s  %s"):format(e.name, money(e.cost), pct(e.share_pct)))
        for _, m in ipairs(e.models or {}) do
          add(("      %-32s %10s  %6s  %s"):format(m.name, money(m.cost), pct(m.share_pct),
            chart.bar((m.share_pct or 0) / 100, 10, { utf8 = ctx.utf8 })))
        end
      end
    end
  end
  return table.concat(out, "\n")
end

M_TEXT.idle = function(r, ctx)
  local out = { ("No traffic since %s (%d days): %d of %d active agents, %d of %d active virtual keys"):format(
    r.from, r.days, #r.agents.items, r.agents.checked, #r.keys.items, r.keys.checked) }
  if #r.items == 0 then return out[1] end
  local WHY = { last_used_at = "last use", entity = "no usage in the window", none = "never seen in use" }
  local rows = {}
  for _, it in ipairs(r.items) do
    rows[#rows + 1] = { kind = it.kind == "virtual_key" and "key" or it.kind, name = it.name or it.id,
      ["last used"] = it.last_used or "-", ["idle days"] = it.idle_days and tostring(it.idle_days) or "-",
      why = WHY[it.basis] or it.basis }
  end
  out[2] = ""
  out[3] = format.table(rows, { columns = { "kind", "name", "last used", "idle days", "why" }, utf8 = ctx.utf8,
    align = { ["idle days"] = "right" }, max_cell = 40 })
  return table.concat(out, "\n")
end

local function value_text(v)
  if type(v) == "table" then
    local parts = {}
    for i, x in ipairs(v) do parts[i] = tostring(x) end
    return table.concat(parts, ",")
  end
  return v == nil and "-" or tostring(v)
end

M_TEXT["budget-policy"] = function(r, ctx)
  local rows = {}
  if r.before then
    for _, it in ipairs(r.items) do
      rows[#rows + 1] = { field = it.field, before = value_text(it.before), after = value_text(it.after),
        [""] = it.changed and "changed" or "unchanged" }
    end
    return ("Budget policy updated (version %s, attempt %d%s):\n\n"):format(value_text(r.version), r.attempts,
      r.conflicts > 0 and (", after " .. r.conflicts .. " concurrent edit" .. (r.conflicts > 1 and "s" or "")) or "")
      .. format.table(rows, { columns = { "field", "before", "after", "" }, utf8 = ctx.utf8 })
  end
  for _, it in ipairs(r.items) do rows[#rows + 1] = { field = it.field, value = value_text(it.value) } end
  return ("Budget policy (version %s, updated %s):\n\n"):format(value_text(r.version), value_text(r.updated_at))
    .. format.table(rows, { columns = { "field", "value" }, utf8 = ctx.utf8 })
end

return M
