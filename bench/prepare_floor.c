/* The floor under state:prepare's answer on the C API: build a table with the same keys
 * and values as one answer of prepare (and its headers table, a fresh one each time, as
 * prepare makes it: consumers add to it), making only the calls src/lua/state_prepare.c's
 * push_request makes for them (lua_createtable of the same sizes, each key and value
 * pushed from an upvalue as prepare pushes its cached strings, lua_rawset) and nothing
 * else: no argument or key checks, no plan, no URL, no state. Whatever prepare does, it
 * must at least make these calls for its table on Lua 5.4, so their count is the part of
 * its instructions that the request table's contract costs. bench/run.sh builds it for
 * each Lua ABI (benchmark only, not part of the module).
 *
 *   local floor = require "prepare_floor"
 *   local build = floor.new(req, fields, headers) -- req: an answer of state:prepare; fields
 *                                                 -- and headers: its keys in prepare's order
 *   local copy = build()                          -- an equal table, built afresh
 */
#include <lauxlib.h>
#include <lua.h>

#define MAX_FIELDS 16
#define MAX_HEADERS 16

typedef struct {
  int nfields, nheaders, headers_at; /* headers_at: the field that is the headers table, or -1 */
} layout;

/* upvalues: 1 the layout, then each field's key and value (the headers field's value is a
 * placeholder), then each header's key and value */
#define FIELD_KEY(i) lua_upvalueindex(2 + 2 * (i))
#define FIELD_VALUE(i) lua_upvalueindex(3 + 2 * (i))
#define HEADER_KEY(o, j) lua_upvalueindex(2 + 2 * (o) + 2 * (j))
#define HEADER_VALUE(o, j) lua_upvalueindex(3 + 2 * (o) + 2 * (j))

static int l_build(lua_State *L) {
  const layout *y = (const layout *)lua_touserdata(L, lua_upvalueindex(1));
  int i, j, t, h;
  lua_createtable(L, 0, 8); /* as push_request */
  t = lua_gettop(L);
  for (i = 0; i < y->nfields; i++) {
    lua_pushvalue(L, FIELD_KEY(i));
    if (i == y->headers_at) {
      lua_createtable(L, 0, y->nheaders); /* as push_headers */
      h = lua_gettop(L);
      for (j = 0; j < y->nheaders; j++) {
        lua_pushvalue(L, HEADER_KEY(y->nfields, j));
        lua_pushvalue(L, HEADER_VALUE(y->nfields, j));
        lua_rawset(L, h);
      }
    } else {
      lua_pushvalue(L, FIELD_VALUE(i));
    }
    lua_rawset(L, t);
  }
  return 1;
}

/* new(req, fields, headers) -> build */
static int l_new(lua_State *L) {
  layout *y;
  int i, nf, nh;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
#if LUA_VERSION_NUM >= 502
  nf = (int)lua_rawlen(L, 2);
  nh = (int)lua_rawlen(L, 3);
#else
  nf = (int)lua_objlen(L, 2);
  nh = (int)lua_objlen(L, 3);
#endif
  luaL_argcheck(L, nf <= MAX_FIELDS, 2, "too many fields");
  luaL_argcheck(L, nh <= MAX_HEADERS, 3, "too many headers");
  luaL_checkstack(L, 2 * (nf + nh) + 4, "prepare_floor");
  lua_settop(L, 3);
  y = (layout *)lua_newuserdata(L, sizeof *y); /* 4 */
  y->nfields = nf;
  y->nheaders = nh;
  y->headers_at = -1;
  for (i = 0; i < nf; i++) {
    lua_rawgeti(L, 2, i + 1); /* the key */
    lua_pushvalue(L, -1);
    lua_rawget(L, 1); /* its value */
    if (lua_type(L, -1) == LUA_TTABLE) { /* the headers: built from their own pairs */
      luaL_argcheck(L, y->headers_at < 0, 1, "one table field (the headers) expected");
      y->headers_at = i;
      lua_pop(L, 1);
      lua_pushboolean(L, 0);
    }
  }
  luaL_argcheck(L, nh == 0 || y->headers_at >= 0, 1, "no headers table");
  if (nh > 0) {
    int hidx;
    lua_rawgeti(L, 2, y->headers_at + 1);
    lua_rawget(L, 1); /* req.headers */
    hidx = lua_gettop(L);
    for (i = 0; i < nh; i++) {
      lua_rawgeti(L, 3, i + 1); /* the name */
      lua_pushvalue(L, -1);
      lua_rawget(L, hidx); /* its value */
    }
    lua_remove(L, hidx);
  }
  lua_pushcclosure(L, l_build, 1 + 2 * (nf + nh));
  return 1;
}

int luaopen_prepare_floor(lua_State *L);
int luaopen_prepare_floor(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, l_new);
  lua_setfield(L, -2, "new");
  return 1;
}
