rockspec_format = "3.0"
package = "alephant"
version = "scm-1"

source = {
  url = "git+https://github.com/alephant-lua/alephant-lua.git",
}

description = {
  summary = "Lua client for the Alephant APIs (SaaS, Analytics, AI gateway) with a C core",
  detailed = [[
    Virtual keys, agents, members, departments, budgets, cost and usage analytics and
    the OpenAI-compatible gateway of Alephant, from Lua 5.4, LuaJIT and OpenResty.
    Authentication, context resolution and validation run in a sans-I/O C core.
  ]],
  license = "MIT",
  labels = { "api", "sdk", "openresty", "llm" },
}

-- Nothing else: JSON is the SDK's own C codec (alephant.core), it never loads cjson.
dependencies = {
  "lua >= 5.1, < 5.5",
}

-- libcurl is the one C library the module links (the transport, src/transport).
-- Only the library is probed: Debian and Ubuntu keep curl/curl.h under
-- include/<multiarch>/, where luarocks does not look (it would fail although the
-- compiler finds the header), while the probed libcurl.so comes with the -dev package
-- too. A libcurl elsewhere: luarocks make ... CURL_DIR=/opt/curl (or CURL_INCDIR and
-- CURL_LIBDIR).
external_dependencies = {
  CURL = { library = "curl" },
}

-- Every path and flag luarocks knows is handed to CMake explicitly: its cmake
-- backend passes nothing else (not the prefix, not CFLAGS). No LUA_LIBDIR: the module
-- never links liblua, the host interpreter or nginx provides the symbols.
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_C_FLAGS = "$(CFLAGS)",
    CMAKE_MODULE_LINKER_FLAGS = "$(LIBFLAG)",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    LUA = "$(LUA)",
    LIBDIR = "$(LIBDIR)",
    LUADIR = "$(LUADIR)",
    CURL_INCDIR = "$(CURL_INCDIR)",
    CURL_LIBDIR = "$(CURL_LIBDIR)",
    ALEPHANT_TESTS = "OFF",
  },
  -- the command line; luarocks writes a wrapper into the tree's bin/, and the script finds
  -- the tree's share/lua and lib/lua from its own path (no `luarocks path` needed)
  install = {
    bin = { alephant = "bin/alephant" },
  },
}

test = {
  type = "busted",
}
