/* state:prepare and state:prepare_raw: one call from its Lua arguments to the request
 * table. The endpoint name (its catalog entry cached per VM) and every key of the params
 * table are checked (each a parameter of the endpoint, its value read into an al_value,
 * list values checked), the core makes the plan (al_request_plan_policy,
 * src/core/request.c), and the plan becomes the request table. All in one file on
 * purpose: every call runs it, and its helpers are inlined into prepare (per parameter,
 * per header); LuaJIT's generated constructor, made once per VM, is state_prepare_lua.c. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "../core/auth.h"
#include "../core/catalog.h"
#include "../core/enums.h"
#include "../core/raw.h"
#include "../core/text.h"
#include "state_private.h"

#define MAX_PARAMS 32

/* What prepare keeps of an endpoint, per VM: its catalog entry and, for each of its
 * parameters, the key string a params table last named it with (the bytes' address, as
 * lua_tolstring gives it; NULL until one has). A key at one of these addresses is that
 * very string, kept alive by ANCHORS (no other string can be at its address), so it is
 * known by one compare per parameter, without its bytes compared with each name
 * (al_endpoint_param). */
typedef struct {
  const al_endpoint *e;
  al_policy policy; /* al_policy_for(e->api, e->path): the same for every call */
  const char *keys[]; /* e->nparams */
} endpoint_t;

/* What prepare keeps of the endpoint named at idx, or NULL when there is none. */
static endpoint_t *endpoint_at(lua_State *L, int idx) {
  const al_endpoint *e;
  endpoint_t *ep;
  size_t n;
  unsigned i;
  const char *name;
  lua_pushvalue(L, idx);
  lua_rawget(L, ENDPOINTS);
  ep = (endpoint_t *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (ep) return ep;
  name = lua_tolstring(L, idx, &n);
  e = al_catalog_find(name, n);
  if (e == NULL) return NULL;
  lua_pushvalue(L, idx);
  ep = (endpoint_t *)lua_newuserdata(L, sizeof *ep + e->nparams * sizeof ep->keys[0]);
  ep->e = e;
  al_policy_for(e->api, e->path, &ep->policy);
  for (i = 0; i < e->nparams; i++) ep->keys[i] = NULL;
  lua_rawset(L, ENDPOINTS);
  return ep;
}

/* The index of the parameter the key string k (at -2, of n bytes) names, or -1. */
static int param_of(lua_State *L, endpoint_t *ep, const char *k, size_t n) {
  unsigned i, nparams = ep->e->nparams;
  int idx;
  for (i = 0; i < nparams; i++)
    if (ep->keys[i] == k) return (int)i;
  idx = al_endpoint_param(ep->e, k, n);
  if (idx >= 0 && ep->keys[idx] == NULL) { /* kept from now on */
    lua_pushvalue(L, -2);
    lua_pushboolean(L, 1);
    lua_rawset(L, ANCHORS);
    ep->keys[idx] = k;
  }
  return idx;
}

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

/* Reads a Lua value into an al_value (strings stay owned by the params table). A string,
 * the common case, sets only what is read of a string (al_value's other fields are for
 * other types), and its type's name without lua_typename. */
static void read_value(lua_State *L, int idx, al_value *v) {
  int t = lua_type(L, idx);
  if (t == LUA_TSTRING) {
    v->type = AL_V_STRING;
    v->type_name = "string";
    v->s = lua_tolstring(L, idx, &v->n);
    return;
  }
  memset(v, 0, sizeof *v);
  v->type_name = lua_typename(L, t);
  switch (t) {
    case LUA_TNIL: v->type = AL_V_ABSENT; break;
    case LUA_TBOOLEAN: v->type = AL_V_BOOLEAN; v->b = lua_toboolean(L, idx); break;
    case LUA_TTABLE: v->type = AL_V_TABLE; break;
    case LUA_TLIGHTUSERDATA: v->type = alb_is_null(L, idx) ? AL_V_NULL : AL_V_OTHER; break;
    case LUA_TNUMBER:
      if (alc_isinteger(L, idx)) {
        v->type = AL_V_INTEGER;
        v->i = (int64_t)lua_tointeger(L, idx);
      } else {
        v->type = AL_V_NUMBER;
        v->d = (double)lua_tonumber(L, idx);
      }
      break;
    default: v->type = AL_V_OTHER; break;
  }
}

/* An AL_T_ENUM_LIST value: a non-empty array of enum strings. */
static int check_enum_list(lua_State *L, int idx, const al_param *p, al_error *err) {
  const al_enum *e = al_enum_find(p->enum_name);
  size_t i, n = alc_rawlen(L, idx);
  if (n == 0) return al_fail(err, AL_ERR_VALIDATION, p->name, "%s must list at least one value", p->name);
  for (i = 1; i <= n; i++) {
    size_t len;
    const char *s;
    lua_rawgeti(L, idx, (int)i);
    s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    if (s == NULL || al_check_enum(e, s, len, p->name, err)) {
      lua_pop(L, 1);
      if (s == NULL) return al_fail(err, AL_ERR_VALIDATION, p->name, "%s must be an array of strings", p->name);
      return -1;
    }
    lua_pop(L, 1);
  }
  return 0;
}

/* An AL_T_STRING_LIST value: an array (possibly empty) of strings of min..max characters. */
static int check_string_list(lua_State *L, int idx, const al_param *p, al_error *err) {
  size_t i, n = alc_rawlen(L, idx);
  if (n > 256) return al_fail(err, AL_ERR_VALIDATION, p->name, "%s holds more than 256 items", p->name);
  lua_pushnil(L);
  while (lua_next(L, idx)) { /* only the keys 1..n: a sparse or keyed table is not an array */
    lua_Number k = lua_type(L, -2) == LUA_TNUMBER ? lua_tonumber(L, -2) : 0;
    int bad = !(k >= 1 && k <= (lua_Number)n && k == (lua_Number)(size_t)k);
    lua_pop(L, 1);
    if (bad) {
      lua_pop(L, 1);
      return al_fail(err, AL_ERR_VALIDATION, p->name, "%s must be an array of strings", p->name);
    }
  }
  for (i = 1; i <= n; i++) {
    size_t len;
    const char *s;
    int rc;
    lua_rawgeti(L, idx, (int)i);
    s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    rc = s == NULL ? al_fail(err, AL_ERR_VALIDATION, p->name, "%s must be an array of strings (item %u is not)",
                             p->name, (unsigned)i)
                   : al_check_length(s, len, (long)p->min, (long)p->max, p->name, err);
    lua_pop(L, 1);
    if (rc) return -1;
  }
  return 0;
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

/* What the request's fields are made from. */
typedef struct {
  state_t *s;
  const al_request *r;
  const char *small; /* the URL when it fitted (r->url_n < cap) */
  size_t cap;
  int name_idx;      /* the endpoint name: the catalog's, or "METHOD /path" */
  int cache;         /* the state's cache table, on the stack */
  const al_endpoint *e; /* prepare: the body's parameters, read from the params table at 3;
                         * NULL for prepare_raw (the body is the caller's) */
  const al_value *values;
  int extra; /* an open body has keys the catalog does not know */
} fields_t;

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
static void push_request(lua_State *L, fields_t *f) {
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
static int push_values(lua_State *L, fields_t *f) {
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

/* The plan's outcome as prepare's returns: false, "scope" (1) or nil, err (-1). */
static int plan_failed(lua_State *L, int rc, al_error *err) {
  if (rc > 0) {
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "scope");
    return 2;
  }
  return alb_push_error(L, err);
}

/* prepare(name, params?, now?) -> req | nil, err | false, "scope"
 * req = {method, url, headers, body (a table keyed by wire names, or nil), endpoint,
 *        api, family, idempotent, paging}: the plan of al_request_plan as a table. */
int alb_state_prepare(lua_State *L) {
  state_t *s;
  al_error err;
  al_value values[MAX_PARAMS];
  al_request r;
  fields_t f;
  size_t name_n;
  const char *name;
  const al_endpoint *e;
  endpoint_t *ep;
  int rc, t3, extra = 0;
  unsigned i, nparams;
  char small[512];
  double now;
  /* Each argument check raises only through ARG_FAILS: under LuaJIT, called from
   * alb_state_prepare_lua's function, an argument that fails returns no values first, and the
   * function calls this one again with a 5th argument as a tail call, so that the error
   * is raised as without it (at the caller's line, numbered for a method call). */
#if PREPARE_IN_LUA
#define ARG_FAILS() \
  if (!lua_toboolean(L, 5)) return 0
#else
#define ARG_FAILS() (void)0
#endif
  s = open_cached(L);
  if (s == NULL) {
    ARG_FAILS();
    s = check_open(L); /* raises */
  }
  name = lua_tolstring(L, 2, &name_n);
  if (name == NULL) {
    ARG_FAILS();
    name = luaL_checklstring(L, 2, &name_n); /* raises */
  }
  /* the same name string as the last call's: its catalog entry without a look-up */
  if (name == s->last_name) {
    ep = (endpoint_t *)s->last_e;
  } else {
    ep = endpoint_at(L, 2);
    if (ep) {
#if CACHE_UVS
      lua_pushvalue(L, 2);
      CACHE_SET(L, 0, CACHE_NAME);
#else
      push_state_cache(L, 1);
      lua_pushvalue(L, 2);
      CACHE_SET(L, -2, CACHE_NAME);
      lua_pop(L, 1);
#endif
      s->last_name = name;
      s->last_e = ep;
    }
  }
  e = ep ? ep->e : NULL;
  if (lua_type(L, 4) == LUA_TNUMBER) {
#if LUA_VERSION_NUM >= 503
    /* os.time() is an integer: lua_tonumber would convert it in a call of its own */
    now = lua_isinteger(L, 4) ? (double)lua_tointeger(L, 4) : (double)lua_tonumber(L, 4);
#else
    now = (double)lua_tonumber(L, 4);
#endif
    if (!clock_fits(now)) {
      ARG_FAILS();
      now = now_arg(L, 4); /* raises */
    }
  } else {
    now = (double)time(NULL);
  }

  if (e == NULL) return al_unknown_endpoint(name, name_n, &err), alb_push_error(L, &err);
  t3 = lua_type(L, 3);
  if (t3 > LUA_TNIL) {
    if (t3 != LUA_TTABLE) {
      ARG_FAILS();
      luaL_checktype(L, 3, LUA_TTABLE); /* raises */
    }
  } else {
    lua_settop(L, 4);
    lua_newtable(L);
    lua_replace(L, 3);
  }
#if PREPARE_IN_LUA
  lua_settop(L, 3); /* push_values' values from 4 */
#endif

#undef ARG_FAILS

  /* 1. every key must be a parameter of the endpoint (or go to an open body) */
  for (i = 0, nparams = e->nparams; i < nparams; i++) values[i].type = AL_V_ABSENT;
  lua_pushnil(L);
  while (lua_next(L, 3)) {
    size_t kn;
    const char *k;
    int idx;
    if (lua_type(L, -2) != LUA_TSTRING) {
      lua_pop(L, 2);
      return al_fail(&err, AL_ERR_VALIDATION, "params", "%s: parameter names must be strings", e->name),
             alb_push_error(L, &err);
    }
    k = lua_tolstring(L, -2, &kn);
    idx = param_of(L, ep, k, kn);
    if (idx < 0) {
      if (!(e->flags & AL_E_OPEN_BODY)) {
        lua_pop(L, 2);
        return al_unknown_param(e, k, kn, &err), alb_push_error(L, &err);
      }
      extra = 1;
    } else {
      read_value(L, -1, &values[idx]);
      if (values[idx].type == AL_V_TABLE &&
          ((e->params[idx]->type == AL_T_ENUM_LIST && check_enum_list(L, lua_gettop(L), e->params[idx], &err)) ||
           (e->params[idx]->type == AL_T_STRING_LIST &&
            check_string_list(L, lua_gettop(L), e->params[idx], &err)))) {
        lua_pop(L, 2);
        return alb_push_error(L, &err);
      }
    }
    lua_pop(L, 1);
  }
  /* 2. the plan: values, who may call it, headers, URL (src/core/request.c) */
  rc = al_request_plan_policy(&s->client, e, &ep->policy, values, now, small, sizeof small, &r, &err);
  if (rc) return plan_failed(L, rc, &err);

  /* 3. the request; the body from the params table (the values are Lua's) */
  f.s = s;
  f.r = &r;
  f.small = small;
  f.cap = sizeof small;
  f.name_idx = 2; /* the name asked for is the catalog's name */
  f.e = e;
  f.values = values;
  f.extra = extra;
#if PREPARE_IN_LUA
  return push_values(L, &f);
#else
  push_request(L, &f);
  return 1;
#endif
}

/* prepare_raw(method, path, api?, query_pairs, has_body, now?) -> req | nil, err | false, "scope"
 * For routes outside the catalog: al_request_plan_raw (the same token, workspace and
 * header rules as prepare, from the route family of the path). query_pairs = {{name,
 * value}, ...}, strings, in the order they go on the wire. req = {method, url, headers,
 * endpoint ("GET /api/v1/..."), api, family, idempotent}; the body is the caller's. */
int alb_state_prepare_raw(lua_State *L) {
  static const char *const apis[] = {"saas", "analytics", "gateway", NULL};
  state_t *s = check_open_cached(L);
  al_error err;
  al_request r;
  fields_t f;
  al_kv q[AL_MAX_PAIRS];
  size_t mn, pn, nq;
  const char *method = luaL_checklstring(L, 2, &mn), *path = luaL_checklstring(L, 3, &pn);
  int rc, api = lua_isnoneornil(L, 4) ? -1 : luaL_checkoption(L, 4, NULL, apis);
  int has_body = lua_toboolean(L, 6);
  double now = now_arg(L, 7);
  char small[512];
  nq = alb_read_pairs(L, 5, q, AL_MAX_PAIRS);
  rc = al_request_plan_raw(&s->client, method, mn, path, pn, api, q, nq, has_body, now, small, sizeof small, &r,
                           &err);
  if (rc) return plan_failed(L, rc, &err);
  lua_settop(L, 5);
  lua_pushfstring(L, "%s %s", method, path);
  f.s = s;
  f.r = &r;
  f.small = small;
  f.cap = sizeof small;
  f.name_idx = 6;
  f.e = NULL;
  f.values = NULL;
  f.extra = 0;
  push_request(L, &f);
  return 1;
}

