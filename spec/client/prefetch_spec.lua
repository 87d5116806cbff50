-- each/all with `prefetch = true` against the emulator, over the real libcurl transport:
-- the next page's request reaches the server before the caller asks for that page (read
-- from the emulator's request log: orderings and counts, never durations), and every
-- rule of a single call still holds for it.
local emulator = require "spec.support.emulator"
local socket = require "socket"
local core = require "alephant.core"

describe("each/all with prefetch #integration", function()
  local emu = emulator.session()
  local WS = emu.ids.workspace_1
  local LIST = "^/api/v1/agents$"

  local function client(extra) return emu:client("pat_read", extra) end

  -- the workspace's agents, as the fixtures have them
  local total = 0
  for _, a in ipairs(emu.fixtures.agents) do
    if a.workspace_id == WS then total = total + 1 end
  end

  -- the page numbers the emulator received for the list, in arrival order
  local function pages_asked()
    local out = {}
    for _, r in ipairs(emu:requests(LIST)) do out[#out + 1] = tonumber(r.args.page) end
    return out
  end

  -- the log record of page n's request once it satisfies `ready` (waits at most 5 s)
  local function wait_for_page(n, ready)
    for _ = 1, 100 do
      for _, r in ipairs(emu:requests(LIST)) do
        if tonumber(r.args.page) == n and (not ready or ready(r)) then return r end
      end
      socket.sleep(0.05)
    end
    return nil
  end

  local function drain(iter, state, ctl, closing)
    local items, errs = {}, {}
    for item, err in iter, state, ctl, closing do
      if item == false then errs[#errs + 1] = err else items[#items + 1] = item.id end
    end
    return items, errs
  end

  it("yields the same items as without prefetch, asking for each page once", function()
    assert.is_true(total >= 3, "the fixtures need a few agents")
    local plain = drain(client().agents:each({ page_size = 1 }))
    local asked = pages_asked()
    emu:reset()
    local items, errs = drain(client().agents:each({ page_size = 1 }, { prefetch = true }))
    assert.same({}, errs)
    assert.equal(total, #items)
    assert.same(plain, items)
    assert.same(asked, pages_asked())
    emu:reset()
    local all = assert(client().agents:all({ page_size = 1 }, { prefetch = true }))
    local ids = {}
    for i, a in ipairs(all) do ids[i] = a.id end
    assert.same(plain, ids)
    assert.same(asked, pages_asked())
  end)

  it("sends the next page's request before the caller asks for that page", function()
    local c = client()
    local n = 0
    for item, err in c.agents:each({ page_size = 1 }, { prefetch = true }) do
      assert.is_table(item, tostring(err))
      n = n + 1
      -- still in page n's body: page n + 1 has reached the server already (the last page has no next)
      if n < total then assert.is_table(wait_for_page(n + 1), "page " .. (n + 1) .. " was not sent ahead") end
    end
    assert.equal(total, n)
    -- without prefetch nothing goes ahead: the same check fails
    emu:reset()
    local iter = c.agents:each({ page_size = 1 })
    assert.is_table(iter())
    assert.same({ 1 }, pages_asked())
  end)

  it("lets the server work on the next page while the caller works on this one", function()
    local c = client()
    local stalled = { headers = { ["X-Emulator-Fault"] = "stall=200" }, prefetch = true }
    local n = 0
    for item, err in c.agents:each({ page_size = 1 }, stalled) do
      assert.is_table(item, tostring(err))
      n = n + 1
      if n == 1 then -- page 2's answer is complete before the caller is done with page 1
        local r = wait_for_page(2, function(rec) return type(rec.status) == "number" end)
        assert.is_table(r, "page 2 was not answered during page 1's body")
        assert.equal(200, r.status)
        assert.equal("stall=200", r.fault)
      end
    end
    assert.equal(total, n)
  end)

  it("cancels the prefetched request when the loop breaks, and the client goes on", function()
    local c = client()
    local stalled = { headers = { ["X-Emulator-Fault"] = "stall=3000" }, prefetch = true }
    local function first() -- returns from inside the loop: its frame (and iterator) goes
      for item in c.agents:each({ page_size = 1 }, stalled) do -- luacheck: ignore 512
        return item
      end
    end
    if _VERSION == "Lua 5.4" then -- the generic for closes its 4th value: no collector needed
      collectgarbage("stop")
      finally(function() collectgarbage("restart") end)
    end
    assert.is_table(first())
    if _VERSION ~= "Lua 5.4" then -- LuaJIT: the collector cancels it
      collectgarbage()
      collectgarbage()
    end
    assert.is_table(wait_for_page(2), "page 2 was sent ahead")
    assert.is_table(assert(c.agents:list({ page_size = 1 })))
    -- nothing is left on the transport
    assert.same({ true, 0 }, { c._transport:close() })
  end)

  it("returns a to-be-closed value for the generic for on Lua 5.4 only, and only with prefetch", function()
    local c = client()
    assert.equal(1, select("#", c.agents:each({ page_size = 1 })))
    local n = select("#", c.agents:each({ page_size = 1 }, { prefetch = true }))
    assert.equal(_VERSION == "Lua 5.4" and 4 or 1, n)
  end)

  it("gives a closed client's error when the client is closed while a page is prefetched", function()
    local c = client()
    local got = {}
    for item, err in c.agents:each({ page_size = 1 }, { prefetch = true }) do
      got[#got + 1] = item == false and err or item
      if #got == 1 then c:close() end
    end
    assert.equal(2, #got)
    assert.equal("config", got[2].kind)
    assert.equal("agents.list: the client is closed; make a new one with alephant.new", got[2].message)
  end)

  it("yields a failing prefetched page's error once, after the previous page's items", function()
    -- page 1 takes a harmless armed fault, page 2 the 503 (the answer a first attempt gets)
    emu:arm({ fault = "stall=0", count = 1, path = "/api/v1/agents" })
    emu:arm({ fault = "status=503", count = 1, path = "/api/v1/agents" })
    local got = {}
    for item, err in client({ max_retries = 0 }).agents:each({ page_size = 1 }, { prefetch = true }) do
      got[#got + 1] = item == false and err or item.id
    end
    assert.equal(2, #got)
    assert.is_string(got[1])
    assert.equal("http", got[2].kind)
    assert.equal(503, got[2].status)
    assert.equal(1, got[2].attempts)
    assert.is_string(got[2].request_id)
    assert.same({ 1, 2 }, pages_asked())
  end)

  it("retries a failing prefetched page as a single call would", function()
    emu:arm({ fault = "stall=0", count = 1, path = "/api/v1/agents" })
    emu:arm({ fault = "status=503", count = 1, path = "/api/v1/agents" })
    local waits, seen = {}, {}
    local c = client({ max_retries = 2, sleep = function(s) waits[#waits + 1] = s end,
      on_response = function(info) seen[#seen + 1] = info.attempt .. ":" .. tostring(info.status) end })
    local items, errs = drain(c.agents:each({ page_size = 1 }, { prefetch = true }))
    assert.same({}, errs)
    assert.equal(total, #items)
    assert.equal(1, #waits) -- the backoff before page 2's second attempt
    local want = { "1:200", "1:503", "2:200" }
    for _ = 3, total do want[#want + 1] = "1:200" end
    assert.same(want, seen)
    local asked = pages_asked()
    assert.same({ 1, 2, 2 }, { asked[1], asked[2], asked[3] })
    assert.equal(total + 1, #asked)
  end)

  it("handles a prefetched page's 429 (Retry-After), 401 and invalid JSON as a single call would", function()
    -- page 1 takes a harmless armed fault, page 2 the one under test
    local function page2(fault, opts)
      emu:reset()
      emu:arm({ fault = "stall=0", count = 1, path = "/api/v1/agents" })
      emu:arm({ fault = fault, count = 1, path = "/api/v1/agents" })
      local waits = {}
      local c = client({ max_retries = 1, sleep = function(s) waits[#waits + 1] = s end })
      local got = {}
      for item, err in c.agents:each({ page_size = 1 }, opts or { prefetch = true }) do
        got[#got + 1] = item == false and err or item.id
        if item == false then break end
      end
      return got, waits, pages_asked()
    end
    local got, waits, asked = page2("429;retry-after=2")
    assert.equal(total, #got)
    assert.same({ 2 }, waits)
    assert.same({ 1, 2, 2 }, { asked[1], asked[2], asked[3] })
    for _, fault in ipairs({ "401;echo", "malformed" }) do
      local pgot, pwaits, pasked = page2(fault)
      local sgot, swaits, sasked = page2(fault, {}) -- without prefetch: the same outcome
      assert.equal(2, #pgot)
      assert.equal(sgot[1], pgot[1])
      assert.equal(sgot[2].kind, pgot[2].kind)
      assert.equal(sgot[2].message, pgot[2].message)
      assert.same(swaits, pwaits)
      assert.same(sasked, pasked)
      assert.is_nil(tostring(pgot[2]):find(emu.tokens.pat_read, 1, true))
    end
  end)

  it("takes the rate limiter's token and fires on_request when the prefetched request is sent", function()
    local now, events = 0, {}
    local function page_of(info) return info.url:match("[?&]page=(%d+)") end
    local c = client({ rate_limit_rpm = 60, clock = function() return now end,
      sleep = function(s) now = now + s events[#events + 1] = "wait" end,
      on_request = function(info) events[#events + 1] = "request " .. page_of(info) end,
      on_response = function(info) events[#events + 1] = "response " .. page_of(info) end })
    for _ in c.agents:each({ page_size = 1 }, { prefetch = true }) do events[#events + 1] = "item" end
    -- one token a second, none waiting: each later page waits its second before it is sent
    local want = { "request 1", "response 1" }
    for p = 2, total do
      for _, e in ipairs({ "wait", "request " .. p, "item", "response " .. p }) do want[#want + 1] = e end
    end
    want[#want + 1] = "item"
    assert.same(want, events)
  end)

  it("counts the prefetched call's deadline from its start", function()
    emu:arm({ fault = "stall=0", count = 1, path = "/api/v1/agents" })
    emu:arm({ fault = "status=503", count = 1, path = "/api/v1/agents" })
    local now, waits = 0, 0
    local c = client({ clock = function() return now end, sleep = function() waits = waits + 1 end, max_retries = 2 })
    local got = {}
    for item, err in c.agents:each({ page_size = 1 }, { prefetch = true, deadline = 5 }) do
      got[#got + 1] = item == false and err or item.id
      now = now + 10 -- the caller's work outlasts the deadline of the call started for page 2
    end
    -- page 2's 503 would be retried within a deadline counted from the finish; from the
    -- start there is no time left for a retry: the answer's error is the call's
    assert.equal(2, #got)
    assert.equal(503, got[2].status)
    assert.equal(0, waits)
    assert.same({ 1, 2 }, pages_asked())
  end)

  it("does not prefetch past max_items or max_pages", function()
    local c = client()
    local some = assert(c.agents:all({ page_size = 1 }, { prefetch = true, max_items = 2 }))
    assert.equal(2, #some)
    assert.same({ 1, 2 }, pages_asked())
    emu:reset()
    local items, errs = drain(c.agents:each({ page_size = 1 }, { prefetch = true, max_pages = 2 }))
    assert.equal(2, #items)
    assert.equal("too_large", errs[1].kind)
    assert.same({ 1, 2 }, pages_asked())
  end)

  it("is accepted and not used with a custom transport", function()
    local http = core.http_new({ timeout = 5 })
    local sent = 0
    local transport = { request = function(_, r) sent = sent + 1 return http:request(r) end }
    local c = client({ transport = transport })
    local n = 0
    for item, err in c.agents:each({ page_size = 1 }, { prefetch = true }) do
      assert.is_table(item, tostring(err))
      n = n + 1
      assert.equal(n, sent) -- each page asked for when needed, through the transport
      assert.equal(n, #pages_asked())
    end
    assert.equal(total, n)
    http:close()
  end)

  it("sends ahead through a custom transport that has start, as a batch uses request_many", function()
    local http = core.http_new({ timeout = 5 })
    local started = 0
    local transport = {
      request = function(_, r) return http:request(r) end,
      start = function(_, r) started = started + 1 return http:start(r) end,
    }
    local c = client({ transport = transport })
    local n = 0
    for item, err in c.agents:each({ page_size = 1 }, { prefetch = true }) do
      assert.is_table(item, tostring(err))
      n = n + 1
      if n == 1 then -- page 2 went out through the transport's start before it was asked for
        assert.equal(1, started)
        assert.is_table(wait_for_page(2))
      end
    end
    assert.equal(total, n)
    assert.equal(total - 1, started) -- every page after the first
    http:close()
  end)

  it("serves calls made in the loop body while a page is prefetched", function()
    local c = client()
    local items = {}
    for item, err in c.agents:each({ page_size = 1 }, { prefetch = true }) do
      assert.is_table(item, tostring(err))
      local one = assert(c.agents:list({ page_size = 1, page = 1 }))
      assert.is_table(one)
      items[#items + 1] = item.id
    end
    assert.equal(total, #items)
    local body = 0
    for _, r in ipairs(emu:requests(LIST)) do
      if r.args.page == "1" then body = body + 1 end
    end
    assert.equal(total + 1, body) -- page 1 once for the loop, once per body
  end)

  it("raises an on_request error when its page is needed, after the previous page's items", function()
    local function run(prefetch)
      emu:reset()
      local c = client({ on_request = function(info)
        if info.url:match("[?&]page=2") then error({ hook = "page 2 refused" }) end
      end })
      local items = {}
      local ok, raised = pcall(function()
        for item, err in c.agents:each({ page_size = 1 }, { prefetch = prefetch }) do
          assert.is_table(item, tostring(err))
          items[#items + 1] = item.id
        end
      end)
      assert.is_false(ok)
      return items, raised, pages_asked()
    end
    local items, raised, asked = run(false)
    assert.equal(1, #items)
    assert.same({ hook = "page 2 refused" }, raised)
    assert.same({ 1 }, asked)
    local pitems, praised, pasked = run(true)
    assert.same(items, pitems)
    assert.same(raised, praised)
    assert.same(asked, pasked)
  end)

  it("runs nested prefetching iterators over one client, an inner one left early", function()
    local c = client()
    local pairs_seen, inner_total = 0, 0
    for outer, err in c.agents:each({ page_size = 1 }, { prefetch = true }) do
      assert.is_table(outer, tostring(err))
      for inner, ierr in c.agents:each({ page_size = 1 }, { prefetch = true }) do
        assert.is_table(inner, tostring(ierr))
        pairs_seen = pairs_seen + 1
        if inner.id == outer.id then break end -- leaves with its next page prefetched
      end
      local n = 0
      for _ in c.agents:each({ page_size = 2 }, { prefetch = true }) do n = n + 1 end
      inner_total = inner_total + n
    end
    assert.equal(total * (total + 1) / 2, pairs_seen)
    assert.equal(total * total, inner_total)
  end)

  it("refuses a prefetch that is no boolean", function()
    local c = client()
    assert.has_error(function() c.agents:each({}, { prefetch = "yes" }) end,
      "alephant: call option 'prefetch' must be a boolean")
    assert.same({}, pages_asked())
  end)

  describe("alephant.started", function()
    local started = require "alephant.started"

    it("keeps a refusal for the finish and sends nothing, as client:call would", function()
      local c = client()
      local s = assert(started.start(c, "agents.list", { page_size = 0 }))
      local data, err = s:finish()
      local _, want = c:call("agents.list", { page_size = 0 })
      assert.is_nil(data)
      assert.equal("validation", err.kind)
      assert.equal(want.message, err.message)
      assert.same({}, pages_asked())
      assert.has_error(function() s:finish() end, "alephant: internal: a started call was finished twice")
    end)

    it("gives the deadline's error when the rate limiter's wait used it up before sending", function()
      local now = 0
      local c = client({ rate_limit_rpm = 60, clock = function() return now end,
        sleep = function(sec) now = now + sec end })
      assert(c.agents:list({ page_size = 1 })) -- the bucket's one token
      local s = assert(started.start(c, "agents.list", { page_size = 1 }, { deadline = 0.5 }))
      local data, err = s:finish()
      assert.is_nil(data)
      assert.equal("timeout", err.kind)
      assert.equal("agents.list: the deadline passed before the request could be sent", err.message)
      assert.equal(1, #emu:requests(LIST)) -- the first call's only
    end)

    it("starts nothing through client:around layers or a custom transport", function()
      local c = client()
      c:around(function(call, ...) return call(...) end)
      assert.is_nil(started.start(c, "agents.list", {}))
      local http = core.http_new()
      assert.is_nil(started.start(client({ transport = { request = function(_, r) return http:request(r) end } }),
        "agents.list", {}))
      http:close()
      assert.same({}, pages_asked())
    end)
  end)
end)
