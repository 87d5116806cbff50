--- Iterators over paginated lists.
--
--     for key, err in client.virtual_keys:each{ status = "active" } do
--       if not key then error(tostring(err)) end   -- false, err on failure (once)
--       print(key.id)
--     end
--
-- On failure the iterator yields `false, err` once and then stops: a `nil` first value
-- would end a generic `for` silently and the body could never see the error.
--
-- A server that pages forever cannot keep an iterator going: a page whose items are
-- the same as the previous page's ends it with a `decode` error, and so does reaching
-- `max_pages` (a call option, default `paginate.max_pages`) with a `too_large` error.
-- `all()` collects at most `max_items` (default `paginate.max_items`): past the
-- default it fails with `too_large`; an explicit `max_items` just stops there.
--
-- `prefetch = true` (a call option of `each`/`all`, default false) sends the request for
-- the next page as soon as a page is accepted and another is due, and takes its answer
-- when the iterator needs that page: the server's time overlaps the loop body's work.
-- A prefetched request counts against rate limits even when the loop stops before its
-- page (hence opt-in). It is a call like any other (`alephant.started`: validation,
-- hooks, rate limiter, deadline from its start, retries once its answer is taken); only
-- the built-in libcurl transport can start one (with a custom `transport`, in
-- `alephant.ngx` or with `client:around` layers, `prefetch` is accepted and not used).
-- An iterator left early cancels its prefetched request: on Lua 5.4 through the
-- to-be-closed value it returns for the generic `for` (a `break`, an error), on every
-- interpreter when the iterator is collected and when the client is closed.
-- @module alephant.paginate
local core = require "alephant.core"
local errors = require "alephant.errors"
local started = require "alephant.started"

local paginate = {}

--- Pages one iteration may fetch unless the call says otherwise (1,000,000 items at
-- the default page size: more than any real workspace list).
paginate.max_pages = 10000
--- Items `all()` collects unless the call says otherwise.
paginate.max_items = 100000

local DEFAULT_PAGE_SIZE = { page = 100, offset = 100 }

local LIST_KEYS = { "data", "items", "rows", "keys", "agents", "members", "departments" }

--- The list inside a payload, whatever the envelope: the payload itself when it is an
-- array, else the first table under `keys` (default: data, items, rows, keys, agents,
-- members, departments), else an empty table. The one list unwrapper (reports use it).
-- @param data a decoded payload
-- @tparam[opt] table keys the keys to look under, in order
-- @treturn table the list
function paginate.list_of(data, keys)
  if type(data) ~= "table" then return {} end
  if data[1] ~= nil then return data end
  for _, key in ipairs(keys or LIST_KEYS) do
    if type(data[key]) == "table" then return data[key] end
  end
  return {}
end

-- A whole, positive integer option (max_items, max_pages), or a validation error.
local function count_option(name, opts, key)
  local v = opts and opts[key]
  if v ~= nil and type(v) ~= "number" then -- a wrong type is a programmer error, as for every call option
    error(("alephant: call option '%s' must be a number"):format(key), 4)
  end
  if v == nil or v >= 1 and v == math.floor(v) then
    return true
  end
  return nil, errors.new("validation", ("%s: call option '%s' must be a whole number of at least 1, got %s")
    :format(name, key, tostring(v)), { field = key, endpoint = name })
end

-- `prefetch`: a boolean, or nil.
local function flag_option(opts, key)
  local v = opts and opts[key]
  if v ~= nil and type(v) ~= "boolean" then
    error(("alephant: call option '%s' must be a boolean"):format(key), 4)
  end
  return v == true
end

-- The generic `for`'s closing value (Lua 5.4): closing it cancels the iterator's
-- prefetched request. LuaJIT ignores a 4th value (there the collector does it).
local CLOSER = { __close = function(self) self.cancel() end }
local closing = _VERSION == "Lua 5.4"

-- What identifies a page's content, to notice a server that serves the same page again.
local function fingerprint(items)
  local text = core.json_encode(items)
  return text or tostring(#items)
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
-- @tparam[opt] table opts call options, plus `max_items`, `max_pages` and `prefetch`
-- @return the iterator (on Lua 5.4 also nil, nil and a to-be-closed value, with `prefetch`)
function paginate.each(client, name, style, params, opts)
  local p = {}
  for k, v in pairs(params or {}) do p[k] = v end
  local prefetch = flag_option(opts, "prefetch")
  local ok, verr = count_option(name, opts, "max_items")
  if ok then ok, verr = count_option(name, opts, "max_pages") end
  if not ok then
    local reported = false
    return function()
      if reported then return nil end
      reported = true
      return false, verr
    end
  end
  local max_items = opts and opts.max_items
  local max_pages = opts and opts.max_pages or paginate.max_pages
  local size_key = style == "page" and "page_size" or "limit"
  local size = p[size_key] or DEFAULT_PAGE_SIZE[style]
  p[size_key] = size
  if style == "page" then p.page = p.page or 1 else p.offset = p.offset or 0 end
  local page, index, seen, done, pages, last = nil, 0, 0, false, 0, nil
  local ahead -- the next page's started call (prefetch), or nil
  local call_opts
  if opts then -- the call options without the iterator's own
    call_opts = {}
    for k, v in pairs(opts) do
      if k ~= "max_items" and k ~= "max_pages" and k ~= "prefetch" then call_opts[k] = v end
    end
  end
  local function cancel()
    local a = ahead
    ahead = nil
    if a then a:cancel() end
  end
  local function fail(err)
    done = true
    cancel()
    return false, err
  end
  local function iterate()
    if done then return nil end
    if max_items and seen >= max_items then done = true cancel() return nil end
    if page == nil or index >= #page.items then
      if page and not page.more then done = true return nil end
      if pages >= max_pages then
        return fail(errors.new("too_large", ("%s: still more pages after %d (max_pages): the list is larger "
          .. "than expected or the server pages forever; pass max_pages to go further"):format(name, pages),
          { endpoint = name, field = "max_pages", pages = pages }))
      end
      local data, err, meta
      if ahead then
        local a = ahead
        ahead = nil
        data, err, meta = a:finish()
      else
        data, err, meta = client:call(name, p, call_opts)
      end
      if data == nil then return fail(err) end
      pages = pages + 1
      local items = paginate.list_of(data)
      local print = #items > 0 and fingerprint(items)
      if print and print == last then
        return fail(errors.new("decode", ("%s: page %d repeats the previous page (same items): the server "
          .. "ignores the %s parameter; stopped instead of fetching forever"):format(name, pages,
          style == "page" and "page" or "offset"), { endpoint = name, pages = pages,
          request_id = meta and meta.request_id }))
      end
      last = print
      page = { items = items, more = #items > 0 and more_after(meta, #items, size, seen + #items) }
      index = 0
      if style == "page" then p.page = p.page + 1 else p.offset = p.offset + #items end
      if #items == 0 then done = true return nil end
      -- the next page's request goes out now, if one is due and allowed
      if prefetch and page.more and pages < max_pages and not (max_items and seen + #items >= max_items) then
        ahead = started.start(client, name, p, call_opts)
      end
    end
    index = index + 1
    seen = seen + 1
    return page.items[index]
  end
  if prefetch and closing then return iterate, nil, nil, setmetatable({ cancel = cancel }, CLOSER) end
  return iterate
end

--- Collects every item into an array: at most `opts.max_items` (then it stops there),
-- or `paginate.max_items` when the call gives none (then more items is a `too_large`
-- error: pass `max_items`, or iterate with `each`). `prefetch` is passed on to `each`;
-- it gains little here: between two pages `all()` has no work of its own to overlap.
-- @return array of items, or nil, err
function paginate.all(client, name, style, params, opts)
  local out = {}
  local bounded = opts and opts.max_items ~= nil
  local limit = paginate.max_items
  if not bounded then
    local with = { max_items = limit + 1 }
    for k, v in pairs(opts or {}) do with[k] = v end
    opts = with
  end
  for item, err in paginate.each(client, name, style, params, opts) do
    if item == false then return nil, err end
    if not bounded and #out >= limit then
      return nil, errors.new("too_large", ("%s: more than %d items (the default max_items of all()): pass "
        .. "max_items, or iterate with each()"):format(name, limit), { endpoint = name, field = "max_items" })
    end
    out[#out + 1] = item
  end
  return out
end

return paginate
