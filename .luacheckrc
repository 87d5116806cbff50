-- Portable code: the intersection of Lua 5.1-5.4 and LuaJIT.
std = "min"
max_line_length = 120
exclude_files = { "build/**", ".luarocks/**", "lua_modules/**", "build.luarocks/**", ".tmp/**" }
not_globals = { "string.len", "table.getn" }

files["spec/**/*.lua"] = { std = "+busted" }
files["emulator/**/*.lua"] = { std = "ngx_lua" }
files["examples/openresty/**/*.lua"] = { std = "ngx_lua" }
