/* The per-client core state, as a userdata: the token (parsed once), the base URLs,
 * an explicit workspace id and the resolved virtual-key context. prepare() turns an
 * endpoint name and a params table into {method, url, headers, body} without I/O.
 * Each client owns one; nothing is shared between clients, VMs or threads. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/auth.h"
#include "../core/catalog.h"
#include "../core/context.h"
#include "../core/enums.h"
#include "../core/raw.h"
#include "../core/request.h"
#include "../core/text.h"
#include "../core/token.h"
#include "../core/url.h"
#include "binding.h"

#define STATE_MT "alephant.State"
/* Under LuaJIT state:prepare is a Lua function around l_prepare, generated from
 * request_fields and header_fields at load (prepare_lua): see request_fields. */
#if LUA_VERSION_NUM < 502
#define PREPARE_IN_LUA 1
#else
#define PREPARE_IN_LUA 0
#endif
#define MAX_PARAMS 32

typedef struct {
  char *auth;  /* malloc'd "Bearer <token>", wiped and freed on close */
  char *token; /* auth + 7 */
  size_t token_n;
  al_token info;
  char workspace[37]; /* explicit workspace_id option, "" when none */
  char *base[3];      /* indexed by al_api; malloc'd */
  size_t base_n[3];
  double scope_ttl;
  al_context ctx;
  al_client client; /* what al_request_plan reads: points into this state */
  /* the endpoint prepare found last, and its name's bytes as Lua holds them: the string
   * is kept in the cache (CACHE_NAME), so no other string can be at that address */
  const char *last_name;
  void *last_e; /* its endpoint_t */
  /* the bytes of the URL in the cache (CACHE_URL), when one is: compared without taking
   * the string out of the cache first */
  size_t last_url_n;
  char last_url[512];
} state_t;

typedef struct {
  state_t *s; /* NULL once closed */
} state_box;

/* prepare() builds the same keys and constant values on every call. They are created
 * once, each as an upvalue of prepare and prepare_raw (lua_pushvalue of an upvalue is a
 * copy; a table of them cost a lookup each), and set with lua_rawset: lua_setfield and
 * lua_pushstring would hash (LuaJIT) or look up (5.4) each C string again, and they
 * were a fifth of prepare's instructions (bench/RESULTS.md, part 2). */
enum {
  S_METHOD = 1, S_URL, S_HEADERS, S_BODY, S_ENDPOINT, S_API, S_IDEMPOTENT, S_PAGING, S_FAMILY,
  S_ACCEPT, S_AUTHORIZATION, S_WORKSPACE, S_CONTENT_TYPE, S_JSON, S_PAGE, S_OFFSET,
  S_SAAS, S_ANALYTICS, S_GATEWAY, /* indexed by al_api from S_SAAS; the last two are families too */
  S_COCKPIT, S_PUBLIC, S_JWT_ONLY, S_WS_FAMILY, S_MODELS,                /* the other route families */
  S_GET, S_HEAD, S_POST, S_PUT, S_PATCH, S_DELETE, S_OPTIONS,             /* methods */
  S_COUNT = S_OPTIONS
};
static const char *const cached_strings[S_COUNT] = {
    "method", "url", "headers", "body", "endpoint", "api", "idempotent", "paging", "family",
    "Accept", "Authorization", "X-Workspace-Id", "Content-Type", "application/json", "page", "offset",
    "saas", "analytics", "gateway",
    "cockpit", "public", "jwt_only", "workspace", "models",
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

/* The names of the plan's headers by al_header_kind (AL_H_PARAM: the parameter's own). */
static const int header_fields[] = {S_ACCEPT, S_AUTHORIZATION, S_WORKSPACE, 0, S_CONTENT_TYPE};

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

/* The upvalues of prepare and prepare_raw: the endpoints table, the state's metatable,
 * the anchors, then the cached strings (S_METHOD ... S_COUNT). */
/* name -> a userdata endpoint_t (made once per VM): each name is looked up in the
 * catalog once per VM, then by Lua's own string hash */
#define ENDPOINTS lua_upvalueindex(1)
/* the state's metatable, for prepare's check of its first argument */
#define STATE_METATABLE lua_upvalueindex(2)
/* every key string an endpoint_t holds, as a key (-> true): never dropped, the keys are
 * parameter names (the catalog's, each anchored once per VM) */
#define ANCHORS lua_upvalueindex(3)
#define FIRST_CACHED 3 /* the upvalue before S_METHOD */
#define UPVALUES (S_COUNT + FIRST_CACHED)

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

/* Each state's Lua-side cache ([1] = the Authorization value, built once, [2] = the
 * configured workspace id, [3] = the resolved context's workspace id, [4] = the last URL
 * prepare built, CACHE_URL, [5] = the last endpoint name it found, CACHE_NAME): on Lua
 * 5.4 the userdata's five user values, each taken by one lua_getiuservalue (CACHE_GET:
 * analytics.usage 8,126 -> 8,029 instructions a call, against a table as its user
 * value, taken out and then indexed); on 5.1, 5.2, 5.3 and LuaJIT a table, the
 * userdata's user value or environment. The values live as long as the state, as each
 * request's header string used to until the next collection; close() drops them with the
 * C copy of the token. CACHE_GET and CACHE_SET take the state at 1 (5.4) or the table at
 * cache (on the stack, push_state_cache); CACHE_SET pops the value. */
#define CACHE_URL 4
#define CACHE_NAME 5
#if LUA_VERSION_NUM >= 504
#define CACHE_UVS 1 /* the cache is the state's user values */
#define CACHE_GET(L, cache, k) ((void)(cache), lua_getiuservalue((L), 1, (k)))
#define CACHE_SET(L, cache, k) ((void)(cache), lua_setiuservalue((L), 1, (k)))
#else
#define CACHE_UVS 0
#define CACHE_GET(L, cache, k) lua_rawgeti((L), (cache), (k))
#define CACHE_SET(L, cache, k) lua_rawseti((L), (cache), (k))
#endif

#if !CACHE_UVS
static void push_state_cache(lua_State *L, int idx) {
#if LUA_VERSION_NUM >= 502
  lua_getuservalue(L, idx);
#else
  lua_getfenv(L, idx);
#endif
}

static void set_state_cache(lua_State *L, int idx) { /* the table on top */
#if LUA_VERSION_NUM >= 502
  lua_setuservalue(L, idx);
#else
  lua_setfenv(L, idx);
#endif
}
#endif

static void state_free(state_t *s) {
  int i;
  if (s == NULL) return;
  if (s->auth) {
    volatile char *p = s->auth; /* wipe: the token should not linger in freed memory */
    size_t k;
    for (k = 0; k < s->token_n + 7; k++) p[k] = 0;
    free(s->auth);
  }
  for (i = 0; i < 3; i++) free(s->base[i]);
  free(s);
}

static char *dup_n(const char *s, size_t n) {
  char *d = malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

/* A clock in seconds: the argument when given (tests pass one), else the system's. The core
 * turns it into int64_t, so NaN and values past +-2^62 are refused here, not cast. */
static int clock_fits(double d) { return d > -4611686018427387904.0 && d < 4611686018427387904.0; }

static double now_arg(lua_State *L, int idx) {
  double d;
  if (lua_type(L, idx) != LUA_TNUMBER) return (double)time(NULL);
  d = (double)lua_tonumber(L, idx);
  luaL_argcheck(L, clock_fits(d), idx, "a time in seconds expected");
  return d;
}

static state_t *check_open(lua_State *L) {
  state_box *b = (state_box *)luaL_checkudata(L, 1, STATE_MT);
  if (b->s == NULL) luaL_error(L, "alephant: the client is closed");
  return b->s;
}

/* The open state at 1 when it is one (the metatable compared with the one kept with the
 * cached strings: luaL_checkudata looks it up by name in the registry on every call),
 * else NULL. */
static state_t *open_cached(lua_State *L) {
  state_box *b = NULL;
  if (lua_getmetatable(L, 1)) { /* a table given the state's metatable has no userdata: NULL */
    /* two tables are the same table when they are at the same address (lua_rawequal
     * compares any two values, at twice the cost) */
    if (lua_topointer(L, -1) == lua_topointer(L, STATE_METATABLE)) b = (state_box *)lua_touserdata(L, 1);
    lua_pop(L, 1);
  }
  return b ? b->s : NULL;
}

/* check_open for prepare and prepare_raw: anything but an open state gets check_open's
 * error. */
static state_t *check_open_cached(lua_State *L) {
  state_t *s = open_cached(L);
  return s ? s : check_open(L);
}

/* t[key] when it is a string, else NULL. The value stays on the stack: t may be a proxy
 * whose __index hands out a fresh string that nothing else holds. */
static const char *field_string(lua_State *L, int tbl, const char *key, size_t *n) {
  lua_getfield(L, tbl, key);
  return lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, n) : NULL;
}

/* state_new{token, workspace_id?, base_url, analytics_url, gateway_url, scope_ttl?} -> state | nil, err */
static int l_state_new(lua_State *L) {
  static const char *const url_keys[3] = {"base_url", "analytics_url", "gateway_url"};
  al_error err;
  al_token info;
  state_t *s;
  state_box *box;
  size_t tn = 0, wn = 0, un[3] = {0, 0, 0};
  const char *token, *ws, *url[3];
  int i;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  token = field_string(L, 1, "token", &tn);     /* 2 */
  ws = field_string(L, 1, "workspace_id", &wn); /* 3 */
  for (i = 0; i < 3; i++) url[i] = field_string(L, 1, url_keys[i], &un[i]); /* 4..6 */
  if (token == NULL)
    return al_fail(&err, AL_ERR_CONFIG, "token", "no token"), alb_push_error(L, &err);
  if (al_token_parse(token, tn, &info, &err) || al_check_client_config(info.kind, ws, wn, &err))
    return alb_push_error(L, &err);
  for (i = 0; i < 3; i++)
    if (!url[i]) return luaL_error(L, "state_new: %s is required", url_keys[i]);
#if CACHE_UVS
  box = (state_box *)lua_newuserdatauv(L, sizeof *box, CACHE_NAME);
#else
  box = (state_box *)lua_newuserdata(L, sizeof *box);
#endif
  box->s = NULL;
  luaL_getmetatable(L, STATE_MT);
  lua_setmetatable(L, -2); /* the metatable (with __gc) is set before anything is allocated */
  s = (state_t *)calloc(1, sizeof *s);
  if (s == NULL) return luaL_error(L, "not enough memory");
  box->s = s;
  s->info = info;
  s->token_n = tn;
  s->auth = (char *)malloc(tn + 8);
  if (s->auth) {
    memcpy(s->auth, "Bearer ", 7);
    memcpy(s->auth + 7, token, tn);
    s->auth[tn + 7] = '\0';
    s->token = s->auth + 7;
  }
  if (ws) memcpy(s->workspace, ws, wn);
  for (i = 0; i < 3; i++) {
    s->base_n[i] = un[i];
    s->base[i] = dup_n(url[i], un[i]);
    s->client.base[i] = s->base[i];
    s->client.base_n[i] = un[i];
  }
  if (!s->auth || !s->base[0] || !s->base[1] || !s->base[2]) return luaL_error(L, "not enough memory");
  s->client.token = &s->info;
  s->client.authorization = s->auth;
  s->client.authorization_n = tn + 7;
  s->client.workspace = s->workspace;
  s->client.ctx = &s->ctx;
  lua_getfield(L, 1, "scope_ttl");
  s->scope_ttl = lua_type(L, -1) == LUA_TNUMBER ? (double)lua_tonumber(L, -1) : 300.0;
  lua_pop(L, 1);
  al_context_init(&s->ctx);
#if CACHE_UVS
  lua_pushlstring(L, s->auth, s->token_n + 7);
  lua_setiuservalue(L, -2, 1);
  if (s->workspace[0]) {
    lua_pushstring(L, s->workspace);
    lua_setiuservalue(L, -2, 2);
  }
#else
  lua_createtable(L, CACHE_NAME, 0);
  lua_pushlstring(L, s->auth, s->token_n + 7);
  lua_rawseti(L, -2, 1);
  if (s->workspace[0]) {
    lua_pushstring(L, s->workspace);
    lua_rawseti(L, -2, 2);
  }
  set_state_cache(L, -2);
#endif
  return 1;
}

/* close, __gc and __close: the same idempotent function */
static int l_close(lua_State *L) {
  state_box *b = (state_box *)luaL_checkudata(L, 1, STATE_MT);
  state_free(b->s);
  b->s = NULL;
#if CACHE_UVS
  {
    int k;
    for (k = 1; k <= CACHE_NAME; k++) {
      lua_pushnil(L);
      lua_setiuservalue(L, 1, k);
    }
  }
#else
  lua_newtable(L);
  set_state_cache(L, 1);
#endif
  return 0;
}

static int l_tostring(lua_State *L) {
  state_box *b = (state_box *)luaL_checkudata(L, 1, STATE_MT);
  char red[64];
  if (b->s == NULL) {
    lua_pushliteral(L, "alephant.state<closed>");
    return 1;
  }
  al_redact(b->s->token, b->s->token_n, red, sizeof red);
  lua_pushfstring(L, "alephant.state<%s %s>", al_token_kind_name(b->s->info.kind), red);
  return 1;
}

static void push_context(lua_State *L, const al_context *c) {
  lua_createtable(L, 0, 6);
  lua_pushstring(L, c->workspace_id);
  lua_setfield(L, -2, "workspace_id");
#define OPT(field, key)              \
  if (c->field[0]) {                 \
    lua_pushstring(L, c->field);     \
    lua_setfield(L, -2, key);        \
  }
  OPT(virtual_key_id, "virtual_key_id")
  OPT(entity_id, "entity_id")
  OPT(entity_type, "entity_type")
  OPT(department_id, "department_id")
#undef OPT
  lua_pushnumber(L, (lua_Number)c->expires_at);
  lua_setfield(L, -2, "expires_at");
}

/* A string (or integer) member of the table at idx, else NULL (JSON null is absent). */
static const char *member(lua_State *L, int idx, const char *key, size_t *n) {
  const char *s = NULL;
  if (idx == 0) return NULL;
  lua_getfield(L, idx, key);
  if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) s = lua_tolstring(L, -1, n);
  return s; /* the value stays on the stack, so a number converted to a string stays alive */
}

static int sub_table(lua_State *L, int idx, const char *key) {
  if (idx == 0) return 0;
  lua_getfield(L, idx, key);
  if (lua_type(L, -1) == LUA_TTABLE) return lua_gettop(L);
  lua_pop(L, 1);
  return 0;
}

/* accept_scope(body, now?) -> context | nil, err: both {workspace = ...} and
 * {data = {workspace = ...}} envelopes. */
static int l_accept_scope(lua_State *L) {
  state_t *s = check_open(L);
  al_error err;
  int root, ws_t, vk_t, ent_t;
  size_t wn = 0, vn = 0, en = 0, tn = 0, dn = 0;
  const char *ws, *vk, *ent, *type, *dept;
  double now = now_arg(L, 3);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 3);
  root = 2;
  ws_t = sub_table(L, root, "workspace");
  if (ws_t == 0) {
    int data = sub_table(L, root, "data");
    if (data) {
      root = data;
      ws_t = sub_table(L, root, "workspace");
    }
  }
  vk_t = sub_table(L, root, "virtual_key");
  ent_t = sub_table(L, root, "entity");
  ws = member(L, ws_t, "id", &wn);
  vk = member(L, vk_t, "id", &vn);
  ent = member(L, ent_t, "id", &en);
  type = member(L, ent_t, "type", &tn);
  dept = member(L, ent_t, "department_id", &dn);
  if (al_context_accept(&s->ctx, ws, wn, vk, vn, ent, en, type, tn, dept, dn, now, s->scope_ttl, &err))
    return alb_push_error(L, &err);
  /* the workspace's string for the requests' X-Workspace-Id */
#if CACHE_UVS
  lua_pushstring(L, s->ctx.workspace_id);
  CACHE_SET(L, 0, 3);
#else
  push_state_cache(L, 1);
  lua_pushstring(L, s->ctx.workspace_id);
  CACHE_SET(L, -2, 3);
  lua_pop(L, 1);
#endif
  push_context(L, &s->ctx);
  return 1;
}

static int l_needs_scope(lua_State *L) {
  state_t *s = check_open(L);
  lua_pushboolean(L, s->info.kind == AL_TOKEN_VK && s->workspace[0] == '\0' &&
                         al_context_needs_scope(&s->ctx, now_arg(L, 2)));
  return 1;
}

static int l_invalidate_scope(lua_State *L) {
  al_context_invalidate(&check_open(L)->ctx);
  return 0;
}

/* context(now?) -> the resolved context while fresh, else nil */
static int l_context(lua_State *L) {
  state_t *s = check_open(L);
  if (al_context_needs_scope(&s->ctx, now_arg(L, 2))) return 0;
  push_context(L, &s->ctx);
  return 1;
}

static int l_token_kind(lua_State *L) {
  lua_pushstring(L, al_token_kind_name(check_open(L)->info.kind));
  return 1;
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

/* The request table, declared once: X(key, whether the request has it, how its value
 * is pushed) for each field, in order, with L, f (fields_t) and r (f->r) at hand; a
 * field the request has not is left out (paging, body). Lua 5.4 (and prepare_raw
 * everywhere) builds the table in C, each key set as its value is made (push_request).
 * Under LuaJIT l_prepare returns the values in this order (push_values) and
 * state:prepare is a table constructor generated from the keys at load (prepare_lua):
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
/* The request's values for prepare's constructor (prepare_lua), on the stack from
 * index 5: REQUEST_FIELDS' values in their order, then those of header_fields (but
 * AL_H_PARAM) in theirs; nil for what the request has not. When the plan has header
 * parameters, the headers' value is the whole table and header_fields' values are nil.
 * Returns how many. */
static int push_values(lua_State *L, fields_t *f) {
  const al_request *r = f->r;
  unsigned i, k;
  int whole = 0;
  push_state_cache(L, 1); /* at 4: l_prepare left the stack at its 3 arguments */
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
static int l_prepare(lua_State *L) {
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
   * prepare_lua's function, an argument that fails returns no values first, and the
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
static int l_prepare_raw(lua_State *L) {
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

#if PREPARE_IN_LUA
/* One return of prepare_lua's function: the request's constructor with the fields of
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

/* Replaces the l_prepare closure on top of the stack by state:prepare for LuaJIT: a Lua
 * function that calls it and builds the request with a constructor whose keys come from
 * REQUEST_FIELDS and header_fields (the keys hold no quote or backslash), one for each
 * combination of the optional fields (paging, body):
 *   if v8 == nil then
 *     if v9 == nil then return {["method"] = v1, ..., ["headers"] = v3 or {["Accept"] = v10, ...}, ...} end
 *     ...
 * l_prepare's nil, err and false, "scope" pass through; no values (an argument it would
 * raise for) call it again as a tail call, the error raised then as from the C function
 * itself (at the caller's line, "bad argument #1" for the name). */
static void prepare_lua(lua_State *L) {
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

static const luaL_Reg methods[] = {{"needs_scope", l_needs_scope},
                                   {"accept_scope", l_accept_scope},
                                   {"invalidate_scope", l_invalidate_scope},
                                   {"context", l_context},
                                   {"token_kind", l_token_kind},
                                   {"close", l_close},
                                   {NULL, NULL}};

void alb_open_state(lua_State *L) {
  int mt, i, k;
  alb_new_class(L, STATE_MT, methods, l_close, l_tostring);
  luaL_getmetatable(L, STATE_MT);
  mt = lua_gettop(L);
  lua_getfield(L, mt, "__index"); /* mt + 1: the methods */
  lua_getfield(L, mt + 1, "prepare");
  if (lua_isnil(L, -1)) { /* first open in this VM */
    luaL_checkstack(L, UPVALUES + 5, "alephant: opening the state");
    lua_newtable(L); /* mt + 3: ENDPOINTS (prepare_raw gets it and ANCHORS too, and never uses them) */
    lua_newtable(L); /* mt + 4: ANCHORS */
    for (k = 0; k < 2; k++) {
      lua_pushvalue(L, mt + 3);
      lua_pushvalue(L, mt);
      lua_pushvalue(L, mt + 4);
      for (i = 0; i < S_COUNT; i++) lua_pushstring(L, cached_strings[i]);
      lua_pushcclosure(L, k == 0 ? l_prepare : l_prepare_raw, UPVALUES);
#if PREPARE_IN_LUA
      if (k == 0) prepare_lua(L);
#endif
      lua_setfield(L, mt + 1, k == 0 ? "prepare" : "prepare_raw");
    }
  }
  lua_settop(L, mt - 1);
  lua_pushcfunction(L, l_state_new);
  lua_setfield(L, -2, "state_new");
}
