-- Decode and encode of a typical API answer (an analytics usage body with a 30-day
-- series, spec/json/usage_body.json): core.json_* against Debian's lua-cjson 2.1.0.
-- Median of 5 timed runs of each, CPU time (os.clock). Not part of any make target.
--
--   make build && lua5.4 bench/json_bench.lua && luajit bench/json_bench.lua
-- BUILD=dir picks another build tree (check that it is optimised: RelWithDebInfo).
local is_jit = rawget(_G, "jit") ~= nil
package.cpath = ("%s/%s/?.so;"):format(os.getenv("BUILD") or "build", is_jit and "luajit" or "lua5.4")
  .. package.cpath

local core = require "alephant.core"
local has_cjson, cjson = pcall(require, "cjson")

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

local text = read("spec/json/usage_body.json")

-- ops/s of fn(arg): the median of 5 runs of at least 0.25 s each
local function measure(fn, arg)
  local n = 1
  while true do -- calibrate
    local t0 = os.clock()
    for _ = 1, n do fn(arg) end
    if os.clock() - t0 >= 0.05 then break end
    n = n * 2
  end
  local runs = {}
  for r = 1, 5 do
    local iters, t0 = 0, os.clock()
    repeat
      for _ = 1, n do fn(arg) end
      iters = iters + n
    until os.clock() - t0 >= 0.25
    runs[r] = iters / (os.clock() - t0)
  end
  table.sort(runs)
  return runs[3]
end

local function row(name, a, b)
  if b then
    print(("%-8s %12.0f %12.0f %8.2fx"):format(name, a, b, a / b))
  else
    print(("%-8s %12.0f %12s"):format(name, a, "-"))
  end
end

print(("%s, %d-byte body (%s)"):format(is_jit and rawget(_G, "jit").version or _VERSION, #text,
  has_cjson and "lua-cjson " .. tostring(cjson._VERSION) or "no cjson"))
print(("%-8s %12s %12s %9s"):format("op/s", "core", "cjson", "core/cj"))

local value = assert(core.json_decode(text))
local cvalue = has_cjson and cjson.decode(text)
row("decode", measure(core.json_decode, text), has_cjson and measure(cjson.decode, text))
row("encode", measure(core.json_encode, value), has_cjson and measure(cjson.encode, cvalue))
print(("encoded sizes: core %d bytes (sorted keys, null members dropped), cjson %d bytes"):format(
  #core.json_encode(value), has_cjson and #cjson.encode(cvalue) or 0))
