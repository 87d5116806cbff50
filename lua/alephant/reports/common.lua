--- What every report does the same way: checking its options (programmer errors raise,
-- naming the report), scanning a list endpoint page after page, and sending independent
-- calls together.
-- @module alephant.reports.common
local common = {}

local function check_opts(fn, opts, known)
  if opts == nil then return {} end
  if type(opts) ~= "table" then error(("alephant.reports.%s: options must be a table"):format(fn), 3) end
  for k, v in pairs(opts) do
    local want = known[k]
    if not want then
      local names = {}
      for n in pairs(known) do names[#names + 1] = n end
      table.sort(names)
      error(("alephant.reports.%s: unknown option '%s' (known: %s)"):format(fn, tostring(k),
        table.concat(names, ", ")), 3)
    end
    if type(v) ~= want then error(("alephant.reports.%s: option '%s' must be a %s"):format(fn, k, want), 3) end
  end
  return opts
end

-- Scans a list endpoint, page after page (200 a page), reporting progress.
local function scan(client, group, params, what, progress)
  local out = {}
  local p = { page_size = 200 }
  for k, v in pairs(params or {}) do p[k] = v end
  for item, err in client[group]:each(p) do
    if item == false then return nil, err end
    out[#out + 1] = item
    if progress then progress(what, #out, false) end
  end
  if progress then progress(what, #out, true) end
  return out
end

-- Independent calls sent together (`client:batch`): the data of each, in order, and
-- whether any answer was degraded; or nil and the first error in call order.
local function together(client, calls)
  local out, degraded = {}, false
  for i, r in ipairs(client:batch(calls)) do
    if r.data == nil then return nil, r.err end
    if r.meta and r.meta.degraded then degraded = true end
    out[i] = r.data
  end
  return out, degraded
end

common.check_opts, common.scan, common.together = check_opts, scan, together

return common
