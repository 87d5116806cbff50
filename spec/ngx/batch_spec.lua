-- client:batch under alephant.ngx: in thread mode each request in flight runs in its own
-- worker thread (so side by side: the emulator sees several connections at once); in
-- blocking mode the libcurl transport's own request_many. Real nginx, real emulator.
local conf = require "spec.ngx.conf"
local emulator = require "spec.support.emulator"

describe("alephant.ngx client:batch #nginx", function()
  local emu, srv, VK, WS

  lazy_setup(function()
    emu = emulator.start()
    VK, WS = emu.tokens.vk_agent, emu.ids.workspace_1
    srv = conf.start(emu, { workers = 1, thread_pool = "alephant threads=8" })
  end)
  lazy_teardown(function()
    if srv then srv:stop() end
    if emu then emu:stop() end
  end)
  before_each(function() emu:reset() end)

  local function ports()
    local seen, n = {}, 0
    for _, r in ipairs(emu:requests("/api/v1/cockpit/scope")) do
      if not seen[r.remote_port] then seen[r.remote_port], n = true, n + 1 end
    end
    return n
  end

  for _, mode in ipairs({ "thread", "blocking" }) do
    it("runs the calls side by side in " .. mode .. " mode and answers them in order", function()
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
      assert.is_true(ports() >= 2, "the calls ran one after the other")
      assert.is_true(ports() <= (mode == "blocking" and 3 or 6))
    end)
  end

  it("gives a refused call its own error in thread mode", function()
    local status, body, _, json = srv:request("GET", "/batch?dict=none&n=2&fault=status%3D403", { token = VK })
    assert.equal(200, status, body)
    for _, r in ipairs(json.results) do assert.equal("auth", r.err.kind, body) end
  end)
end)
