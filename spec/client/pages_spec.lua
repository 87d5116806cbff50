-- Endless pagination: a real loopback server (spec/transport/server.lua) that answers
-- hasMore forever, with new items per page or the same page again. Iterators end with
-- an error instead of fetching forever; all() is bounded by max_items.
local alephant = require "alephant"
local paginate = require "alephant.paginate"
local server = require "spec.transport.server"
local fixtures = require "spec.support.fixtures"

describe("pagination against a server that pages forever #integration", function()
  local srv

  lazy_setup(function() srv = server.start() end)
  lazy_teardown(function() if srv then srv:stop() end end)

  local function client(mode)
    local base = srv.url .. "/paging/" .. mode
    return assert(alephant.new{ token = "pat_spec_paging_" .. string.rep("ab", 16),
      workspace_id = fixtures.WS,
      base_url = base, analytics_url = base, gateway_url = base, max_retries = 0, getenv = function() return nil end })
  end

  -- every value the iterator yields, errors included (false, err)
  local function drain(iter)
    local items, errs = {}, {}
    for item, err in iter do
      if item == false then errs[#errs + 1] = err else items[#items + 1] = item end
    end
    return items, errs
  end

  it("ends with a too_large error after max_pages", function()
    local items, errs = drain(client("forever").agents:each({ page_size = 2 }, { max_pages = 5 }))
    assert.equal(10, #items)
    assert.equal("item-5-b", items[10].id)
    assert.equal(1, #errs)
    assert.equal("too_large", errs[1].kind)
    assert.equal("max_pages", errs[1].field)
    assert.matches("agents%.list: still more pages after 5 %(max_pages%)", errs[1].message)
  end)

  it("applies a default max_pages", function()
    assert.is_true(paginate.max_pages >= 10000)
    local saved = paginate.max_pages
    paginate.max_pages = 7
    finally(function() paginate.max_pages = saved end)
    local items, errs = drain(client("forever").agents:each({ page_size = 2 }))
    assert.equal(14, #items)
    assert.equal("too_large", errs[1].kind)
  end)

  it("ends with a decode error when a page repeats the previous one (page and offset styles)", function()
    local items, errs = drain(client("same").agents:each({ page_size = 2 }))
    assert.equal(2, #items)
    assert.equal(1, #errs)
    assert.equal("decode", errs[1].kind)
    assert.matches("page 2 repeats the previous page", errs[1].message)
    items, errs = drain(client("same").collector:each_logs({ limit = 2 }))
    assert.equal(2, #items)
    assert.equal("decode", errs[1].kind)
    assert.matches("offset", errs[1].message)
  end)

  it("keeps the offsets, the repeat check and max_pages with prefetch", function()
    local function ids(iter)
      local items, errs = drain(iter)
      local out = {}
      for i, item in ipairs(items) do out[i] = item.id end
      return out, errs
    end
    -- offset style: the prefetched page's offset counts the previous page's items
    local got, errs = ids(client("forever").collector:each_logs({ limit = 2 }, { max_pages = 3, prefetch = true }))
    assert.same({ "item-0-a", "item-0-b", "item-2-a", "item-2-b", "item-4-a", "item-4-b" }, got)
    assert.equal("too_large", errs[1].kind)
    got, errs = ids(client("forever").agents:each({ page_size = 2 }, { max_pages = 2, prefetch = true }))
    assert.same({ "item-1-a", "item-1-b", "item-2-a", "item-2-b" }, got)
    assert.equal("max_pages", errs[1].field)
    -- a prefetched page that repeats the previous one ends the loop as without prefetch
    for _, iter in ipairs({ client("same").agents:each({ page_size = 2 }, { prefetch = true }),
      client("same").collector:each_logs({ limit = 2 }, { prefetch = true }) }) do
      got, errs = ids(iter)
      assert.same({ "same-a", "same-b" }, got)
      assert.equal(1, #errs)
      assert.equal("decode", errs[1].kind)
      assert.matches("2 repeats the previous page", errs[1].message)
    end
  end)

  it("bounds all() by a default max_items, and stops at an explicit one", function()
    assert.is_true(paginate.max_items >= 100000)
    local saved = paginate.max_items
    paginate.max_items = 9
    finally(function() paginate.max_items = saved end)
    local all, err = client("forever").agents:all({ page_size = 2 })
    paginate.max_items = saved -- the explicit max_items below, against the default again
    assert.is_nil(all)
    assert.equal("too_large", err.kind)
    assert.equal("max_items", err.field)
    assert.matches("more than 9 items", err.message)
    all = assert(client("forever").agents:all({ page_size = 2 }, { max_items = 7 }))
    assert.equal(7, #all)
    all, err = client("forever").agents:all({ page_size = 2 }, { max_pages = 3 })
    assert.is_nil(all)
    assert.equal("too_large", err.kind)
    assert.equal("max_pages", err.field)
  end)

  it("refuses max_items and max_pages that are not whole numbers of at least 1", function()
    for _, bad in ipairs({ 0, -1, 1.5, 0 / 0 }) do
      local items, errs = drain(client("forever").agents:each(nil, { max_pages = bad }))
      assert.equal(0, #items)
      assert.equal("validation", errs[1].kind)
      assert.equal("max_pages", errs[1].field)
      local all, err = client("forever").agents:all(nil, { max_items = bad })
      assert.is_nil(all)
      assert.equal("max_items", err.field)
    end
    assert.has_error(function() client("forever").agents:each(nil, { max_pages = "5" }) end,
      "alephant: call option 'max_pages' must be a number")
  end)
end)
