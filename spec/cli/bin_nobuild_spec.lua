-- bin/alephant in a checkout that was never built: one line saying to run `make build`,
-- a non-zero exit status, no traceback. The checkout is a copy of bin/ and lua/ in a
-- temporary directory (no build/), run under this busted run's interpreter with no
-- LUA_PATH/LUA_CPATH, from inside it and from elsewhere.
local sys = require "spec.support.sys"
local sh, slurp, shq = sys.sh, sys.slurp, sys.shq

local LUA = rawget(_G, "jit") and "luajit" or "lua5.4"
local BUILD_DIR = rawget(_G, "jit") and "luajit" or "lua5.4"

describe("bin/alephant without a build", function()
  local dir

  lazy_setup(function()
    dir = slurp("mktemp -d"):gsub("%s+$", "")
    assert(sh("cp -R bin lua " .. shq(dir)))
  end)
  lazy_teardown(function()
    if dir then sh("rm -rf " .. shq(dir)) end
  end)

  -- exit status, stdout, stderr of `cd WHERE && LUA SCRIPT args` with the module paths unset
  local function run(where, script, args)
    local out = slurp("cd " .. shq(where) .. " && env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 "
      .. LUA .. " " .. shq(script) .. " " .. args .. " 2>" .. shq(dir .. "/stderr") .. "; echo \"rc=$?\"")
    local code = tonumber(out:match("rc=(%d+)%s*$"))
    return code, out:gsub("rc=%d+%s*$", ""), sys.read(dir .. "/stderr")
  end

  it("says to run make build, from the checkout and from elsewhere", function()
    for _, case in ipairs({ { dir, "bin/alephant", "this checkout" }, { "/", dir .. "/bin/alephant", dir } }) do
      for _, args in ipairs({ "--help", "--version", "analytics usage --from 2026-11-01" }) do
        local code, out, err = run(case[1], case[2], args)
        assert.equal(1, code, err)
        assert.equal("", out)
        assert.equal("alephant: the C core (alephant.core) is not built for this interpreter: run `make build` in "
          .. case[3] .. " (it writes " .. (case[1] == dir and "." or dir) .. "/build/" .. BUILD_DIR
          .. "/alephant/core.so)\n", err)
      end
    end
  end)
end)
