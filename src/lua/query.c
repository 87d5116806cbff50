/* core.url_append_query(url, {{name, value}, ...}) -> url: the call option `extra` on
 * routes without a body (lua/alephant/extra.lua). Names and values are percent-encoded
 * by the core (al_append_query), so no value can change the route. */
#include "../core/raw.h"
#include "binding.h"

size_t alb_read_pairs(lua_State *L, int idx, al_kv *q, size_t max) {
  size_t i, n = alc_rawlen(L, idx);
  luaL_checktype(L, idx, LUA_TTABLE);
  if (n > max) return (size_t)luaL_error(L, "at most %d query pairs", (int)max);
  for (i = 0; i < n; i++) {
    /* the strings stay alive after the pops because the pairs table holds them (raw
     * reads): so they must be strings already, never numbers that a checklstring would
     * convert on the stack only */
    lua_rawgeti(L, idx, (int)i + 1);
    luaL_checktype(L, -1, LUA_TTABLE);
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
      return (size_t)luaL_error(L, "query pair %d must be two strings", (int)i + 1);
    q[i].k = lua_tolstring(L, -2, &q[i].kn);
    q[i].v = lua_tolstring(L, -1, &q[i].vn);
    lua_pop(L, 3);
  }
  return n;
}

static int l_append_query(lua_State *L) {
  al_kv q[AL_MAX_PAIRS];
  size_t url_n, need;
  const char *url = luaL_checklstring(L, 1, &url_n);
  size_t nq = alb_read_pairs(L, 2, q, AL_MAX_PAIRS);
  char *out;
  need = al_append_query(NULL, 0, url, url_n, q, nq);
  out = (char *)lua_newuserdata(L, need + 1);
  al_append_query(out, need + 1, url, url_n, q, nq);
  lua_pushlstring(L, out, need);
  return 1;
}

void alb_open_query(lua_State *L) {
  lua_pushcfunction(L, l_append_query);
  lua_setfield(L, -2, "url_append_query");
  lua_pushinteger(L, AL_MAX_PAIRS); /* the most query pairs a request carries */
  lua_setfield(L, -2, "MAX_QUERY_PAIRS");
}
