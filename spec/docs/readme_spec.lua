-- The READMEs' recipes run, verbatim. Every fenced block with a language in README.md and
-- emulator/README.md carries a marker on the line before its opening fence:
--
--   <!-- doc-test: run [token=NAME] [id=NAME] [after=NAME] [emulator] [busted] -->
--   <!-- doc-test: skip REASON -->
--
-- (blocks without a language are sample output or grammar and are never run). A `run`
-- block is executed as written:
--  * sh: `bash -e -o pipefail` in the checkout, in a clean environment (PATH, HOME, LANG;
--    no ALEPHANT_* variables). `emulator` exports the URLs of an emulator this spec
--    started; `token=NAME` also exports that fixture token as ALEPHANT_TOKEN (with
--    ALEPHANT_WORKSPACE_ID for a PAT or JWT). An emulator the block started and did not
--    stop is stopped afterwards (the block runs with its own TMPDIR).
--  * lua: this busted run's interpreter, the checkout's lua/ and its build, the emulator's
--    URLs, and the token given by `token=NAME`. `after=ID` runs the block marked `id=ID`
--    first, in the same chunk (a snippet continuing another one). `busted` runs the block
--    as a spec file instead.
--  * nginx: the configuration is started in real nginx (`nginx -p PREFIX`, the prefix
--    holding a link `alephant-lua` to this checkout, as the README says), with the emulator's
--    URLs and a virtual key in the ALEPHANT_* variables its `env` lines name (the three URL
--    lines must be there: nginx workers see no proxy variables); only its `listen` port is
--    replaced by a free one. Its first `location` must answer 200 and the emulator must
--    have seen the SDK's call.
-- A block fails the spec when it exits non-zero. Every run also routes any non-loopback
-- HTTP through a dead proxy, so a recipe that forgot the emulator fails instead of
-- reaching the real service.
local emulator = require "spec.support.emulator"
local nginx = require "spec.support.nginx"
local sys = require "spec.support.sys"
local sh, slurp, read, write, shq = sys.sh, sys.slurp, sys.read, sys.write, sys.shq

local ROOT = nginx.root
local LUA = sys.lua_name()
-- the command that runs it: under scripts/check-asan.sh the wrapper that preloads the
-- sanitizer runtimes
local LUA_CMD = sys.lua_command()
-- the build this suite runs against (scripts/busted.sh --cpath BUILD/<lua>/?.so)
local BUILD = package.cpath:match("([^;]-)/lua5%.4/%?%.so") or package.cpath:match("([^;]-)/luajit/%?%.so") or "build"
if BUILD:sub(1, 1) ~= "/" then BUILD = ROOT .. "/" .. BUILD:gsub("^%./", "") end
local FILES = { "README.md", "emulator/README.md" }

-- The fenced blocks of a Markdown file: { file, line, lang, text, marker = { kind, reason, opts } }.
local function blocks(file)
  local out, lines = {}, {}
  for line in ((read(ROOT .. "/" .. file) or error("cannot read " .. file)) .. "\n"):gmatch("([^\n]*)\n") do
    lines[#lines + 1] = line
  end
  local i = 1
  while i <= #lines do
    local fence, lang = lines[i]:match("^(```+)%s*([%w_-]*)")
    if fence then
      local b = { file = file, line = i, lang = lang, body = {} }
      local m = (lines[i - 1] or ""):match("^<!%-%- doc%-test: (.-) %-%->$")
      if m then
        local kind, rest = m:match("^(%S+)%s*(.*)$")
        b.marker = { kind = kind, reason = rest, opts = {} }
        if kind == "run" then
          for word in rest:gmatch("%S+") do
            local k, v = word:match("^([%w_]+)=(%S+)$")
            b.marker.opts[k or word] = v or true
          end
        end
      end
      i = i + 1
      while i <= #lines and not lines[i]:match("^" .. fence .. "%s*$") do
        b.body[#b.body + 1] = lines[i]
        i = i + 1
      end
      b.text = table.concat(b.body, "\n") .. "\n"
      out[#out + 1] = b
    end
    i = i + 1
  end
  return out
end

local all, by_id = {}, {}
for _, file in ipairs(FILES) do
  for _, b in ipairs(blocks(file)) do
    all[#all + 1] = b
    if b.marker and b.marker.opts.id then by_id[b.marker.opts.id] = b end
  end
end

local function where(b) return b.file .. ":" .. b.line end

-- The block's text with the blocks it continues (after=ID) in front, oldest first.
local function chained(b)
  local parts, seen = { b.text }, {}
  local cur = b
  while cur.marker.opts.after do
    local id = cur.marker.opts.after
    assert(not seen[id], "after= loop at " .. where(b))
    seen[id] = true
    cur = assert(by_id[id], where(b) .. ": no block has id=" .. id)
    table.insert(parts, 1, cur.text)
  end
  return table.concat(parts)
end

describe("README recipes #docs", function()
  local emu = emulator.session()
  local tmp

  lazy_setup(function()
    tmp = slurp("mktemp -d"):gsub("%s+$", "")
    assert(sh("chmod 755 " .. shq(tmp)))
  end)
  lazy_teardown(function()
    if tmp then sh("rm -rf " .. shq(tmp)) end
  end)

  -- `env -i` assignments: the clean environment, plus the emulator and a token if asked.
  local function environment(opts, with_emulator)
    local env = {
      PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME = os.getenv("HOME") or "/root",
      LANG = "C.UTF-8", TERM = "dumb",
      -- anything but loopback goes to a port where nobody listens
      http_proxy = "http://127.0.0.1:9", https_proxy = "http://127.0.0.1:9", all_proxy = "http://127.0.0.1:9",
      no_proxy = "127.0.0.1,localhost",
      -- under scripts/check-asan.sh: what its interpreter wrapper (LUA_CMD) needs; no leak
      -- check in these short children (LeakSanitizer's tracer crashed at exit now and then
      -- here, "Tracer caught signal 11"); the suite's own process keeps it
      ALEPHANT_ASAN_PRELOAD = os.getenv("ALEPHANT_ASAN_PRELOAD"),
      ASAN_OPTIONS = os.getenv("ASAN_OPTIONS") and os.getenv("ASAN_OPTIONS") .. ":detect_leaks=0",
      LSAN_OPTIONS = os.getenv("LSAN_OPTIONS"), UBSAN_OPTIONS = os.getenv("UBSAN_OPTIONS"),
    }
    if with_emulator or opts.emulator or opts.token then
      for k, v in pairs(emu.env) do env[k] = v end
    end
    if opts.token then
      env.ALEPHANT_TOKEN = assert(emu.tokens[opts.token], "no fixture token " .. opts.token)
      if opts.token:match("^pat") or opts.token:match("^jwt") then env.ALEPHANT_WORKSPACE_ID = emu.ids.workspace_1 end
    end
    local parts = {}
    for k, v in pairs(env) do parts[#parts + 1] = k .. "=" .. shq(v) end
    table.sort(parts)
    return "env -i " .. table.concat(parts, " ")
  end

  -- Runs a shell command line in the checkout; returns the exit status and the output.
  local function run(cmd)
    local out = slurp("cd " .. shq(ROOT) .. " && " .. cmd .. " 2>&1; echo \"rc=$?\"")
    return tonumber(out:match("rc=(%d+)%s*$")), out:gsub("rc=%d+%s*$", "")
  end

  local function run_sh(b)
    local dir = tmp .. "/sh-" .. b.line
    assert(sh("mkdir -p " .. shq(dir .. "/tmp")))
    write(dir .. "/block.sh", b.text)
    local code, out = run(environment(b.marker.opts) .. " TMPDIR=" .. shq(dir .. "/tmp") .. " bash -e -o pipefail "
      .. shq(dir .. "/block.sh"))
    -- an emulator the block left running (it failed before its `stop`)
    for d in slurp("ls -d " .. shq(dir .. "/tmp") .. "/alephant-emu.* 2>/dev/null"):gmatch("[^\n]+") do
      sh(shq(emulator.script) .. " stop " .. shq(d) .. " --rm >/dev/null 2>&1")
    end
    return code, out
  end

  local function run_lua(b)
    local dir = tmp .. "/lua-" .. b.line
    assert(sh("mkdir -p " .. shq(dir)))
    local paths = " LUA_PATH=" .. shq(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;" .. ROOT .. "/?.lua;;")
      .. " LUA_CPATH=" .. shq(BUILD .. "/" .. LUA .. "/?.so;;")
    if b.marker.opts.busted then
      write(dir .. "/block_spec.lua", chained(b))
      return run(environment(b.marker.opts, true) .. paths .. " busted --lua=" .. LUA_CMD .. " -o TAP "
        .. shq(dir .. "/block_spec.lua"))
    end
    write(dir .. "/block.lua", chained(b))
    return run(environment(b.marker.opts, true) .. paths .. " " .. LUA_CMD .. " " .. shq(dir .. "/block.lua"))
  end

  -- The configuration as written, its `listen` port aside, in nginx with the SDK on its paths.
  local function run_nginx(b)
    local listen = "listen 127.0.0.1:8080;"
    assert.truthy(b.text:find(listen, 1, true), where(b) .. ": the spec replaces `" .. listen .. "`")
    local conf = b.text:gsub(listen:gsub("%p", "%%%0"), "listen 127.0.0.1:@PORT@;")
    -- nginx workers get no proxy variables: without these lines they would call production
    for _, name in ipairs({ "ALEPHANT_API_BASE_URL", "ALEPHANT_ANALYTICS_BASE_URL", "ALEPHANT_GATEWAY_BASE_URL" }) do
      assert.truthy(conf:find("\nenv " .. name .. ";", 1, true), where(b) .. ": no `env " .. name .. ";`")
    end
    local env = { ALEPHANT_TOKEN = emu.tokens.vk_agent }
    for k, v in pairs(emu.env) do env[k] = v end
    local srv = nginx.start({ conf = conf, env = env, prepare = function(prefix)
      assert(sh("ln -s " .. shq(ROOT) .. " " .. shq(prefix .. "/alephant-lua")))
    end })
    -- nginx is stopped whatever happens next (an error included), then the error goes on
    local ok, status, body, log = pcall(function()
      local path = assert(conf:match("location =? ?(/[^%s{]*)"), "no location")
      local st, text = srv:request("GET", path)
      return st, ("GET %s: %s %s"):format(path, tostring(st), tostring(text)), srv:log()
    end)
    srv:stop()
    if not ok then error(status, 0) end
    return status == 200 and 0 or 1, body .. "\n" .. log
  end

  it("marks every block that has a language (run, or skip with a reason)", function()
    local unmarked = {}
    for _, b in ipairs(all) do
      if b.lang ~= "" then
        local m = b.marker
        if not m or not (m.kind == "run" or (m.kind == "skip" and m.reason:match("%S"))) then
          unmarked[#unmarked + 1] = where(b)
        end
      end
    end
    assert.same({}, unmarked)
  end)

  it("finds runnable recipes in both files", function()
    local n = {}
    for _, b in ipairs(all) do
      if b.marker and b.marker.kind == "run" then n[b.file] = (n[b.file] or 0) + 1 end
    end
    assert.is_true((n["README.md"] or 0) >= 5)
    assert.is_true((n["emulator/README.md"] or 0) >= 3)
  end)

  for _, b in ipairs(all) do
    if b.marker and b.marker.kind == "run" then
      it(("runs %s (%s)"):format(where(b), b.lang), function()
        local code, out
        if b.lang == "sh" or b.lang == "bash" then
          code, out = run_sh(b)
        elseif b.lang == "lua" then
          code, out = run_lua(b)
        elseif b.lang == "nginx" then
          code, out = run_nginx(b)
          assert.equal(1, #emu:requests("/cockpit/budget%-status"), out)
        else
          error(where(b) .. ": cannot run a block of language " .. b.lang)
        end
        assert.equal(0, code, where(b) .. " failed:\n" .. b.text .. "\n--- output:\n" .. out)
      end)
    end
  end
end)
