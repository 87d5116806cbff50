-- No nginx outlives a killed runner. A runner (a child interpreter in its own process
-- group, like a job a CI or session harness kills) starts nginx through
-- spec/support/nginx.lua or the emulator, and is SIGKILLed together with its whole
-- process group at the worst moment: right after nginx daemonized, before the helper
-- returns. The nginx binary is a wrapper that runs the real one and then sends that
-- SIGKILL, so the moment is exact, not a race. Afterwards no process may still run with
-- the runner's nginx prefix.
local sys = require("spec.support.sys")
local socket = require("socket")

local interpreter = sys.lua_name

-- pids of processes whose command line mentions `text`
local function processes_with(text)
  local out = {}
  for pid in sys.slurp("ls /proc"):gmatch("%d+") do
    local cmd = sys.read("/proc/" .. pid .. "/cmdline")
    local st = sys.read("/proc/" .. pid .. "/stat")
    if cmd and cmd:gsub("%z", " "):find(text, 1, true) and st and st:match("^%d+ %b() (%a)") ~= "Z" then
      out[#out + 1] = tonumber(pid)
    end
  end
  return out
end

describe("nginx dies with a runner killed by SIGKILL", function()
  local dir

  before_each(function()
    dir = sys.slurp("mktemp -d /tmp/alephant-watch.XXXXXX"):gsub("%s+$", "")
    local real = sys.slurp("command -v nginx || echo /usr/sbin/nginx"):gsub("%s+$", "")
    -- runs the real nginx, notes the prefix it was given, then kills the caller's group
    sys.write(dir .. "/nginx", table.concat({
      "#!/bin/sh",
      sys.shq(real) .. ' "$@"; rc=$?',
      'prefix=""; while [ $# -gt 0 ]; do [ "$1" = -p ] && prefix=$2; shift; done',
      'echo "$rc $prefix" >> ' .. sys.shq(dir .. "/prefixes"),
      'kill -KILL -"$(ps -o pgid= $$ | tr -d " ")"',
      "exit $rc",
    }, "\n") .. "\n", "755")
  end)

  after_each(function()
    -- whatever a failed run left behind goes, so that a failure here leaks nothing
    for p in (sys.read(dir .. "/prefixes") or ""):gmatch("%d+ ([^\n]+)") do
      for _, pid in ipairs(processes_with(p)) do sys.sh("kill -KILL " .. pid .. " 2>/dev/null") end
    end
    sys.sh("rm -rf " .. sys.shq(dir))
  end)

  -- Runs `code` as a runner in its own process group; returns the prefixes of the nginx
  -- it started (those that started: exit code 0).
  local function run_killed_runner(code)
    local prelude = ("package.path = %q; package.cpath = %q; "):format(package.path, package.cpath)
    sys.sh("cd " .. sys.shq(require("spec.support.nginx").root) .. " && env PATH="
      .. sys.shq(dir .. ":" .. os.getenv("PATH")) .. " ALEPHANT_EMULATOR_NGINX=" .. sys.shq(dir .. "/nginx")
      .. " setsid " .. interpreter() .. " -e " .. sys.shq(prelude .. code) .. " >" .. sys.shq(dir .. "/runner.log")
      .. " 2>&1")
    local prefixes = {}
    for p in (sys.read(dir .. "/prefixes") or ""):gmatch("0 ([^\n]+)") do prefixes[#prefixes + 1] = p end
    return prefixes
  end

  -- Waits (up to 15 s: QUIT, then KILL) until nothing runs with the prefix.
  local function gone(prefix)
    local deadline = socket.gettime() + 15
    while #processes_with(prefix) > 0 and socket.gettime() < deadline do socket.sleep(0.1) end
    return #processes_with(prefix) == 0
  end

  it("spec/support/nginx.lua", function()
    local prefixes = run_killed_runner([[
      require("spec.support.nginx").start({ thread_pool = false,
        http = "server { listen 127.0.0.1:@PORT@; location / { return 200; } }" })
      print("not killed")
    ]])
    assert.equal(1, #prefixes, sys.read(dir .. "/runner.log"))
    assert.is_true(gone(prefixes[1]), "nginx with prefix " .. prefixes[1] .. " outlived its killed runner")
    assert.is_nil((sys.read(dir .. "/runner.log") or ""):find("not killed", 1, true))
  end)

  it("spec/transport/server.lua", function()
    local prefixes = run_killed_runner([[
      require("spec.transport.server").start()
      print("not killed")
    ]])
    assert.equal(1, #prefixes, sys.read(dir .. "/runner.log"))
    assert.is_true(gone(prefixes[1]), "nginx with prefix " .. prefixes[1] .. " outlived its killed runner")
  end)

  it("the emulator (spec/support/emulator.lua)", function()
    local prefixes = run_killed_runner([[
      require("spec.support.emulator").start()
      print("not killed")
    ]])
    assert.equal(1, #prefixes, sys.read(dir .. "/runner.log"))
    assert.is_true(gone(prefixes[1]), "the emulator's nginx (" .. prefixes[1] .. ") outlived its killed runner")
    assert.is_nil((sys.read(dir .. "/runner.log") or ""):find("not killed", 1, true))
  end)
end)
