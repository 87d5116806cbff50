/* JSON for Lua on top of the core's batch scanner (src/core/json_scan.c): core.json_decode,
 * core.null, core.array_mt and core.array (core.json_encode is json_encode.c).
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
 * Encoding: src/lua/json_encode.c. */
#include <assert.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "../core/json.h"
#include "binding.h"


/* core.null is a lightuserdata holding this address: constant, the same in every VM
 * of the process (so it survives ngx.run_worker_thread), and nothing writes it. */
static const char null_sentinel[] = "alephant.null";
#define NULL_UD ((void *)(uintptr_t)null_sentinel)

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
 * takes them (a long array on Lua 5.4: a Lua function makes it, see ARRAY_MIN). An
 * object that the scanner saw close in the same batch with only values inside (a row
 * of a list: al_json_item.v.i counts its members) gets that table at its opening, in
 * the placeholder's slot: no placeholder to replace. No table grows once made, and
 * nothing is copied outside Lua. A container with more than FLUSH pending
 * slots at the end of a batch of items (or when a child opens), or one whose child
 * opens while the stack is already deep, moves what it has into its table early, so
 * the stack stays below LuaJIT's limit for a C function (LUAI_MAXCSTACK, 8,000 slots)
 * whatever the input: at most DEEP_STACK + FLUSH + 2 * BATCH + 2 per level (1,024) +
 * the key slots, the shapes' constructors (LuaJIT) and spare (~100; an expected
 * object's keys put in late, unpredict, take at most 2 * SHAPE_MAX_KEYS + 4 more, and
 * ask for them). */
#define FLUSH 512        /* pending slots of one container (even: key/value pairs) */
#define DEEP_STACK 4096  /* past this many slots an opening child flushes its parent */
/* Lua 5.4: an array that closes with at least ARRAY_MIN elements all pending (none
 * flushed) is made by a Lua function, function(...) return {...} end, made once per VM
 * (upvalue ARRAY_FN): OP_SETLIST copies its arguments into the table's array part in one
 * go, where lua_rawseti stores each element through the API. The same table: the array
 * part sized to the elements (as lua_createtable gives it), core.array_mt set after.
 * Shorter arrays cost more that way (the call, a table that grows from empty): measured
 * with callgrind, arrays of 100 numbers, per array (before -> after) k=8 2839 -> 3004,
 * k=12 3679 -> 3606, k=16 4532 -> 4183, k=60 12996 -> 10924. Not on LuaJIT: there
 * `{...}` makes a bigger table (TNEW's colocated array part left unused and one more
 * array slot: +32 bytes, a 16-number array 203 -> 242 bytes) for fewer savings (k=16
 * 3818 -> 3624), and a hostile answer of many short arrays would cost 20% more memory. */
#if LUA_VERSION_NUM >= 502
#define ARRAY_MIN 16
#define ARRAY_FN 2 /* after core.array_mt */
#endif
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
  uint64_t rsig; /* the same, the first key's slot in the low 5 bits (frame.expect) */
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
  int left;       /* objects: keys of the shape pred still to come (see push_key) */
  uint64_t expect; /* ... their slots, the next one in the low 5 bits */
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
  char name[SHAPE_MAX_KEYS * (AL_JSON_KEY_SLOT_MAX + 1)];
  size_t name_len = 0;
  luaL_checkstack(L, 2 * n + 8, "JSON document");
  for (i = 0; i < n; i++) { /* the shape's name: the keys joined with '"' */
    size_t len;
    const char *k = lua_tolstring(L, fr->slot + 1 + 2 * i, &len); /* a key slot's: 1 to 40 bytes */
    if (len > AL_JSON_KEY_SLOT_MAX) return 0; /* (never) */
    if (i) name[name_len++] = '"';
    memcpy(name + name_len, k, len);
    name_len += len;
  }
  lua_pushlstring(L, name, name_len);
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
  int i;
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
  free_entry->rsig = 0;
  for (i = 0; i < n; i++) free_entry->rsig = free_entry->rsig << 5 | (fr->sig >> (5 * i) & 31u);
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
  int m = s->n - fr->left, p = top - fr->slot, j, c; /* m keys came as expected */
  fr->pred = 0;
  if (m == 0) return top;
  fr->sig = s->sig >> (5 * (s->n - m)); /* the slots of those m keys, as push_key would have */
  for (j = 0; j < m; j++) fr->seen |= 1u << slot_at(s, j); /* (the shape's slots are distinct) */
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
    /* the next expected key (never a -1 slot): only its value is pushed; its slot goes
     * into fr->sig and fr->seen at the close (unpredict), or never (the constructor) */
    if (fr->left && !it->key_new && h == (int)(fr->expect & 31u)) {
      fr->expect >>= 5;
      fr->left--;
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
    for (i = pending; i > 0; i--) alc_rawseti(L, fr->slot, fr->n + i); /* pops the top */
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
          cur->left = 0;
          cur->last_shape = 0;
          cur->early = 0;
          cur->pred = cur->object ? cur[-1].last_shape : 0;
          /* forgotten since, or its entry taken by another shape, constructor not yet looked for */
          if (cur->pred) {
            const shape *sh = &d.shapes[cur->pred - 1];
            if (sh->n == 0 || sh->fn == 0) {
              cur->pred = 0;
            } else {
              cur->left = sh->n;
              cur->expect = sh->rsig;
            }
          }
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
#ifdef SHAPES
          /* an expected object's placeholder is its constructor: called in place if it
           * closes as expected (any other way replaces it, as a placeholder) */
          if (cur->pred) lua_pushvalue(L, d.shapes[cur->pred - 1].fn);
          else
#endif
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
              if (cur->left == 0) { /* every key as expected: the values wait in order
                                     * above the constructor (the placeholder) */
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
          /* (an object with maybe_dup falls through to here: flush) */
#ifdef ARRAY_FN
          if (!cur->object && !cur->created && top - cur->slot >= ARRAY_MIN) {
            /* every element pending above the placeholder: the array's function there */
            lua_pushvalue(L, lua_upvalueindex(ARRAY_FN));
            lua_replace(L, cur->slot);
            lua_call(L, top - cur->slot, 1);
            top = cur->slot;
            lua_pushvalue(L, d.array_mt);
            lua_setmetatable(L, top);
            cur--;
            continue;
          }
#endif
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

/* core.array([t]) -> t with core.array_mt (a new table when t is nil): encodes as a
 * JSON array even when empty. */
static int l_array(lua_State *L) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  luaL_getmetatable(L, ALB_ARRAY_MT);
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

static const luaL_Reg funcs[] = {{"json_encode", alb_json_encode}, {"array", l_array}, {NULL, NULL}};

void alb_open_json(lua_State *L) {
  alc_setfuncs(L, funcs, 0);
  lua_pushlightuserdata(L, NULL_UD);
  lua_setfield(L, -2, "null");
  if (luaL_newmetatable(L, ALB_ARRAY_MT)) { /* once per VM: luaopen may run again */
    lua_pushliteral(L, ALB_ARRAY_MT);
    lua_setfield(L, -2, "__name");
  }
  lua_pushvalue(L, -1); /* upvalue 1: core.array_mt, no registry lookup per call */
#ifdef ARRAY_FN
  { /* upvalue ARRAY_FN: the arrays' function */
    static const char src[] = "return function(...) return {...} end";
    if (luaL_loadbuffer(L, src, sizeof src - 1, "=alephant.json_decode array") != 0) lua_error(L);
    lua_call(L, 0, 1);
  }
#else
  lua_newtable(L); /* upvalue 2: the shapes' constructors (SHAPES) */
#endif
  lua_pushcclosure(L, l_decode, 2);
  lua_setfield(L, -3, "json_decode");
  lua_setfield(L, -2, "array_mt");
}
