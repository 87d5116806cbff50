/* JSON for Lua on top of the core scanner (src/core/json.c): core.json_decode,
 * core.json_encode, core.null, core.array_mt and core.array.
 *
 * Memory: only the Lua stack and Lua objects (tables, strings, userdata buffers)
 * are used, never malloc, so an error or an out-of-memory longjmp leaks nothing.
 * State: none outside the lua_State; core.null is the address of a constant.
 *
 * Decoding: objects -> tables (null members absent, duplicate keys: the last wins),
 * arrays -> tables with core.array_mt (null elements -> core.null), top-level
 * null -> core.null. Integers that fit int64 -> Lua integers on 5.3+; on LuaJIT
 * every number is a double, exact up to 2^53. Numbers beyond int64 -> doubles
 * (correctly rounded; beyond the double range -> +-math.huge).
 *
 * Encoding: see l_encode. */
#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/json.h"
#include "binding.h"

#define ARRAY_MT "alephant.array"

/* core.null is a lightuserdata holding this address: constant, the same in every VM
 * of the process (so it survives ngx.run_worker_thread), and nothing writes it. */
static const char null_sentinel[] = "alephant.null";
#define NULL_UD ((void *)(uintptr_t)null_sentinel)

#if LUA_VERSION_NUM >= 503
#define RAWSETI(L, t, i) lua_rawseti((L), (t), (lua_Integer)(i))
#define RAWGETI(L, t, i) lua_rawgeti((L), (t), (lua_Integer)(i))
#else
#define RAWSETI(L, t, i) lua_rawseti((L), (t), (int)(i))
#define RAWGETI(L, t, i) lua_rawgeti((L), (t), (int)(i))
#endif

/* ------------------------------------------------------------------ decode ---- */

#define SMALL_STR 256 /* escaped strings up to this size decode on the C stack */

typedef struct {
  int slot;    /* stack index of the scratch userdata for longer escaped strings */
  size_t cap;  /* its size */
  char small[SMALL_STR];
} scratch;

/* A string's raw bytes (len) with escapes, unescaped (decoded_len bytes): rare, the
 * scanner found a backslash. */
static void push_escaped(lua_State *L, const char *str, size_t len, size_t decoded_len, scratch *sb) {
  al_json_token tok;
  char *buf = sb->small;
  if (decoded_len > SMALL_STR) {
    if (decoded_len > sb->cap) {
      sb->cap = decoded_len > 2 * sb->cap ? decoded_len : 2 * sb->cap;
      lua_newuserdata(L, sb->cap); /* the old one becomes garbage: nothing to free */
      lua_replace(L, sb->slot);
    }
    buf = (char *)lua_touserdata(L, sb->slot);
  }
  memset(&tok, 0, sizeof tok);
  tok.str = str;
  tok.len = len;
  tok.decoded_len = decoded_len;
  tok.escaped = 1;
  al_json_unescape(&tok, buf);
  lua_pushlstring(L, buf, decoded_len);
}

static void push_string(lua_State *L, const al_json_item *it, scratch *sb) {
  if (!it->escaped) lua_pushlstring(L, it->str, it->len); /* the common case: no copy of ours */
  else push_escaped(L, it->str, it->len, it->v.decoded_len, sb);
}

static void push_integer(lua_State *L, int64_t v) {
#if LUA_VERSION_NUM >= 503
  if ((int64_t)(lua_Integer)v == v) {
    lua_pushinteger(L, (lua_Integer)v);
    return;
  }
#endif
  lua_pushnumber(L, (lua_Number)v); /* LuaJIT: exact up to 2^53, then correctly rounded */
}

static int decode_error(lua_State *L, const al_json_scanner *sc) {
  al_error err;
  size_t off = sc->err_offset;
  al_fail(&err, AL_ERR_DECODE, NULL, "invalid JSON at offset %lu: %s", (unsigned long)off, sc->err);
  alb_push_error(L, &err);
  lua_pushinteger(L, (lua_Integer)off); /* err.offset: 0-based, as in the message */
  lua_setfield(L, -2, "offset");
  return 2;
}

/* Decoding builds every table once, at its full size: the values of an open container
 * wait on the Lua stack above a placeholder slot, and when the container closes a
 * table of exactly that many elements (lua_createtable) replaces the placeholder and
 * takes them. An object that the scanner saw close in the same batch with only values
 * inside (a row of a list: al_json_item.v.i counts its members) gets that table at its
 * opening, in the placeholder's slot: no placeholder to replace. No table is ever
 * resized, and nothing is copied outside Lua. A container with more than FLUSH pending
 * slots at the end of a batch of items (or when a child opens), or one whose child
 * opens while the stack is already deep, moves what it has into its table early, so
 * the stack stays below LuaJIT's limit for a C function (LUAI_MAXCSTACK, 8,000 slots)
 * whatever the input: at most DEEP_STACK + FLUSH + 2 * BATCH + 2 per level (1,024) +
 * the key slots, the shapes' constructors (LuaJIT) and spare (~100; an expected
 * object's keys put in late, unpredict, take at most 2 * SHAPE_MAX_KEYS + 4 more, and
 * ask for them). */
#define FLUSH 512        /* pending slots of one container (even: key/value pairs) */
#define DEEP_STACK 4096  /* past this many slots an opening child flushes its parent */
#define BATCH 64         /* items per al_json_scan call (on the C stack, 64 bytes each) */
#if LUA_VERSION_NUM < 502
#define SHAPES 8        /* object shapes remembered per decode (see shape below) */
#define FN_SLOTS SHAPES /* stack slots for their constructors */
#else
#define FN_SLOTS 0
#endif

/* Under LuaJIT an object whose keys came, in the same order, with an earlier object
 * of the document (the rows of a list) is made by a Lua function, a table constructor
 * with those keys generated once per VM: LuaJIT copies the constructor's template,
 * keys in place (TDUP), where lua_createtable and one lua_rawset per key insert each
 * key anew; an object expected to have its previous sibling's keys pushes only its
 * values (unpredict). The 30 rows of bench/usage_body.json: ~9k fewer instructions a
 * decode (callgrind, 86.6k -> 77.6k). Lua 5.4 has no template copy: its constructor inserts each key as
 * lua_rawset does, and the call costs more than it saves (measured: 57.0k -> 62.0k
 * for 30 rows), so 5.4 keeps the C-API way. See shape_constructor. */
#ifdef SHAPES
#define SHAPE_MAX_KEYS 12  /* a shape's slots, 5 bits each, fit its 64-bit signature */
#define SHAPE_CACHE_MAX 64 /* constructors per VM: documents with ever new shapes stop there */
typedef struct {
  uint64_t sig;  /* the key slots in order, 5 bits each */
  unsigned mask; /* the same as a set (invalidation) */
  int n;         /* keys; 0: a free entry */
  int tried;     /* the constructor was looked for (fn: found, 0: none) */
  int fn;        /* stack index of its constructor, or 0 */
} shape;
#endif

/* Object keys repeat (30 series rows share 4 names): each key's Lua string waits in
 * the stack slot of its key slot (al_json_item.key_slot: the scanner says when a
 * slot takes another key), so a repeat needs no lua_pushlstring (hashing, interning). */
typedef struct {
  int slot;       /* stack index of the placeholder, then of the table */
  int object;     /* an object (key/value pairs pending), else an array */
  int created;    /* the table exists (made at its opening, or flushed early) */
  int maybe_dup;  /* objects: two keys may be equal (see push_key) */
  unsigned seen;  /* objects: the key slots of its keys */
  lua_Integer n;  /* arrays: elements already in the table */
#ifdef SHAPES
  uint64_t sig;   /* objects: the key slots in order (shape.sig) */
  unsigned epoch; /* decoder.epoch when it opened */
  int pred;       /* objects: the shape (index + 1) it is expected to have, or 0 */
  int matched;    /* its keys that came as expected: not pushed (see unpredict) */
  int last_shape; /* the shape (index + 1) of its last child object made by constructor */
  int early;      /* objects: its table made at its opening (l_decode), its pairs all pending */
#endif
} frame;

typedef struct {
  lua_State *L;
  int array_mt; /* stack index of core.array_mt */
  int keys;     /* stack index of the first key slot's string */
#ifdef SHAPES
  unsigned epoch; /* counts the key slots' changes of key */
  int nshapes;
  int fns;        /* stack index of the first shape's constructor slot */
  shape shapes[SHAPES];
#endif
  frame f[AL_JSON_MAX_DEPTH + 1];
} decoder;

#ifdef SHAPES
/* Slot h takes another key: a shape with h in it named the old one. */
static void forget_slot(decoder *d, int h) {
  int i;
  d->epoch++;
  for (i = 0; i < d->nshapes; i++)
    if (d->shapes[i].mask & (1u << h)) d->shapes[i].n = 0;
}

/* Pushes the constructor of the object whose n keys are at fr->slot + 1, + 3, ... (a
 * Lua function taking the object's n values in that order and returning the table),
 * from the VM's cache (upvalue 2, by the keys joined with '"') or made now;
 * returns 0 with nothing pushed when there is none (the cache is full, or a key would
 * not make safe source: slotted keys have no '"', '\\' or control byte, checked anyway). */
static int push_constructor(decoder *d, const frame *fr, int n) {
  lua_State *L = d->L;
  luaL_Buffer b;
  int i, count;
  luaL_checkstack(L, 2 * n + 8, "JSON document");
  for (i = 0; i < n; i++) {
    if (i) lua_pushliteral(L, "\"");
    lua_pushvalue(L, fr->slot + 1 + 2 * i);
  }
  lua_concat(L, 2 * n - 1); /* the shape's name */
  lua_pushvalue(L, -1);
  lua_rawget(L, lua_upvalueindex(2));
  if (!lua_isnil(L, -1)) {
    lua_remove(L, -2);
    return 1;
  }
  lua_pop(L, 1);
  lua_rawgeti(L, lua_upvalueindex(2), 1); /* [1]: how many constructors the cache has */
  count = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (count >= SHAPE_CACHE_MAX) {
    lua_pop(L, 1);
    return 0;
  }
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "return function(");
  for (i = 0; i < n; i++) {
    char arg[16];
    snprintf(arg, sizeof arg, "%sv%d", i ? "," : "", i);
    luaL_addstring(&b, arg);
  }
  luaL_addstring(&b, ") return {");
  for (i = 0; i < n; i++) {
    size_t len, j;
    const char *k = lua_tolstring(L, fr->slot + 1 + 2 * i, &len); /* anchored on the stack */
    char val[16];
    for (j = 0; j < len; j++) {
      unsigned char c = (unsigned char)k[j];
      if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) {
        luaL_pushresult(&b);
        lua_pop(L, 2);
        return 0;
      }
    }
    luaL_addstring(&b, "[\"");
    luaL_addlstring(&b, k, len);
    snprintf(val, sizeof val, "\"]=v%d,", i);
    luaL_addstring(&b, val);
  }
  luaL_addstring(&b, "} end");
  luaL_pushresult(&b);
  {
    size_t len;
    const char *src = lua_tolstring(L, -1, &len);
    if (luaL_loadbuffer(L, src, len, "=alephant.json_decode shape") != 0) {
      lua_pop(L, 3); /* the message, the source, the name */
      return 0;
    }
  }
  lua_call(L, 0, 1); /* the constructor */
  lua_remove(L, -2); /* the source */
  /* looked at again: the chunk's run (a hook) and the compile's allocations (a __gc
   * metamethod) may have decoded meanwhile and added constructors, this one too (the
   * count read above would lose them, and the cache pass its cap) */
  lua_pushvalue(L, -2);
  lua_rawget(L, lua_upvalueindex(2));
  if (!lua_isnil(L, -1)) { /* made meanwhile: that one */
    lua_replace(L, -2);
    lua_remove(L, -2); /* the name */
    return 1;
  }
  lua_pop(L, 1);
  lua_rawgeti(L, lua_upvalueindex(2), 1);
  count = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (count < SHAPE_CACHE_MAX) {
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -2);
    lua_rawset(L, lua_upvalueindex(2));
    lua_pushinteger(L, count + 1);
    lua_rawseti(L, lua_upvalueindex(2), 1);
  } /* else this decode uses it uncached */
  lua_remove(L, -2); /* the name */
  return 1;
}

/* The shape, with its constructor, of the usual object closing in fr (n pairs
 * pending, keys from slots, all distinct), or NULL: use the C API. A shape is known by its
 * slots in order, which name the same keys as long as no slot took another key: an
 * object during whose life a slot changed is not matched (nor remembered), and a change
 * forgets the shapes with that slot. A shape's constructor is looked for the second
 * time it closes in a document (once-only objects never pay for the look-up). */
static shape *shape_constructor(decoder *d, const frame *fr, int n) {
  shape *s = d->shapes, *end = s + d->nshapes, *free_entry = NULL;
  if (n < 2 || n > SHAPE_MAX_KEYS || fr->epoch != d->epoch) return NULL;
  for (; s != end; s++) {
    if (s->n == n && s->sig == fr->sig) {
      if (!s->tried) {
        s->tried = 1;
        if (push_constructor(d, fr, n)) {
          s->fn = d->fns + (int)(s - d->shapes);
          lua_replace(d->L, s->fn);
        }
      }
      return s->fn ? s : NULL;
    }
    if (s->n == 0 && free_entry == NULL) free_entry = s;
  }
  if (free_entry == NULL) {
    if (d->nshapes == SHAPES) return NULL;
    free_entry = &d->shapes[d->nshapes++];
  }
  free_entry->sig = fr->sig;
  free_entry->mask = fr->seen;
  free_entry->n = n;
  free_entry->tried = 0;
  free_entry->fn = 0;
  return NULL;
}

/* The slot of a shape's key i. */
static int slot_at(const shape *s, int i) {
  return (int)(s->sig >> (5 * (s->n - 1 - i)) & 31u);
}

/* An object whose previous sibling object was made by a constructor is expected to have
 * the same keys (the rows of a list): while its keys come as expected, only its values
 * are pushed, and when it closes with all of them the constructor takes the values as
 * they are. Anything else (another key, a new key, a child container, an early close)
 * ends the expectation here: the keys matched so far go in under their values (from
 * their slots: no slot can have changed, as the object is the innermost and had no new
 * key). Returns the new top. */
static int unpredict(decoder *d, frame *fr, int top) {
  lua_State *L = d->L;
  const shape *s = &d->shapes[fr->pred - 1];
  int m = fr->matched, p = top - fr->slot, j, c;
  fr->pred = 0;
  if (m == 0) return top;
  assert(p == m || p == m - 1); /* the last key's value may still be to come */
  luaL_checkstack(L, 2 * m + 4, "JSON document");
  for (j = 0; j < m; j++) {
    lua_pushvalue(L, d->keys + slot_at(s, j));
    if (j < p) lua_pushvalue(L, fr->slot + 1 + j);
  }
  c = p + m; /* the keys and values, above the values: moved down onto them */
  for (j = 0; j < c; j++) {
    lua_pushvalue(L, top + 1 + j);
    lua_replace(L, fr->slot + 1 + j);
  }
  lua_settop(L, fr->slot + c);
  return fr->slot + c;
}
#endif

/* The key an item carries. Equal keys have the same slot, so an object whose keys
 * all have distinct slots has no duplicate key (fr->seen); any other object is marked
 * maybe_dup, and flush keeps its document order. */
static int push_key(decoder *d, frame *fr, const al_json_item *it, scratch *sb, int top) {
  lua_State *L = d->L;
  int h = it->key_slot;
#ifdef SHAPES
  if (fr->pred) {
    const shape *s = &d->shapes[fr->pred - 1];
    if (!it->key_new && h >= 0 && fr->matched < s->n && h == slot_at(s, fr->matched)) {
      fr->seen |= 1u << h; /* the shape's slots are distinct */
      fr->sig = fr->sig << 5 | (unsigned)h;
      fr->matched++;
      return top;
    }
    top = unpredict(d, fr, top);
  }
#endif
  top++;
  if (h < 0) { /* escapes, or too long or empty for a slot */
    fr->maybe_dup = 1;
    if (it->key_decoded_len == it->key_len) lua_pushlstring(L, it->key, it->key_len);
    else push_escaped(L, it->key, it->key_len, it->key_decoded_len, sb);
    return top;
  }
  if (fr->seen & (1u << h)) fr->maybe_dup = 1;
  fr->seen |= 1u << h;
#ifdef SHAPES
  fr->sig = fr->sig << 5 | (unsigned)h;
#endif
  if (!it->key_new) {
    lua_pushvalue(L, d->keys + h);
    return top;
  }
#ifdef SHAPES
  forget_slot(d, h);
#endif
  lua_pushlstring(L, it->key, it->key_len);
#if LUA_VERSION_NUM >= 502
  lua_copy(L, -1, d->keys + h); /* lua_replace would pop, and a pushvalue push it again */
#else
  lua_pushvalue(L, -1);
  lua_replace(L, d->keys + h);
#endif
  return top;
}

/* Moves the pending values of frame fr (everything above its slot up to top, but an
 * object's key still waiting for its value) into its table, creating the table
 * first. Returns the new top. */
static int flush(decoder *d, frame *fr, int top, int closing) {
  lua_State *L = d->L;
  int object = fr->object;
  int pending = top - fr->slot, i;
  assert(top == lua_gettop(L));
#ifdef SHAPES
  assert(fr->pred == 0); /* never a predicted object: at most SHAPE_MAX_KEYS pending, no child */
#endif
  if (object) {
    int pairs = pending / 2;
    if (!fr->created) {
      lua_createtable(L, 0, pairs);
      lua_replace(L, fr->slot);
      fr->created = 1;
    }
    if (!fr->maybe_dup && pending % 2 == 0) {
      /* no key twice: any order gives the same table, and lua_rawset takes the
       * pairs from the top (a nil value, null, leaves the key absent), down to
       * the table */
      for (i = 0; i < pairs; i++) lua_rawset(L, fr->slot);
    } else {
      for (i = 0; i < pairs; i++) { /* in document order: a later duplicate wins */
        lua_pushvalue(L, fr->slot + 1 + 2 * i);
        lua_pushvalue(L, fr->slot + 2 + 2 * i);
        lua_rawset(L, fr->slot);
      }
      if (pending % 2 && pairs > 0) { /* a key whose value is not there yet moves down */
        lua_replace(L, fr->slot + 1);
        lua_settop(L, fr->slot + 1);
      } else if (pending % 2 == 0) {
        lua_settop(L, fr->slot);
      }
    }
    top = fr->slot + pending % 2; /* an object's key waiting for its value stays */
  } else {
    if (!fr->created) {
      lua_createtable(L, pending, 0);
      lua_replace(L, fr->slot);
      fr->created = 1;
    }
    for (i = pending; i > 0; i--) RAWSETI(L, fr->slot, fr->n + i); /* pops the top */
    fr->n += pending;
    if (closing) {
      lua_pushvalue(L, d->array_mt);
      lua_setmetatable(L, fr->slot);
    }
    top = fr->slot;
  }
  assert(top == lua_gettop(L));
  return top;
}

/* core.json_decode(s) -> value | nil, err */
static int l_decode(lua_State *L) {
  decoder d;
  al_json_scanner sc;
  al_json_item items[BATCH];
  frame *cur;
  scratch sb;
  size_t n;
  const char *s;
  int top, limit; /* the stack top, counted here (no lua_gettop per value), and the
                   * top up to which a batch needs no lua_checkstack */
  if (lua_type(L, 1) != LUA_TSTRING)
    return luaL_argerror(L, 1, lua_pushfstring(L, "string expected, got %s", luaL_typename(L, 1)));
  s = lua_tolstring(L, 1, &n); /* stays valid: argument 1 stays on the stack */
  lua_settop(L, 1);
  luaL_checkstack(L, AL_JSON_KEY_SLOTS + FN_SLOTS + 8, "JSON document");
  lua_pushvalue(L, lua_upvalueindex(1)); /* 2: core.array_mt */
  lua_pushnil(L);                        /* 3: scratch */
  /* 4..: the key slots' strings, then (LuaJIT) the shapes' constructors */
  lua_settop(L, 3 + AL_JSON_KEY_SLOTS + FN_SLOTS);
  d.L = L;
  d.array_mt = 2;
  d.keys = 4;
#ifdef SHAPES
  d.fns = 4 + AL_JSON_KEY_SLOTS;
  d.epoch = 0;
  d.nshapes = 0;
#endif
  top = 3 + AL_JSON_KEY_SLOTS + FN_SLOTS;
  limit = 0; /* checked before the first batch */
  sb.slot = 3;
  sb.cap = 0;
  al_json_scanner_init(&sc, s, n);
  cur = d.f; /* the innermost open container's frame; f[0]: the top level */
  cur->object = 0; /* a null there is core.null */
#ifdef SHAPES
  cur->pred = 0;
  cur->last_shape = 0;
#endif
  /* The scanner checks the grammar and hands out the document's items in order, a
   * batch at a time; each item pushes at most two slots (a member's key and its
   * value; a closing pops), so room for a batch is checked once. lua_checkstack's
   * room stays: the stack never shrinks below what a running C function asked for
   * (Lua 5.4; LuaJIT grows it on push), whatever flushes do in between. */
  for (;;) {
    const al_json_item *it, *end;
    if (top > limit) {
      luaL_checkstack(L, 2 * BATCH + 64, "JSON document");
      limit = top + 48; /* + 2 * BATCH pushes + a flush's temporaries (8) */
    }
    end = items + al_json_scan(&sc, items, BATCH);
    for (it = items; it != end; it++) {
      if (it->key) top = push_key(&d, cur, it, &sb, top); /* a member's key, before its value */
      switch (it->type) {
        case AL_JSON_STRING:
          push_string(L, it, &sb);
          break;
        case AL_JSON_INTEGER:
          push_integer(L, it->v.i);
          break;
        case AL_JSON_DOUBLE:
          lua_pushnumber(L, (lua_Number)it->v.d);
          break;
        case AL_JSON_TRUE:
        case AL_JSON_FALSE:
          lua_pushboolean(L, it->type == AL_JSON_TRUE);
          break;
        case AL_JSON_NULL:
          if (cur->object) lua_pushnil(L); /* absent (and undoes a duplicate) */
          else lua_pushlightuserdata(L, NULL_UD);
          break;
        case AL_JSON_OBJECT:
        case AL_JSON_ARRAY:
#ifdef SHAPES
          if (cur->pred) top = unpredict(&d, cur, top);
#endif
          /* the parent keeps few pending slots while the stack is deep */
          if (cur != d.f && (top - cur->slot > FLUSH || top > DEEP_STACK)) top = flush(&d, cur, top, 0);
          cur++; /* == &d.f[sc.depth] */
          cur->slot = ++top;
          cur->object = it->type == AL_JSON_OBJECT;
          cur->maybe_dup = 0;
          cur->seen = 0;
          cur->n = 0;
#ifdef SHAPES
          cur->sig = 0;
          cur->epoch = d.epoch;
          cur->matched = 0;
          cur->last_shape = 0;
          cur->early = 0;
          cur->pred = cur->object ? cur[-1].last_shape : 0;
          /* forgotten since, or its entry taken by another shape, constructor not yet looked for */
          if (cur->pred && (d.shapes[cur->pred - 1].n == 0 || d.shapes[cur->pred - 1].fn == 0)) cur->pred = 0;
          if (cur->object && it->v.i >= 0 && !cur->pred) { /* (an expected object waits for its
                                                          * constructor) */
            cur->early = 1;
#else
          if (cur->object && it->v.i >= 0) {
#endif
            /* closes in this batch, values only: its table now, at the size the close would
             * give it (its members, nulls too), in the placeholder's stead */
            lua_createtable(L, 0, (int)it->v.i);
            cur->created = 1;
            continue;
          }
          lua_pushnil(L); /* the placeholder */
          cur->created = 0;
          continue;
        case AL_JSON_OBJECT_END:
          if (!cur->maybe_dup) { /* the usual object: flush's first case, here */
            int i, pairs = (top - cur->slot) / 2;
#ifdef SHAPES
            const shape *sh;
            if (cur->pred) {
              sh = &d.shapes[cur->pred - 1];
              if (cur->matched == sh->n) { /* every key as expected: the values wait in order */
                lua_pushvalue(L, sh->fn);
                lua_replace(L, cur->slot);
                lua_call(L, sh->n, 1);
                top = cur->slot;
                cur--;
                continue;
              }
              top = unpredict(&d, cur, top);
              pairs = (top - cur->slot) / 2;
            }
            if (!cur->created || cur->early) { /* all its pairs on the stack (not flushed) */
              sh = shape_constructor(&d, cur, pairs);
              cur[-1].last_shape = sh ? (int)(sh - d.shapes) + 1 : 0;
              if (sh && !cur->created) { /* the values moved down over the keys, the constructor
                                          * in the slot */
                for (i = 0; i < pairs; i++) {
                  lua_pushvalue(L, cur->slot + 2 + 2 * i);
                  lua_replace(L, cur->slot + 1 + i);
                }
                lua_settop(L, cur->slot + pairs);
                lua_pushvalue(L, sh->fn);
                lua_replace(L, cur->slot);
                lua_call(L, pairs, 1);
                top = cur->slot;
                cur--;
                continue;
              }
            }
#endif
            if (!cur->created) {
              lua_createtable(L, 0, pairs);
              lua_replace(L, cur->slot);
            }
            for (i = 0; i < pairs; i++) lua_rawset(L, cur->slot);
            top = cur->slot;
            cur--;
            continue;
          }
          /* fall through */
        case AL_JSON_ARRAY_END:
          /* the finished table, at the placeholder's slot, is now the top */
          top = flush(&d, cur, top, 1);
          cur--;
          continue;
        case AL_JSON_END:
          return 1; /* the document's value is on top */
        default:
          lua_settop(L, 3);
          return decode_error(L, &sc);
      }
      top++;
    }
    if (cur != d.f && top - cur->slot > FLUSH) top = flush(&d, cur, top, 0);
  }
}

/* ------------------------------------------------------------------ encode ---- */

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
    RAWSETI(L, anchor, n + i); /* the value */
    lua_pushvalue(L, -1);
    RAWSETI(L, anchor, i); /* the key */
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
    RAWGETI(L, anchor, n + keys[k].pos);
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
      RAWGETI(L, idx, i);
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
      void *p = lua_touserdata(L, idx);
      if (p == NULL_UD || p == NULL) { /* core.null; also cjson.null and ngx.null */
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
static int l_encode(lua_State *L) {
  encoder e;
  e.root = luaL_optstring(L, 2, "body");
  lua_settop(L, 2);
  luaL_getmetatable(L, ARRAY_MT); /* 3 */
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

/* core.array([t]) -> t with core.array_mt (a new table when t is nil): encodes as a
 * JSON array even when empty. */
static int l_array(lua_State *L) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  luaL_getmetatable(L, ARRAY_MT);
  if (lua_getmetatable(L, 1)) {
    if (!lua_rawequal(L, -1, -2)) return luaL_argerror(L, 1, "table already has another metatable");
    lua_pop(L, 2);
    return 1;
  }
  lua_setmetatable(L, 1);
  return 1;
}

int alb_is_null(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == NULL_UD;
}

static const luaL_Reg funcs[] = {{"json_encode", l_encode}, {"array", l_array}, {NULL, NULL}};

void alb_open_json(lua_State *L) {
  alc_setfuncs(L, funcs, 0);
  lua_pushlightuserdata(L, NULL_UD);
  lua_setfield(L, -2, "null");
  if (luaL_newmetatable(L, ARRAY_MT)) { /* once per VM: luaopen may run again */
    lua_pushliteral(L, ARRAY_MT);
    lua_setfield(L, -2, "__name");
  }
  lua_pushvalue(L, -1);
#if LUA_VERSION_NUM < 502
  lua_newtable(L);                  /* the shapes' constructors (SHAPES) */
  lua_pushcclosure(L, l_decode, 2); /* core.array_mt its upvalue: no registry lookup per call */
#else
  lua_pushcclosure(L, l_decode, 1); /* core.array_mt its upvalue: no registry lookup per call */
#endif
  lua_setfield(L, -3, "json_decode");
  lua_setfield(L, -2, "array_mt");
}
