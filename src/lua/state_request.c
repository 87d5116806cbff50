/* The request table of state:prepare and state:prepare_raw, made from the core's plan
 * (al_request): its keys and constant values are prepare's upvalues (cached_strings),
 * the Authorization and workspace values come from the state's cache, the URL is kept
 * for the next call on Lua 5.4; under LuaJIT the values go to a generated Lua
 * constructor instead (alb_state_prepare_lua). */
#include <string.h>

#include "../core/catalog.h"
#include "state_private.h"

static const char *const cached_strings[S_COUNT] = {
    "method", "url", "headers", "body", "endpoint", "api", "idempotent", "paging", "family",
    "Accept", "Authorization", "X-Workspace-Id", "Content-Type", "application/json", "page", "offset",
    "saas", "analytics", "gateway",
    "cockpit", "public", "jwt_only", "workspace", "models",
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

/* The names of the plan's headers by al_header_kind (AL_H_PARAM: the parameter's own). */
static const int header_fields[] = {S_ACCEPT, S_AUTHORIZATION, S_WORKSPACE, 0, S_CONTENT_TYPE};

static void push_cached(lua_State *L, int which) { lua_pushvalue(L, lua_upvalueindex(which + FIRST_CACHED)); }

/* A plan's text (a method, a family) from the cached strings from..to when it is one of
 * them, else as a new string. */
static void push_text(lua_State *L, const char *text, int from, int to) {
  int i;
  for (i = from; i <= to; i++) /* the linker may have merged the core's literal with ours */
    if (cached_strings[i - 1] == text ||
        (cached_strings[i - 1][0] == text[0] && strcmp(cached_strings[i - 1], text) == 0)) {
      push_cached(L, i);
      return;
    }
  lua_pushstring(L, text);
}

/* push_text of a route family: the one cached string it can be, by its first letter */
static void push_family(lua_State *L, const char *text) {
  int k;
  switch (text[0]) {
    case 'w': k = S_WS_FAMILY; break;
    case 'a': k = S_ANALYTICS; break;
    case 'g': k = S_GATEWAY; break;
    case 'c': k = S_COCKPIT; break;
    case 'p': k = S_PUBLIC; break;
    case 'j': k = S_JWT_ONLY; break;
    case 'm': k = S_MODELS; break;
    default: k = 0; break;
  }
  if (k && (cached_strings[k - 1] == text || strcmp(cached_strings[k - 1], text) == 0)) push_cached(L, k);
  else lua_pushstring(L, text);
}

/* The value of one of the plan's headers: constant values from the upvalues, the
 * Authorization value and the workspace ids from the state's cache (at cache). */
static void push_header_value(lua_State *L, const state_t *s, const al_header *x, int cache) {
  size_t n = 0;
  const char *v;
  switch (x->kind) {
    case AL_H_ACCEPT:
    case AL_H_CONTENT_TYPE: push_cached(L, S_JSON); return;
    case AL_H_AUTHORIZATION: /* [1] and [2] were made by state_new from the very strings the
                              * plan points to (s->auth, s->workspace): taken without a compare */
      CACHE_GET(L, cache, 1);
      return;
    case AL_H_WORKSPACE:
      if (x->value == s->workspace) {
        CACHE_GET(L, cache, 2);
        return;
      }
      CACHE_GET(L, cache, 3); /* the resolved context's, kept by accept_scope: compared */
      v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
      if (v == NULL || n != x->value_n || memcmp(v, x->value, n) != 0) {
        lua_pop(L, 1); /* not the cached one: a new string */
        lua_pushlstring(L, x->value, x->value_n);
      }
      return;
    default: lua_pushlstring(L, x->value, x->value_n); return;
  }
}

/* A new headers table on the stack from the plan's headers (header_fields' names, a
 * parameter's own). Each key is pushed before its value (no lua_insert). */
static void push_headers(lua_State *L, const state_t *s, const al_request *r, int cache) {
  unsigned i;
  int h;
  lua_createtable(L, 0, (int)r->nheaders);
  h = lua_gettop(L);
  for (i = 0; i < r->nheaders; i++) {
    const al_header *x = &r->headers[i];
    if (x->kind == AL_H_PARAM) lua_pushstring(L, x->name);
    else push_cached(L, header_fields[x->kind]);
    push_header_value(L, s, x, cache);
    lua_rawset(L, h);
  }
}

/* req.url from the plan: the URL is in small when it fitted, else built again.
 * Lua 5.4 does not intern strings longer than 40 bytes: each URL would be a new
 * allocation, and garbage for the collector. The state's cache keeps the last one, so a
 * call repeated with the same parameters (polling, a budget check per request) gets that
 * string again: analytics.usage 10,164 -> 9,715 instructions a call when it repeats,
 * 10,415 -> 10,637 when two URLs alternate (callgrind). The bytes are compared with a C
 * copy (s->last_url), the string taken from the cache only when they match. LuaJIT interns every string (a
 * repeated URL is found, not allocated): there the look-up would only add to a miss. */
static void push_url(lua_State *L, state_t *s, const al_request *r, const char *small, size_t cap, int cache) {
  if (r->url_n < cap) {
#if LUA_VERSION_NUM >= 504
    if (s->last_url_n == r->url_n && r->url_n > 0 && memcmp(s->last_url, small, r->url_n) == 0) {
      CACHE_GET(L, cache, CACHE_URL);
      return;
    }
    lua_pushlstring(L, small, r->url_n);
    lua_pushvalue(L, -1);
    CACHE_SET(L, cache, CACHE_URL);
    if (r->url_n <= sizeof s->last_url) {
      memcpy(s->last_url, small, r->url_n);
      s->last_url_n = r->url_n;
    }
#else
    (void)s;
    (void)cache;
    lua_pushlstring(L, small, r->url_n);
#endif
  } else {
    char *big = (char *)lua_newuserdata(L, r->url_n + 1);
    al_request_url(r, big, r->url_n + 1);
    lua_pushlstring(L, big, r->url_n);
    lua_remove(L, -2);
  }
}

/* req.body: a table keyed by wire names from the params table at 3 (the values are
 * Lua's); an open body also takes everything the catalog does not know, as given. */
static void push_body(lua_State *L, const fields_t *f) {
  const al_endpoint *e = f->e;
  unsigned i;
  lua_newtable(L);
  for (i = 0; i < e->nparams; i++) {
    if (e->params[i]->in != AL_IN_BODY || f->values[i].type == AL_V_ABSENT) continue;
    lua_getfield(L, 3, e->params[i]->name);
    if (e->params[i]->type == AL_T_STRING_LIST) { /* a copy marked as an array: [] stays [] */
      size_t k, n = alc_rawlen(L, -1);
      lua_createtable(L, (int)n, 0);
      for (k = 1; k <= n; k++) {
        lua_rawgeti(L, -2, (int)k);
        lua_rawseti(L, -2, (int)k);
      }
      luaL_getmetatable(L, "alephant.array");
      lua_setmetatable(L, -2);
      lua_remove(L, -2);
    }
    lua_setfield(L, -2, e->params[i]->wire);
  }
  if (f->extra) {
    lua_pushnil(L);
    while (lua_next(L, 3)) {
      size_t kn;
      const char *k = lua_tolstring(L, -2, &kn);
      if (al_endpoint_param(e, k, kn) < 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
      } else {
        lua_pop(L, 1);
      }
    }
  }
}

/* The request table, declared once: X(key, whether the request has it, how its value
 * is pushed) for each field, in order, with L, f (fields_t) and r (f->r) at hand; a
 * field the request has not is left out (paging, body). Lua 5.4 (and prepare_raw
 * everywhere) builds the table in C, each key set as its value is made (alb_state_push_request).
 * Under LuaJIT alb_state_prepare returns the values in this order (alb_state_push_values) and
 * state:prepare is a table constructor generated from the keys at load (alb_state_prepare_lua):
 * LuaJIT copies a constructor's template with its keys in place (TDUP) instead of
 * inserting each key; analytics.usage 9,029 -> 8,127 instructions a call (callgrind,
 * bench/prepare.lua, each request kept), and 8,100 -> 7,670 with one constructor per
 * combination of the fields whose presence is not the constant 1 (paging, body), each
 * copying only the keys it has: the request's hash part 16 -> 8 nodes.
 * In Lua 5.4 a constructor inserts each key as lua_rawset does, and the extra call and
 * returns cost more than they save (tried again: 9,900 -> 11,150, and 8,145 -> 8,892
 * after the cuts to the checks and the core). */
#define REQUEST_FIELDS(X)                                                                              \
  X(S_METHOD, 1, push_text(L, r->method, S_GET, S_OPTIONS))                                            \
  X(S_URL, 1, push_url(L, f->s, r, f->small, f->cap, f->cache))                                              \
  X(S_HEADERS, 1, push_headers(L, f->s, r, f->cache))                                                  \
  X(S_ENDPOINT, 1, lua_pushvalue(L, f->name_idx))                                                      \
  X(S_API, 1, push_cached(L, S_SAAS + (int)r->api))                                                    \
  X(S_FAMILY, 1, push_family(L, r->family)) /* how answers are unwrapped */                            \
  X(S_IDEMPOTENT, 1, lua_pushboolean(L, r->idempotent))                                                \
  X(S_PAGING, r->paging != AL_PAGING_NONE, push_cached(L, r->paging == AL_PAGING_PAGE ? S_PAGE : S_OFFSET)) \
  X(S_BODY, r->has_body && f->e != NULL, push_body(L, f))

/* The request table on the stack: each key pushed before its value.
 * What it costs on Lua 5.4 (analytics.usage, 7,927 instructions a call in all, 9,134
 * before the last round of cuts to the checks and the core; Release, callgrind on 5.4.4
 * with a fixed string-hash seed, bench/prepare.lua): ~4,680 here, of which ~1,970 are the
 * ten lua_rawset (a look-up that misses, then luaH_newkey), ~1,860 the two
 * lua_createtable (the hash part's allocation and initialisation, and the collector's
 * step, which frees the earlier requests: four blocks a call) and ~450 the key and value
 * pushes; the core's plan is ~1,400, the argument and key checks ~1,450 (lua_next alone
 * ~510) and the caller's loop ~390. The same table made by the same calls and nothing
 * else, the caller's loop included, is 5,104 (bench/prepare_floor.c, `prepare floor` in
 * bench/RESULTS.md): what the request's contract costs by itself. The API has no cheaper
 * way to make a table with string keys (no template copy, as LuaJIT's TDUP; a Lua
 * constructor is 4,788, but not from here, see REQUEST_FIELDS), so that much stays while
 * the request keeps its fields as plain keys. */
void alb_state_push_request(lua_State *L, fields_t *f) {
  const al_request *r = f->r;
  int t;
  lua_createtable(L, 0, 8);
  t = lua_gettop(L);
#if CACHE_UVS
  f->cache = 0; /* the state's user values */
#else
  push_state_cache(L, 1);
  f->cache = t + 1;
#endif
#define SET_FIELD(key, has, push) \
  if (has) {                      \
    push_cached(L, key);          \
    push;                         \
    lua_rawset(L, t);             \
  }
  REQUEST_FIELDS(SET_FIELD)
#undef SET_FIELD
#if !CACHE_UVS
  lua_settop(L, t); /* the cache */
#endif
}

#if PREPARE_IN_LUA
/* The request's values for prepare's constructor (alb_state_prepare_lua), on the stack from
 * index 5: REQUEST_FIELDS' values in their order, then those of header_fields (but
 * AL_H_PARAM) in theirs; nil for what the request has not. When the plan has header
 * parameters, the headers' value is the whole table and header_fields' values are nil.
 * Returns how many. */
int alb_state_push_values(lua_State *L, fields_t *f) {
  const al_request *r = f->r;
  unsigned i, k;
  int whole = 0;
  push_state_cache(L, 1); /* at 4: alb_state_prepare left the stack at its 3 arguments */
  f->cache = 4;
  for (i = 0; i < r->nheaders; i++) whole |= r->headers[i].kind == AL_H_PARAM;
#define PUSH_VALUE(key, has, push)            \
  if ((has) && ((key) != S_HEADERS || whole)) { \
    push;                                     \
  } else {                                    \
    lua_pushnil(L);                           \
  }
  REQUEST_FIELDS(PUSH_VALUE)
#undef PUSH_VALUE
  for (k = 0; k < sizeof header_fields / sizeof header_fields[0]; k++) {
    const al_header *x = NULL;
    if (k == AL_H_PARAM) continue;
    for (i = 0; i < r->nheaders && !whole; i++)
      if (r->headers[i].kind == (al_header_kind)k) x = &r->headers[i];
    if (x) push_header_value(L, f->s, x, f->cache);
    else lua_pushnil(L);
  }
  return lua_gettop(L) - 4;
}
#endif

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


void alb_state_push_strings(lua_State *L) {
  int i;
  for (i = 0; i < S_COUNT; i++) lua_pushstring(L, cached_strings[i]);
}
