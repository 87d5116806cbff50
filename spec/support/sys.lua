-- Shell and file helpers shared by the spec helpers that start servers
-- (spec/support/nginx.lua, spec/transport/server.lua). Lua 5.4 and LuaJIT.
local sys = {}

--- Runs a shell command; true when it exited 0 (os.execute differs between 5.1 and 5.4).
function sys.sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

--- The whole standard output of a shell command.
function sys.slurp(cmd)
  local p = assert(io.popen(cmd))
  local s = p:read("*a")
  p:close()
  return s
end

--- A file's contents, or nil when it cannot be read.
function sys.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

--- Writes a file, optionally chmod-ing it (e.g. "600" for a file holding tokens).
function sys.write(path, s, mode)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
  if mode then sys.sh("chmod " .. mode .. " " .. sys.shq(path)) end
end

--- The interpreter of this run: "luajit" or "lua5.4" (also the name of its build directory).
function sys.lua_name()
  return rawget(_G, "jit") and "luajit" or "lua5.4"
end

--- The command that runs a child interpreter like this one: the interpreter of this run,
-- or under scripts/check-asan.sh (ALEPHANT_ASAN_PRELOAD set; Lua 5.4 only) the wrapper
-- scripts/asan/lua.sh that preloads the sanitizer runtimes (the module it loads is
-- instrumented).
function sys.lua_command()
  if sys.lua_name() == "lua5.4" and os.getenv("ALEPHANT_ASAN_PRELOAD") then
    return require("spec.support.nginx").root .. "/scripts/asan/lua.sh"
  end
  return sys.lua_name()
end

--- Quotes a value for the shell.
function sys.shq(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

return sys
