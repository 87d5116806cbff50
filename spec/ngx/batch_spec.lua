-- client:batch under alephant.ngx: in thread mode each request in flight runs in its own
-- worker thread (so side by side: the emulator sees several connections at once); in
-- blocking mode the libcurl transport's own request_many. Real nginx, real emulator.
local conf = require "spec.ngx.conf"
local emulator = require "spec.support.emulator"

describe("alephant.ngx client:batch #nginx", function()
  local emu = emulator.session()
  local VK, WS = emu.tokens.vk_agent, emu.ids.workspace_1
  local srv

  lazy_setup(function() srv = conf.start(emu, { workers = 1, thread_pool = "alephant threads=8" }) end)
  lazy_teardown(function() if srv then srv:stop() end end)

  for _, mode in ipairs({ "thread", "blocking" }) do
    it("runs the calls side by side in " .. mode .. " mode, at most max_concurrency at once, in order", function()
      local status, body, _, json = srv:request("GET", "/batch?dict=none&n=6&conc=3&mode=" .. mode
        .. "&fault=stall%3D300", { token = VK })
      assert.equal(200, status, body)
      assert.is_true(json.ok, body)
      assert.equal(6, #json.results)
      for _, r in ipairs(json.results) do
        assert.equal(WS, r.workspace_id, body)
        assert.equal(1, r.attempts)
      end
      assert.equal(6, #emu:requests("/api/v1/cockpit/scope"))
      -- the emulator counts the requests it was answering at once (each stalls 300 ms)
      local most = emu:admin("GET", "/in-flight").max_in_flight
      assert.is_true(most > 1, "the calls ran one after the other")
      assert.is_true(most <= 3, most .. " calls in flight at once, more than max_concurrency = 3")
    end)
  end

  it("gives a refused call its own error in thread mode", function()
    local status, body, _, json = srv:request("GET", "/batch?dict=none&n=2&fault=status%3D403", { token = VK })
    assert.equal(200, status, body)
    for _, r in ipairs(json.results) do assert.equal("auth", r.err.kind, body) end
  end)
end)
