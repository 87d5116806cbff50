--- Iterators over paginated lists.
--
--     for key, err in client.virtual_keys:each{ status = "active" } do
--       if not key then error(tostring(err)) end   -- false, err on failure (once)
--       print(key.id)
--     end
--
-- On failure the iterator yields `false, err` once and then stops: a `nil` first value
-- would end a generic `for` silently and the body could never see the error.
-- @module alephant.paginate
local paginate = {}

local DEFAULT_PAGE_SIZE = { page = 100, offset = 100 }
local MAX_LIMIT = 200

-- The items of one page, whatever the envelope: an array, or the array under a known key.
local function items_of(data)
  if type(data) ~= "table" then return {} end
  if data[1] ~= nil then return data end
  for _, key in ipairs({ "data", "items", "rows", "keys", "agents", "members", "departments" }) do
    if type(data[key]) == "table" then return data[key] end
  end
  return {}
end

-- Whether another page exists after this one.
local function more_after(meta, count, size, seen)
  local p = meta and meta.pagination
  if type(p) == "table" then
    if p.hasMore ~= nil then return p.hasMore == true end
    if type(p.total) == "number" then return seen < p.total end
  end
  return count >= size
end

--- An iterator over every item of a paginated endpoint.
-- @tparam table client the client
-- @tparam string name the endpoint (its catalog entry says page/page_size or limit/offset)
-- @tparam string style "page" or "offset"
-- @tparam[opt] table params the endpoint's parameters (a starting page/offset is honoured)
-- @tparam[opt] table opts call options, plus `max_items`
function paginate.each(client, name, style, params, opts)
  local p = {}
  for k, v in pairs(params or {}) do p[k] = v end
  local max_items = opts and opts.max_items
  local size_key = style == "page" and "page_size" or "limit"
  local size = p[size_key] or DEFAULT_PAGE_SIZE[style]
  if style == "offset" then size = math.min(size, p.limit or MAX_LIMIT) end
  p[size_key] = size
  if style == "page" then p.page = p.page or 1 else p.offset = p.offset or 0 end
  local page, index, seen, done = nil, 0, 0, false
  local call_opts
  if opts then -- the call options without max_items, which is the iterator's own
    call_opts = {}
    for k, v in pairs(opts) do
      if k ~= "max_items" then call_opts[k] = v end
    end
  end
  return function()
    if done then return nil end
    if max_items and seen >= max_items then done = true return nil end
    if page == nil or index >= #page.items then
      if page and not page.more then done = true return nil end
      local data, err, meta = client:call(name, p, call_opts)
      if data == nil then
        done = true
        return false, err
      end
      local items = items_of(data)
      page = { items = items, more = #items > 0 and more_after(meta, #items, size, seen + #items) }
      index = 0
      if style == "page" then p.page = p.page + 1 else p.offset = p.offset + #items end
      if #items == 0 then done = true return nil end
    end
    index = index + 1
    seen = seen + 1
    return page.items[index]
  end
end

--- Collects every item into an array (at most `opts.max_items`).
-- @return array of items, or nil, err
function paginate.all(client, name, style, params, opts)
  local out = {}
  for item, err in paginate.each(client, name, style, params, opts) do
    if item == false then return nil, err end
    out[#out + 1] = item
  end
  return out
end

return paginate
