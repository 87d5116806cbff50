--- What every report does the same way: scanning a list endpoint page after page, and
-- sending independent calls together (their options: `alephant.reports.options`).
-- @module alephant.reports.common
local common = {}

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

common.scan, common.together = scan, together

return common
