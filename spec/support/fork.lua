-- Runs a function in a forked child (nginx forks its workers after loading the module),
-- through LuaJIT's FFI; Lua 5.4 cannot fork here.
--
--   local fork = require "spec.support.fork"
--   local fork_it = fork.available() and it or pending
--   fork_it("...", function() local out = fork.run(function() return "what the child saw" end) end)
local assert = require "luassert"

local M = {}

local ffi_ok, ffi = pcall(require, "ffi")
if ffi_ok then
  pcall(ffi.cdef, [[
    int fork(void);
    int pipe(int fds[2]);
    long write(int fd, const void *buf, size_t n);
    long read(int fd, void *buf, size_t n);
    int close(int fd);
    void _exit(int status);
    int waitpid(int pid, int *status, int options);
  ]])
end

--- Can this interpreter fork (LuaJIT with its FFI)?
function M.available()
  return ffi_ok
end

--- Calls `fn` in a forked child, which writes the string fn returns to a pipe and
-- exits (0, or 1 when fn raised) without returning to the parent's code. Returns what
-- the child wrote and its exit status.
function M.run(fn)
  local fds = ffi.new("int[2]")
  assert.equal(0, ffi.C.pipe(fds))
  local pid = ffi.C.fork()
  assert.is_true(pid >= 0)
  if pid == 0 then
    local ok, out = pcall(fn)
    if ok and type(out) == "string" then ffi.C.write(fds[1], out, #out) end
    ffi.C._exit(ok and 0 or 1)
  end
  ffi.C.close(fds[1])
  local parts, buf = {}, ffi.new("char[4096]")
  while true do
    local n = tonumber(ffi.C.read(fds[0], buf, 4096))
    if n <= 0 then break end
    parts[#parts + 1] = ffi.string(buf, n)
  end
  ffi.C.close(fds[0])
  local status = ffi.new("int[1]")
  ffi.C.waitpid(pid, status, 0)
  return table.concat(parts), math.floor(status[0] / 256) % 256
end

return M
