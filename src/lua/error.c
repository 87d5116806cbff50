/* Error tables and their one-line __tostring. The same metatable serves errors made
 * in C and in Lua (alephant.errors takes it from core.error_mt). */
#include <math.h>
#include <string.h>

#include "../core/display.h"
#include "binding.h"

#if LUA_VERSION_NUM < 502
void alc_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  luaL_checkstack(L, nup + 1, "too many upvalues");
  for (; l->name != NULL; l++) {
    int i;
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}
#endif

int alb_ok(lua_State *L) {
  lua_pushboolean(L, 1);
  return 1;
}

int alb_push_error(lua_State *L, const al_error *err) {
  lua_pushnil(L);
  lua_createtable(L, 0, 4);
  lua_pushstring(L, al_error_kind_name(err->kind));
  lua_setfield(L, -2, "kind");
  lua_pushstring(L, err->message);
  lua_setfield(L, -2, "message");
  if (err->field[0]) {
    lua_pushstring(L, err->field);
    lua_setfield(L, -2, "field");
  }
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "retryable");
  luaL_getmetatable(L, ALB_ERROR_MT);
  lua_setmetatable(L, -2);
  return 2;
}

int64_t alb_int64_arg(lua_State *L, int idx) {
  double d;
  if (alc_isinteger(L, idx)) return (int64_t)lua_tointeger(L, idx);
  d = (double)luaL_checknumber(L, idx);
  if (d >= 9223372036854775808.0) return INT64_MAX; /* 2^63 is exact as a double */
  if (d <= -9223372036854775808.0) return INT64_MIN;
  luaL_argcheck(L, d == floor(d), idx, "an integer expected"); /* NaN fails too */
  return (int64_t)d;
}

const char *alb_field(lua_State *L, int idx, const char *dflt) {
  const char *s = lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx) : NULL;
  return s ? s : dflt;
}

const char *alb_opt_string(lua_State *L, int idx, size_t *len, const char *field, al_error *err, int *bad) {
  int t = lua_type(L, idx);
  *bad = 0;
  if (t == LUA_TNIL || t == LUA_TNONE) return NULL;
  if (t != LUA_TSTRING) {
    *bad = 1;
    al_fail(err, AL_ERR_VALIDATION, field, "%s must be a string, got %s", field, lua_typename(L, t));
    return NULL;
  }
  return lua_tolstring(L, idx, len);
}

/* Appends s as one line safe for a terminal or a log: CR/LF/TAB become spaces, other
 * control characters (ESC, BEL, C1, ...) are escaped (src/core/display.c). */
static void add_line(luaL_Buffer *b, const char *s) {
  size_t n = strlen(s), i = 0, len;
  char out[8];
  while (i < n) {
    size_t w = al_show_char(s + i, n - i, AL_SHOW_LINE, &len, out);
    if (w) luaL_addlstring(b, out, w);
    else luaL_addlstring(b, s + i, len);
    i += len;
  }
}

/* "alephant http error: <message> (status 404, code 40401, request_id ..., endpoint ...)"
 * Every field is read onto the stack before the buffer starts and stays there: a number
 * becomes a string on the stack only, and the table may be a proxy whose __index returns
 * fresh strings. */
static int error_tostring(lua_State *L) {
  static const char *const keys[4] = {"status", "code", "request_id", "endpoint"};
  static const char *const labels[4] = {"status ", "code ", "request_id ", "endpoint "};
  luaL_Buffer b;
  int i, first = 1;
  const char *kind, *message, *v[4];
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_getfield(L, 1, "kind");
  kind = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "unknown";
  lua_getfield(L, 1, "message");
  message = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(no message)";
  for (i = 0; i < 4; i++) {
    lua_getfield(L, 1, keys[i]);
    v[i] = lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1) : NULL;
  }
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "alephant ");
  add_line(&b, kind);
  luaL_addstring(&b, " error: ");
  add_line(&b, message);
  for (i = 0; i < 4; i++) {
    if (v[i] == NULL) continue;
    luaL_addstring(&b, first ? " (" : ", ");
    luaL_addstring(&b, labels[i]);
    add_line(&b, v[i]);
    first = 0;
  }
  if (!first) luaL_addchar(&b, ')');
  luaL_pushresult(&b);
  return 1;
}

void alb_open_error(lua_State *L) {
  if (luaL_newmetatable(L, ALB_ERROR_MT)) {
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushstring(L, "alephant.error");
    lua_setfield(L, -2, "__name");
  }
  lua_setfield(L, -2, "error_mt"); /* module.error_mt = the metatable */
}
