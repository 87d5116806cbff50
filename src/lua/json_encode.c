/* core.json_encode (src/lua/json.c has the rest of JSON for Lua: core.json_decode,
 * core.null, core.array_mt, core.array): Lua values to JSON text through the core's
 * emitter (src/core/json_emit.c, json_number.c).
 *
 * Memory: only the Lua stack and Lua objects (the output buffer is a userdata), never
 * malloc, so an error or an out-of-memory longjmp leaks nothing. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/json.h"
#include "binding.h"

typedef struct {
  const char *key; /* NULL: an array index */
  size_t klen;
  lua_Integer index;
} path_part;

typedef struct {
  lua_State *L;
  int buf_slot, mt_slot;
  char *p; /* the buffer userdata at buf_slot */
  size_t len, cap;
  int depth;
  const char *root;
  al_error err;
  path_part path[AL_JSON_MAX_DEPTH + 1];
} encoder;

/* Room for need more bytes: a bigger userdata replaces the old one at buf_slot. */
static void reserve(encoder *e, size_t need) {
  size_t cap;
  char *np;
  if (need <= e->cap - e->len) return;
  if (need > (size_t)-1 / 2 - e->len) luaL_error(e->L, "JSON output too large");
  cap = e->cap * 2 > e->len + need ? e->cap * 2 : e->len + need;
  np = (char *)lua_newuserdata(e->L, cap);
  memcpy(np, e->p, e->len);
  lua_replace(e->L, e->buf_slot);
  e->p = np;
  e->cap = cap;
}

static void add(encoder *e, const char *s, size_t n) {
  reserve(e, n);
  memcpy(e->p + e->len, s, n);
  e->len += n;
}

static void add_char(encoder *e, char c) {
  if (e->len == e->cap) reserve(e, 1);
  e->p[e->len++] = c;
}

static int is_ident(const char *s, size_t n) {
  size_t i;
  if (n == 0 || (s[0] >= '0' && s[0] <= '9')) return 0;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return 0;
  }
  return 1;
}

/* Appends one path part: .name, ["odd key"] (24 bytes at most) or [i] (1-based, as
 * the Lua table the caller built). */
static size_t put_part(char *out, size_t cap, const path_part *p) {
  size_t o = 0, i;
  int w;
  if (!p->key) {
    w = snprintf(out, cap, "[%lld]", (long long)p->index);
    return w < 0 ? 0 : (size_t)w < cap ? (size_t)w : cap - 1;
  }
  if (is_ident(p->key, p->klen)) {
    w = snprintf(out, cap, ".%.*s", (int)(p->klen > 40 ? 40 : p->klen), p->key);
    return w < 0 ? 0 : (size_t)w < cap ? (size_t)w : cap - 1;
  }
  if (cap < 40) return 0;
  out[o++] = '[';
  out[o++] = '"';
  for (i = 0; i < p->klen && i < 24; i++) {
    unsigned char c = (unsigned char)p->key[i];
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') out[o++] = (char)c;
    else out[o++] = '?';
  }
  if (p->klen > 24) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  out[o++] = '"';
  out[o++] = ']';
  out[o] = '\0';
  return o;
}

/* root.a[2]["x y"]; deep paths keep their 4 outer and 4 inner parts. */
static void format_path(const encoder *e, char *out, size_t cap) {
  size_t o;
  int i;
  snprintf(out, cap, "%s", e->root);
  o = strlen(out);
  for (i = 0; i < e->depth && o + 1 < cap; i++) {
    if (e->depth > 10 && i == 4) {
      int w = snprintf(out + o, cap - o, ".<%d more>", e->depth - 8);
      o += w > 0 && (size_t)w < cap - o ? (size_t)w : 0;
      i = e->depth - 4 - 1;
      continue;
    }
    o += put_part(out + o, cap - o, &e->path[i]);
  }
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
/* "<what> at <path>[: <hint>]"; err.field is the path. */
static int encode_fail(encoder *e, const char *hint, const char *fmt, ...) {
  char what[128], path[200];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  format_path(e, path, sizeof path);
  al_fail(&e->err, AL_ERR_VALIDATION, path, "%s at %s%s%s", what, path, hint ? ": " : "", hint ? hint : "");
  return -1;
}

static int encode_value(encoder *e, int idx);

/* A string as a JSON string: valid UTF-8 only (JSON text is Unicode). */
static int encode_string(encoder *e, const char *s, size_t n, const char *what) {
  size_t len, bad;
  if (al_json_escape_measure(s, n, &len, &bad) != 0) {
    char where[48];
    snprintf(where, sizeof where, "byte 0x%02X at offset %lu", (unsigned char)s[bad], (unsigned long)bad);
    return encode_fail(e, where, "cannot encode %s that is not valid UTF-8", what);
  }
  reserve(e, len + 2);
  e->p[e->len++] = '"';
  if (len == n) memcpy(e->p + e->len, s, n); /* nothing to escape */
  else al_json_escape(s, n, e->p + e->len);
  e->len += len;
  e->p[e->len++] = '"';
  return 0;
}

static int encode_number(encoder *e, int idx) {
  char out[AL_JSON_NUMBER_MAX];
  size_t n;
  lua_Number d;
#if LUA_VERSION_NUM >= 503
  if (lua_isinteger(e->L, idx)) {
    add(e, out, al_json_format_integer((int64_t)lua_tointeger(e->L, idx), out));
    return 0;
  }
#endif
  d = lua_tonumber(e->L, idx);
  n = al_json_format_double((double)d, out);
  if (n == 0)
    return encode_fail(e, "JSON has no NaN or infinity", "cannot encode %s", d != d ? "NaN" : d > 0 ? "inf" : "-inf");
  add(e, out, n);
  return 0;
}

typedef struct {
  const char *s;
  size_t n;
  size_t pos; /* 1-based position in the anchor table */
} key_entry;

static int key_cmp(const void *a, const void *b) {
  const key_entry *x = (const key_entry *)a, *y = (const key_entry *)b;
  int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
  return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* The value at key k (keys 1..n of an array) with k in the path. */
static int encode_child(encoder *e, const char *key, size_t klen, lua_Integer index) {
  int r;
  e->path[e->depth].key = key;
  e->path[e->depth].klen = klen;
  e->path[e->depth].index = index;
  e->depth++;
  r = encode_value(e, lua_gettop(e->L));
  e->depth--;
  lua_pop(e->L, 1);
  return r;
}

static int encode_object(encoder *e, int idx, size_t n) {
  lua_State *L = e->L;
  key_entry *keys;
  size_t i = 0, k;
  int anchor;
  /* Keys and values go to an anchor table (so no key string can be collected while
   * we hold its pointer) and the keys to a userdata array that is sorted: objects
   * come out in byte order of their keys, the same body every time. */
  lua_createtable(L, (int)(2 * n < 0x7FFFFFFF ? 2 * n : 0), 0);
  anchor = lua_gettop(L);
  keys = (key_entry *)lua_newuserdata(L, n * sizeof *keys);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (i == n) { /* the table grew under us (a finalizer?): ignore the rest */
      lua_pop(L, 2);
      break;
    }
    i++;
    alc_rawseti(L, anchor, n + i); /* the value */
    lua_pushvalue(L, -1);
    alc_rawseti(L, anchor, i); /* the key */
    keys[i - 1].s = lua_tolstring(L, -1, &keys[i - 1].n);
    keys[i - 1].pos = i;
  }
  n = i;
  if (n <= 16) { /* API objects are small: insertion sort, no qsort scratch */
    for (i = 1; i < n; i++) {
      key_entry x = keys[i];
      for (k = i; k > 0 && key_cmp(&keys[k - 1], &x) > 0; k--) keys[k] = keys[k - 1];
      keys[k] = x;
    }
  } else {
    qsort(keys, n, sizeof *keys, key_cmp);
  }
  add_char(e, '{');
  for (k = 0; k < n; k++) {
    if (k) add_char(e, ',');
    e->path[e->depth].key = keys[k].s; /* a bad key names itself in the path */
    e->path[e->depth].klen = keys[k].n;
    e->depth++;
    if (encode_string(e, keys[k].s, keys[k].n, "a key")) {
      e->depth--;
      return -1;
    }
    e->depth--;
    add_char(e, ':');
    alc_rawgeti(L, anchor, n + keys[k].pos);
    if (encode_child(e, keys[k].s, keys[k].n, 0)) return -1;
  }
  add_char(e, '}');
  lua_pop(L, 2);
  return 0;
}

static int encode_table(encoder *e, int idx) {
  lua_State *L = e->L;
  size_t count = 0, nstr = 0, nint = 0;
  lua_Integer maxint = 0, minint = 0, i;
  int marked = 0, odd_type = LUA_TNONE;
  lua_Number odd_number = 0;
  if (e->depth >= AL_JSON_MAX_DEPTH)
    return encode_fail(e, "does a table contain itself?", "cannot encode tables nested deeper than %d levels",
                       AL_JSON_MAX_DEPTH);
  luaL_checkstack(L, 8, "JSON nesting");
  if (lua_getmetatable(L, idx)) {
    marked = lua_rawequal(L, -1, e->mt_slot);
    lua_pop(L, 1);
  }
  /* Classify the keys in one pass: strings (an object), 1..n (an array), else refuse. */
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int kt = lua_type(L, -2);
    lua_pop(L, 1);
    count++;
    if (kt == LUA_TSTRING) {
      nstr++;
      continue;
    }
    if (kt == LUA_TNUMBER) {
      lua_Integer v = 0;
      int integral = 0;
#if LUA_VERSION_NUM >= 503
      if (lua_isinteger(L, -1)) {
        v = lua_tointeger(L, -1);
        integral = 1;
      }
#else
      lua_Number d = lua_tonumber(L, -1);
      if (d == floor(d) && fabs(d) < 9007199254740992.0) {
        v = (lua_Integer)d;
        integral = 1;
      }
#endif
      if (integral) {
        if (nint == 0 || v > maxint) maxint = v;
        if (nint == 0 || v < minint) minint = v;
        nint++;
        continue;
      }
      odd_number = lua_tonumber(L, -1);
    }
    if (odd_type == LUA_TNONE) odd_type = kt;
  }
  if (odd_type != LUA_TNONE) {
    if (odd_type == LUA_TNUMBER) {
      char num[AL_JSON_NUMBER_MAX];
      if (!al_json_format_double((double)odd_number, num)) strcpy(num, "NaN");
      return encode_fail(e, "keys must be strings, or 1..n", "cannot encode a table with the number key %s", num);
    }
    return encode_fail(e, "keys must be strings, or 1..n", "cannot encode a table with a %s key",
                       lua_typename(L, odd_type));
  }
  if (count == 0) {
    add(e, marked ? "[]" : "{}", 2);
    return 0;
  }
  if (nint == count) {
    if (minint != 1 || maxint != (lua_Integer)count)
      return encode_fail(e, "its keys are not a sequence 1..n (use core.null for holes)",
                         "cannot encode a table with integer key %lld", (long long)(minint < 1 ? minint : maxint));
    add_char(e, '[');
    for (i = 1; i <= maxint; i++) {
      if (i > 1) add_char(e, ',');
      alc_rawgeti(L, idx, i);
      if (encode_child(e, NULL, 0, i)) return -1;
    }
    add_char(e, ']');
    return 0;
  }
  if (nint > 0)
    return encode_fail(e, "a table is an array (keys 1..n) or an object (string keys)",
                       "cannot encode a table with both string keys and integer key %lld", (long long)minint);
  if (marked) return encode_fail(e, NULL, "cannot encode a table marked as an array (core.array_mt) with string keys");
  return encode_object(e, idx, nstr);
}

static int encode_value(encoder *e, int idx) {
  lua_State *L = e->L;
  switch (lua_type(L, idx)) {
    case LUA_TNIL:
      add(e, "null", 4);
      return 0;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx)) add(e, "true", 4);
      else add(e, "false", 5);
      return 0;
    case LUA_TNUMBER:
      return encode_number(e, idx);
    case LUA_TSTRING: {
      size_t n;
      const char *s = lua_tolstring(L, idx, &n);
      return encode_string(e, s, n, "a string");
    }
    case LUA_TTABLE:
      return encode_table(e, idx);
    case LUA_TLIGHTUSERDATA: {
      if (alb_is_null(L, idx) || lua_touserdata(L, idx) == NULL) { /* core.null; also cjson.null
                                                                     * and ngx.null */
        add(e, "null", 4);
        return 0;
      }
      break;
    }
    default:
      break;
  }
  return encode_fail(e, NULL, "cannot encode a %s", luaL_typename(L, idx));
}

/* core.json_encode(v [, name]) -> string | nil, err (kind "validation", err.field
 * and the message name the path, e.g. "body.messages[2].content"; name defaults to
 * "body"). Tables are arrays when their keys are exactly 1..n, or when they carry
 * core.array_mt ("[]" when empty); objects when all keys are strings, written in
 * byte order of the keys; anything else is refused, never guessed. */
int alb_json_encode(lua_State *L) {
  encoder e;
  e.root = luaL_optstring(L, 2, "body");
  lua_settop(L, 2);
  luaL_getmetatable(L, ALB_ARRAY_MT); /* 3 */
  e.L = L;
  e.mt_slot = 3;
  e.buf_slot = 4;
  e.cap = 256;
  e.len = 0;
  e.depth = 0;
  e.p = (char *)lua_newuserdata(L, e.cap); /* 4 */
  if (encode_value(&e, 1)) {
    lua_settop(L, 4);
    return alb_push_error(L, &e.err);
  }
  lua_pushlstring(L, e.p, e.len);
  return 1;
}
