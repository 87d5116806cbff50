-- core.uuid4 / core.random: the per-VM generator (src/core/rng.c, src/lua/random.c),
-- ChaCha20 keyed from the kernel; keyed again in a forked child.
local core = require "alephant.core"
local fork = require "spec.support.fork"
local sys = require "spec.support.sys"

local UUID4 = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

describe("core.uuid4", function()
  it("gives lower-case version 4 UUIDs, all different", function()
    local seen = {}
    for _ = 1, 20000 do
      local id = core.uuid4()
      assert.matches(UUID4, id)
      assert.is_nil(id:find("%u"))
      assert.is_nil(seen[id])
      seen[id] = true
    end
  end)

  it("gives another sequence in every process", function()
    local code = 'package.cpath = %q .. ";" .. package.cpath; print(require("alephant.core").uuid4())'
    local cmd = ("%s -e '%s'"):format(sys.lua_command(), code:format(package.cpath))
    local a = io.popen(cmd):read("*l")
    local b = io.popen(cmd):read("*l")
    assert.matches(UUID4, a)
    assert.matches(UUID4, b)
    assert.not_equal(a, b)
  end)

  -- nginx forks its workers after init_by_lua has loaded the module: a child must not
  -- go on with its parent's keystream. LuaJIT's FFI can fork; Lua 5.4 cannot here.
  local fork_it = fork.available() and it or pending
  fork_it("keys the generator again in a forked child", function()
    core.uuid4() -- the parent's generator is keyed
    local child = fork.run(function() return core.uuid4() end)
    local mine = core.uuid4()
    assert.equal(36, #child)
    assert.matches(UUID4, child)
    assert.not_equal(mine, child)
  end)
end)

describe("core.random", function()
  it("gives numbers in [0, 1) that spread over the interval", function()
    local buckets = {}
    for _ = 1, 10000 do
      local r = core.random()
      assert.is_true(r >= 0 and r < 1)
      local b = math.floor(r * 10) + 1
      buckets[b] = (buckets[b] or 0) + 1
    end
    for b = 1, 10 do assert.is_true(buckets[b] > 700, "bucket " .. b) end
  end)
end)
