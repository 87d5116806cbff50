/* The floor under any JSON decoder that returns Lua tables through Lua's C API: build
 * the decoded answer again from a tape recorded once, making only the C-API calls that
 * create it (each table presized, each distinct key string created once per build and
 * reused, every value pushed and set) and doing no parsing at all. Whatever a decoder
 * does, it must at least make these calls, so this time is what no decoder can beat.
 * Under LuaJIT an object whose keys repeat in another object of the answer (the rows of
 * a list) is made by a Lua table constructor with those keys, made when the tape is
 * recorded: LuaJIT copies the constructor's template with its keys in place, cheaper
 * than inserting each key through the C API, and core.json_decode does the same (from
 * the third such row; src/lua/json.c). On Lua 5.4 a constructor costs more than the C
 * API, so the C API is the floor there.
 * bench/run.sh builds it for each Lua ABI (benchmark only, not part of the module).
 *
 *   local floor = require "tables_floor"
 *   local tape = floor.record(core.json_decode(body))  -- tables, strings, numbers, booleans
 *   local copy = tape:build()                          -- an equal table, built afresh
 */
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if LUA_VERSION_NUM >= 502
#define RAW_LEN(L, i) lua_rawlen((L), (i))
#define RAW_GETI(L, t, i) lua_rawgeti((L), (t), (lua_Integer)(i))
#else
#define RAW_GETI(L, t, i) lua_rawgeti((L), (t), (int)(i))
#define RAW_LEN(L, i) lua_objlen((L), (i))
#endif

#define TAPE_MT "tables_floor.tape"
#define MAX_KEYS 256 /* distinct object keys; an answer with more is refused */

enum { OP_TABLE, OP_STRING, OP_NUMBER, OP_INTEGER, OP_BOOLEAN, OP_SET_INDEX, OP_SET_KEY,
  OP_SHAPE, OP_CALL };

#if LUA_VERSION_NUM < 502
#define SHAPES 1 /* LuaJIT: repeated objects made by constructors (see the top) */
#endif
#define MAX_SHAPES 64
#define MAX_SHAPE_KEYS 32

typedef struct {
  int op;
  int a, b;         /* table: array and hash sizes; index; key number; boolean */
  double number;
  char *bytes;      /* strings: a copy owned by the tape */
  size_t len;
} step;

typedef struct {
  int n, keys[MAX_SHAPE_KEYS]; /* key numbers, in the order the values come */
  int uses;
} shape_t;

typedef struct {
  step *steps;
  size_t n, cap;
  char *keys[MAX_KEYS];
  size_t key_len[MAX_KEYS];
  int nkeys;
  int depth, max_depth;
  shape_t shapes[MAX_SHAPES]; /* SHAPES: the objects' key sequences */
  int nshapes;
  int ctor_mode; /* SHAPES, second recording: repeated shapes by their constructors */
  int ctors, has_ctors; /* SHAPES: registry reference of the list of their constructors */
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
  tape *t = luaL_checkudata(L, 1, TAPE_MT);
  if (t->has_ctors) luaL_unref(L, LUA_REGISTRYINDEX, t->ctors);
  tape_free(t);
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

/* The shape of an object (its string keys in lua_next's order, no array part), counted
 * on the first recording; -1 when it has none (too many keys or shapes, or an array). */
static int shape_of(lua_State *L, tape *t, int idx, int n, int members) {
  shape_t sh;
  int i;
  if (n != 0 || members < 2 || members > MAX_SHAPE_KEYS) return -1;
  sh.n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t len;
    const char *k = lua_tolstring(L, -2, &len); /* every key is a string (no array part) */
    sh.keys[sh.n++] = key_number(L, t, k, len);
    lua_pop(L, 1);
  }
  for (i = 0; i < t->nshapes; i++)
    if (t->shapes[i].n == sh.n && memcmp(t->shapes[i].keys, sh.keys, (size_t)sh.n * sizeof sh.keys[0]) == 0) break;
  if (i == t->nshapes) {
    if (t->nshapes == MAX_SHAPES) return -1;
    sh.uses = 0;
    t->shapes[t->nshapes++] = sh;
  }
  if (!t->ctor_mode) t->shapes[i].uses++;
  return i;
}

/* A table: its array part 1..n in order, then its string keys (what json_decode makes);
 * in ctor_mode an object of a repeated shape: its constructor, its values, the call. */
static void record_table(lua_State *L, tape *t, int idx) {
  int n = (int)RAW_LEN(L, idx), members = 0, i, shape;
  step *s;
  luaL_checkstack(L, 4, "tables_floor: too deep");
  if (++t->depth > t->max_depth) t->max_depth = t->depth;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) == LUA_TSTRING) members++;
    lua_pop(L, 1);
  }
  shape = shape_of(L, t, idx, n, members);
  if (t->ctor_mode && shape >= 0 && t->shapes[shape].uses >= 2) {
    add(L, t, OP_SHAPE)->a = shape;
    lua_pushnil(L);
    while (lua_next(L, idx)) { /* the same order as shape_of's */
      record_value(L, t, lua_gettop(L));
      lua_pop(L, 1);
    }
    add(L, t, OP_CALL)->a = members;
    t->depth--;
    return;
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

#ifdef SHAPES
/* The constructor of shape sh: function(v1, ..., vn) return {["k1"] = v1, ...} end,
 * each key byte that is not a letter or digit written as a decimal escape. */
static void push_constructor(lua_State *L, const tape *t, const shape_t *sh) {
  luaL_Buffer b;
  int i;
  size_t j;
  char piece[32];
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "return function(");
  for (i = 0; i < sh->n; i++) {
    snprintf(piece, sizeof piece, "%sv%d", i ? "," : "", i);
    luaL_addstring(&b, piece);
  }
  luaL_addstring(&b, ") return {");
  for (i = 0; i < sh->n; i++) {
    const char *k = t->keys[sh->keys[i]];
    luaL_addstring(&b, "[\"");
    for (j = 0; j < t->key_len[sh->keys[i]]; j++) {
      unsigned char c = (unsigned char)k[j];
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') {
        luaL_addchar(&b, (char)c);
      } else {
        snprintf(piece, sizeof piece, "\\%03u", (unsigned)c);
        luaL_addstring(&b, piece);
      }
    }
    snprintf(piece, sizeof piece, "\"]=v%d,", i);
    luaL_addstring(&b, piece);
  }
  luaL_addstring(&b, "} end");
  luaL_pushresult(&b);
  if (luaL_loadstring(L, lua_tostring(L, -1)) != 0) lua_error(L);
  lua_call(L, 0, 1);
  lua_remove(L, -2);
}

/* The second recording, with constructors for the shapes used twice or more. */
static void record_with_constructors(lua_State *L, tape *t) {
  int i, any = 0;
  size_t k;
  for (i = 0; i < t->nshapes; i++) any |= t->shapes[i].uses >= 2;
  if (!any) return;
  lua_createtable(L, t->nshapes, 0);
  for (i = 0; i < t->nshapes; i++) {
    if (t->shapes[i].uses < 2) continue;
    push_constructor(L, t, &t->shapes[i]);
    lua_rawseti(L, -2, i + 1);
  }
  t->ctors = luaL_ref(L, LUA_REGISTRYINDEX);
  t->has_ctors = 1;
  for (k = 0; k < t->n; k++) free(t->steps[k].bytes);
  t->n = 0;
  t->ctor_mode = 1;
  record_value(L, t, 1);
}
#endif

/* floor.record(value) -> tape */
static int l_record(lua_State *L) {
  tape *t;
  luaL_checktype(L, 1, LUA_TTABLE);
  t = lua_newuserdata(L, sizeof *t);
  memset(t, 0, sizeof *t);
  luaL_getmetatable(L, TAPE_MT);
  lua_setmetatable(L, -2);
  record_value(L, t, 1);
#ifdef SHAPES
  record_with_constructors(L, t);
#endif
  return 1;
}

/* tape:build() -> a new table equal to the recorded one */
static int l_build(lua_State *L) {
  tape *t = luaL_checkudata(L, 1, TAPE_MT);
  int base, k, fns;
  size_t i;
  if (t->n == 0) return luaL_error(L, "tables_floor: empty tape");
  luaL_checkstack(L, t->nkeys + t->nshapes + (MAX_SHAPE_KEYS + 2) * t->max_depth + 8, "tables_floor: too deep");
  base = lua_gettop(L);
  for (k = 0; k < t->nkeys; k++) lua_pushlstring(L, t->keys[k], t->key_len[k]);
  fns = lua_gettop(L); /* the constructors of the shapes: fns + 1 + shape */
  if (t->has_ctors) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->ctors);
    for (k = 0; k < t->nshapes; k++) RAW_GETI(L, fns + 1, k + 1);
    lua_remove(L, fns + 1);
  }
  for (i = 0; i < t->n; i++) {
    const step *s = &t->steps[i];
    switch (s->op) {
    case OP_SHAPE: lua_pushvalue(L, fns + 1 + s->a); break;
    case OP_CALL: lua_call(L, s->a, 1); break;
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
