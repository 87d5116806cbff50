-- Layers around a client's calls with client:around: one answers a call by itself from
-- a small cache, another times and logs every call. Every call goes through them
-- (methods, iterators, gateway calls, reports; not client:batch), after its arguments
-- are checked; the last layer added runs first, and `call` is the next layer (or the
-- call itself).
-- token: pat_read
--   ALEPHANT_TOKEN=pat_... ALEPHANT_WORKSPACE_ID=<uuid> lua5.4 examples/around_calls.lua
local alephant = require "alephant"
local core = require "alephant.core"

local client = assert(alephant.new())

-- A cache for the members list: a cached answer never reaches the network.
local cached, sent = nil, 0
client:around(function(call, name, params, opts)
  if name ~= "members.list" then return call(name, params, opts) end
  if cached then return cached, nil, { cached = true, status = 200 } end
  local data, err, meta = call(name, params, opts)
  sent = sent + 1
  if data ~= nil then cached = data end
  return data, err, meta
end)

-- Timing and logging, added last: it runs first and sees what the cache answers too.
client:around(function(call, name, params, opts)
  local t0 = core.monotonic()
  local data, err, meta = call(name, params, opts)
  local ms = (core.monotonic() - t0) * 1000
  if data == nil then
    print(("%-16s failed after %.1f ms: %s"):format(name, ms, tostring(err)))
  else
    print(("%-16s %s in %.1f ms"):format(name, meta.cached and "from the cache" or ("HTTP " .. meta.status), ms))
  end
  return data, err, meta
end)

for _ = 1, 3 do assert(client.members:list()) end
assert(sent == 1, "the cache answers the second and third call")
assert(client.agents:list{ page_size = 2 })
-- a refusal comes back through the layers like any answer (nothing was sent)
local _, err = client.analytics:usage{ from = "2026-11-05", to = "2026-11-01" }
assert(err.kind == "validation")
