-- Shared by the gateway specs: messages, recorded requests, and the SSE test server
-- (clients on the emulator: `emu:client`, spec/support/emulator.lua).
local alephant = require "alephant"

local M = {}

M.MODEL = "openai/gpt-4o-mini"

-- For a describe block: an emulator started once (reset before each test) and a client
-- on it, as ctx.emu and ctx.c.
function M.on_emulator()
  local emulator = require "spec.support.emulator"
  local busted = require "busted" -- the block functions live in the spec's environment, not _G
  local ctx = { emu = emulator.session() }
  busted.lazy_setup(function() ctx.c = ctx.emu:client() end)
  return ctx
end

-- For a describe block: the scripted event-stream server (sse_server.lua), and
-- ctx.client(script), a client whose gateway answers with that script.
function M.on_sse_server()
  local busted = require "busted"
  local ctx = {}
  busted.lazy_setup(function() ctx.srv = M.sse_server() end)
  busted.lazy_teardown(function() if ctx.srv then ctx.srv.stop() end end)
  function ctx.client(script)
    return assert(alephant.new{ token = "vk-test-0000000000000000", gateway_url = ctx.srv.url .. "/" .. script,
      base_url = "http://127.0.0.1:1", analytics_url = "http://127.0.0.1:1", getenv = function() return nil end })
  end
  return ctx
end

-- The Lua heap in KiB after a full collection. LuaJIT also counts its compiled traces
-- there, and how many it holds depends on what ran before in the same process: in the
-- whole suite they moved a reading by -140 to +1400 KiB while the stream's own data
-- stayed flat (with the compiler off during the stream, the same runs stayed within
-- 80 KiB). They are dropped before each reading, so only the stream's data counts; the
-- stream itself still runs compiled between readings.
local function heap_kib()
  local jit = rawget(_G, "jit")
  if jit then jit.flush() end
  collectgarbage()
  collectgarbage()
  return collectgarbage("count")
end

-- Reads a stream to its end (every event must be a table), measuring the Lua heap
-- every 1000 events; returns the number of events and the peak growth in KiB.
function M.heap_growth(s)
  local base = heap_kib()
  local peak, n = base, 0
  for ev, err in s do
    assert(type(ev) == "table", tostring(err))
    n = n + 1
    if n % 1000 == 0 then
      peak = math.max(peak, heap_kib())
    end
  end
  return n, peak - base
end

-- Every item a stream's iterator yields, errors included ({false, err}).
function M.drain(s)
  local out = {}
  for ev, err in s do
    out[#out + 1] = ev == false and { false, err } or ev
  end
  return out
end

function M.messages(text)
  return { { role = "user", content = text or "hello" } }
end

-- The emulator's record of the only request on `path`.
function M.only(emu, path)
  local seen = emu:requests(path)
  if #seen ~= 1 then error(("expected 1 request on %s, got %d"):format(path, #seen), 2) end
  return seen[1]
end

-- Headers of a recorded request that the SDK's tracking options produce.
function M.tracking_headers(record)
  local out = {}
  for k, v in pairs(record.headers) do
    if k:match("^alephant%-") or k:match("^x%-alephant%-") or k == "x-request-id" then out[k] = v end
  end
  return out
end

-- Starts spec/gateway/sse_server.lua (see there) under Lua 5.4; returns {url, stop}.
function M.sse_server()
  local dir = os.tmpname()
  os.remove(dir)
  local port_file = dir .. ".port"
  local pid_file = dir .. ".pid"
  assert(os.execute(("lua5.4 spec/gateway/sse_server.lua %q >/dev/null 2>&1 & echo $! > %q"):format(port_file,
    pid_file)))
  local port
  for _ = 1, 200 do
    local f = io.open(port_file)
    if f then
      port = tonumber(f:read("*l"))
      f:close()
      if port then break end
    end
    os.execute("sleep 0.02")
  end
  assert(port, "the SSE test server did not start")
  local f = assert(io.open(pid_file))
  local pid = assert(tonumber(f:read("*l")))
  f:close()
  os.remove(pid_file)
  return {
    url = "http://127.0.0.1:" .. port .. "/v1",
    stop = function()
      os.execute("kill " .. pid .. " 2>/dev/null")
      os.remove(port_file)
    end,
  }
end

return M
