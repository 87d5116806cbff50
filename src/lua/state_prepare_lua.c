/* state:prepare under LuaJIT: a Lua function around alb_state_prepare whose table
 * constructors are generated from REQUEST_FIELDS at load, once per VM (see
 * REQUEST_FIELDS in state_private.h for why). */
#include "state_private.h"

#if PREPARE_IN_LUA
/* One return of alb_state_prepare_lua's function: the request's constructor with the fields of
 * REQUEST_FIELDS that are always there and the optional ones (has not 1) in present. */
static void add_constructor(lua_State *L, luaL_Buffer *b, const int *keys, const int *optional, int nkeys,
                            unsigned present) {
  int i, k, v, first = 1;
  luaL_addstring(b, "return {");
  for (i = 0; i < nkeys; i++) {
    if (optional[i] && !(present & (1u << i))) continue;
    lua_pushfstring(L, "%s[\"%s\"] = v%d", first ? "" : ", ", cached_strings[keys[i] - 1], i + 1);
    luaL_addvalue(b);
    first = 0;
    if (keys[i] != S_HEADERS) continue;
    luaL_addstring(b, " or {");
    for (k = 0, v = nkeys + 1; k < (int)(sizeof header_fields / sizeof header_fields[0]); k++) {
      if (k == AL_H_PARAM) continue;
      lua_pushfstring(L, "%s[\"%s\"] = v%d", v > nkeys + 1 ? ", " : "", cached_strings[header_fields[k] - 1], v);
      luaL_addvalue(b);
      v++;
    }
    luaL_addstring(b, "}");
  }
  luaL_addstring(b, "}\n");
}

/* The constructors for each combination of the optional fields from index `from` on,
 * chosen by which values are nil: each table is made with the keys it has and no more
 * (a template's keys all stay in the copy, nil or not, and 9 keys take a 16-node hash
 * part where 7 take 8). */
static void add_variants(lua_State *L, luaL_Buffer *b, const int *keys, const int *optional, int nkeys, int from,
                         unsigned present) {
  int i = from;
  while (i < nkeys && !optional[i]) i++;
  if (i == nkeys) {
    add_constructor(L, b, keys, optional, nkeys, present);
    return;
  }
  lua_pushfstring(L, "if v%d == nil then\n", i + 1);
  luaL_addvalue(b);
  add_variants(L, b, keys, optional, nkeys, i + 1, present);
  luaL_addstring(b, "end\n");
  add_variants(L, b, keys, optional, nkeys, i + 1, present | (1u << i));
}

/* Replaces the alb_state_prepare closure on top of the stack by state:prepare for LuaJIT: a Lua
 * function that calls it and builds the request with a constructor whose keys come from
 * REQUEST_FIELDS and header_fields (the keys hold no quote or backslash), one for each
 * combination of the optional fields (paging, body):
 *   if v8 == nil then
 *     if v9 == nil then return {["method"] = v1, ..., ["headers"] = v3 or {["Accept"] = v10, ...}, ...} end
 *     ...
 * alb_state_prepare's nil, err and false, "scope" pass through; no values (an argument it would
 * raise for) call it again as a tail call, the error raised then as from the C function
 * itself (at the caller's line, "bad argument #1" for the name). */
void alb_state_prepare_lua(lua_State *L) {
  static const int keys[] = {
#define KEY(key, has, push) key,
      REQUEST_FIELDS(KEY)
#undef KEY
  };
  /* a field is optional unless its presence is the constant 1 */
  const int optional[] = {
#define OPTIONAL(key, has, push) !(sizeof #has == 2 && (#has)[0] == '1'),
      REQUEST_FIELDS(OPTIONAL)
#undef OPTIONAL
  };
  const int nkeys = (int)(sizeof keys / sizeof keys[0]);
  int c = lua_gettop(L), i;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "local prepare = ...\nreturn function(state, name, params, now)\n  local v1");
  for (i = 2; i <= nkeys + 4; i++) {
    lua_pushfstring(L, ", v%d", i);
    luaL_addvalue(&b);
  }
  /* no values: an argument error, raised by the call again from the caller's frame */
  luaL_addstring(&b, " = prepare(state, name, params, now)\n  if not v1 then\n"
                     "    if v2 == nil then return prepare(state, name, params, now, true) end\n"
                     "    return v1, v2\n  end\n");
  add_variants(L, &b, keys, optional, nkeys, 0, 0);
  luaL_addstring(&b, "end\n");
  luaL_pushresult(&b); /* c + 1 */
  if (luaL_loadbuffer(L, lua_tostring(L, c + 1), lua_objlen(L, c + 1), "=alephant.state.prepare") != 0)
    lua_error(L);
  lua_remove(L, c + 1);
  lua_pushvalue(L, c);
  lua_call(L, 1, 1);
  lua_replace(L, c);
}
#endif
