/* The one place that papers over Lua 5.1/LuaJIT vs 5.4 differences. Every shim
 * carries the alc_ prefix: LuaJIT 2.1 already exports some 5.2 names
 * (luaL_setfuncs, luaL_testudata) and an unprefixed shim would collide with them. */
#ifndef ALEPHANT_LUA_COMPAT_H
#define ALEPHANT_LUA_COMPAT_H

#include <lauxlib.h>
#include <lua.h>

#if LUA_VERSION_NUM >= 503
#define alc_isinteger(L, i) lua_isinteger((L), (i))
#else
#define alc_isinteger(L, i) 0 /* 5.1 and LuaJIT: every number is a double */
#endif

/* lua_rawseti / lua_rawgeti with a lua_Integer index (5.3+) or an int one (5.1, 5.2) */
#if LUA_VERSION_NUM >= 503
#define alc_rawseti(L, t, i) lua_rawseti((L), (t), (lua_Integer)(i))
#define alc_rawgeti(L, t, i) lua_rawgeti((L), (t), (lua_Integer)(i))
#else
#define alc_rawseti(L, t, i) lua_rawseti((L), (t), (int)(i))
#define alc_rawgeti(L, t, i) lua_rawgeti((L), (t), (int)(i))
#endif

#if LUA_VERSION_NUM >= 502
#define alc_rawlen(L, i) lua_rawlen((L), (i))
#define alc_setfuncs(L, l, nup) luaL_setfuncs((L), (l), (nup))
#else
#define alc_rawlen(L, i) lua_objlen((L), (i))
void alc_setfuncs(lua_State *L, const luaL_Reg *l, int nup);
#endif

#endif
