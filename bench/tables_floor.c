/* The floor under any JSON decoder that returns Lua tables through Lua's C API: build
 * the decoded answer again from a tape recorded once, making only the C-API calls that
 * create it (each table presized, each distinct key string created once per build and
 * reused, every value pushed and set) and doing no parsing at all. Whatever a decoder
 * does, it must at least make these calls, so this time is what no decoder can beat.
 * bench/run.sh builds it for each Lua ABI (benchmark only, not part of the module).
 *
 *   local floor = require "tables_floor"
 *   local tape = floor.record(core.json_decode(body))  -- tables, strings, numbers, booleans
 *   local copy = tape:build()                          -- an equal table, built afresh
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>

#if LUA_VERSION_NUM >= 502
#define RAW_LEN(L, i) lua_rawlen((L), (i))
#else
#define RAW_LEN(L, i) lua_objlen((L), (i))
#endif

#define TAPE_MT "tables_floor.tape"
#define MAX_KEYS 256 /* distinct object keys; an answer with more is refused */

enum { OP_TABLE, OP_STRING, OP_NUMBER, OP_INTEGER, OP_BOOLEAN, OP_SET_INDEX, OP_SET_KEY };

typedef struct {
  int op;
  int a, b;         /* table: array and hash sizes; index; key number; boolean */
  double number;
  char *bytes;      /* strings: a copy owned by the tape */
  size_t len;
} step;

typedef struct {
  step *steps;
  size_t n, cap;
  char *keys[MAX_KEYS];
  size_t key_len[MAX_KEYS];
  int nkeys;
  int depth, max_depth;
} tape;

static void tape_free(tape *t) {
  size_t i;
  int k;
  for (i = 0; i < t->n; i++) free(t->steps[i].bytes);
  free(t->steps);
  for (k = 0; k < t->nkeys; k++) free(t->keys[k]);
  memset(t, 0, sizeof *t);
}

static int tape_gc(lua_State *L) {
  tape_free(luaL_checkudata(L, 1, TAPE_MT));
  return 0;
}

static char *copy_bytes(lua_State *L, tape *t, const char *s, size_t len) {
  char *c = malloc(len + 1);
  if (c == NULL) {
    tape_free(t);
    luaL_error(L, "tables_floor: out of memory");
  }
  memcpy(c, s, len);
  c[len] = '\0';
  return c;
}

static step *add(lua_State *L, tape *t, int op) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 256;
    step *s = realloc(t->steps, cap * sizeof *s);
    if (s == NULL) {
      tape_free(t);
      luaL_error(L, "tables_floor: out of memory");
    }
    t->steps = s;
    t->cap = cap;
  }
  memset(&t->steps[t->n], 0, sizeof t->steps[t->n]);
  t->steps[t->n].op = op;
  return &t->steps[t->n++];
}

static int key_number(lua_State *L, tape *t, const char *k, size_t len) {
  int i;
  for (i = 0; i < t->nkeys; i++)
    if (t->key_len[i] == len && memcmp(t->keys[i], k, len) == 0) return i;
  if (t->nkeys == MAX_KEYS) {
    tape_free(t);
    luaL_error(L, "tables_floor: more than %d distinct keys", MAX_KEYS);
  }
  t->keys[t->nkeys] = copy_bytes(L, t, k, len);
  t->key_len[t->nkeys] = len;
  return t->nkeys++;
}

static void record_value(lua_State *L, tape *t, int idx);

/* A table: its array part 1..n in order, then its string keys (what json_decode makes). */
static void record_table(lua_State *L, tape *t, int idx) {
  int n = (int)RAW_LEN(L, idx), members = 0, i;
  step *s;
  luaL_checkstack(L, 4, "tables_floor: too deep");
  if (++t->depth > t->max_depth) t->max_depth = t->depth;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) == LUA_TSTRING) members++;
    lua_pop(L, 1);
  }
  s = add(L, t, OP_TABLE);
  s->a = n;
  s->b = members;
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    record_value(L, t, lua_gettop(L));
    lua_pop(L, 1);
    add(L, t, OP_SET_INDEX)->a = i;
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      size_t len;
      const char *k = lua_tolstring(L, -2, &len);
      int key = key_number(L, t, k, len);
      record_value(L, t, lua_gettop(L));
      add(L, t, OP_SET_KEY)->a = key;
    }
    lua_pop(L, 1);
  }
  t->depth--;
}

static void record_value(lua_State *L, tape *t, int idx) {
  switch (lua_type(L, idx)) {
  case LUA_TTABLE:
    record_table(L, t, idx);
    break;
  case LUA_TSTRING: {
    size_t len;
    const char *str = lua_tolstring(L, idx, &len);
    step *s = add(L, t, OP_STRING);
    s->bytes = copy_bytes(L, t, str, len);
    s->len = len;
    break;
  }
  case LUA_TNUMBER:
#if LUA_VERSION_NUM >= 503
    if (lua_isinteger(L, idx)) { /* pushed as an integer again, as the decoder does */
      add(L, t, OP_INTEGER)->number = (double)lua_tointeger(L, idx);
      break;
    }
#endif
    add(L, t, OP_NUMBER)->number = (double)lua_tonumber(L, idx);
    break;
  case LUA_TBOOLEAN:
    add(L, t, OP_BOOLEAN)->a = lua_toboolean(L, idx);
    break;
  default:
    tape_free(t);
    luaL_error(L, "tables_floor: cannot record a %s", luaL_typename(L, idx));
  }
}

/* floor.record(value) -> tape */
static int l_record(lua_State *L) {
  tape *t;
  luaL_checktype(L, 1, LUA_TTABLE);
  t = lua_newuserdata(L, sizeof *t);
  memset(t, 0, sizeof *t);
  luaL_getmetatable(L, TAPE_MT);
  lua_setmetatable(L, -2);
  record_value(L, t, 1);
  return 1;
}

/* tape:build() -> a new table equal to the recorded one */
static int l_build(lua_State *L) {
  tape *t = luaL_checkudata(L, 1, TAPE_MT);
  int base, k;
  size_t i;
  if (t->n == 0) return luaL_error(L, "tables_floor: empty tape");
  luaL_checkstack(L, t->nkeys + 2 * t->max_depth + 8, "tables_floor: too deep");
  base = lua_gettop(L);
  for (k = 0; k < t->nkeys; k++) lua_pushlstring(L, t->keys[k], t->key_len[k]);
  for (i = 0; i < t->n; i++) {
    const step *s = &t->steps[i];
    switch (s->op) {
    case OP_TABLE: lua_createtable(L, s->a, s->b); break;
    case OP_STRING: lua_pushlstring(L, s->bytes, s->len); break;
    case OP_NUMBER: lua_pushnumber(L, (lua_Number)s->number); break;
    case OP_INTEGER: lua_pushinteger(L, (lua_Integer)s->number); break;
    case OP_BOOLEAN: lua_pushboolean(L, s->a); break;
    case OP_SET_INDEX: lua_rawseti(L, -2, s->a); break;
    default: /* OP_SET_KEY: value on top, its table under it */
      lua_pushvalue(L, base + 1 + s->a);
      lua_insert(L, -2);
      lua_rawset(L, -3);
      break;
    }
  }
  return 1;
}

int luaopen_tables_floor(lua_State *L);
int luaopen_tables_floor(lua_State *L) {
  luaL_newmetatable(L, TAPE_MT);
  lua_pushcfunction(L, tape_gc);
  lua_setfield(L, -2, "__gc");
  lua_newtable(L);
  lua_pushcfunction(L, l_build);
  lua_setfield(L, -2, "build");
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_newtable(L);
  lua_pushcfunction(L, l_record);
  lua_setfield(L, -2, "record");
  return 1;
}
