/* state:prepare and state:prepare_raw: a call's checks and plan. prepare reads the
 * endpoint name (its catalog entry cached per VM), every key of the params table (each
 * a parameter of the endpoint, its value read into an al_value, list values checked),
 * then asks the core for the plan (al_request_plan_policy, src/core/request.c) and hands
 * it to state_request.c, which makes the request table. */
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
  lua_settop(L, 3); /* alb_state_push_values' values from 4 */
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
  return alb_state_push_values(L, &f);
#else
  alb_state_push_request(L, &f);
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
  alb_state_push_request(L, &f);
  return 1;
}
