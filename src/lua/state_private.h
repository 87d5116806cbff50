/* What the files of the client state's binding share (state.c: the state object and
 * its scope; state_prepare.c: a call's checks, plan and request table;
 * state_prepare_lua.c: LuaJIT's generated state:prepare): the state's structs, the
 * upvalues of prepare and prepare_raw, the state's Lua-side cache, the argument checks
 * prepare inlines, and the functions one file calls in another. */
#ifndef ALEPHANT_LUA_STATE_PRIVATE_H
#define ALEPHANT_LUA_STATE_PRIVATE_H

#include <stddef.h>
#include <time.h>

#include "../core/context.h"
#include "../core/request.h"
#include "../core/token.h"
#include "binding.h"

#define STATE_MT "alephant.State"
/* Under LuaJIT state:prepare is a Lua function around alb_state_prepare, generated from
 * REQUEST_FIELDS and header_fields at load (alb_state_prepare_lua): see REQUEST_FIELDS. */
#if LUA_VERSION_NUM < 502
#define PREPARE_IN_LUA 1
#else
#define PREPARE_IN_LUA 0
#endif

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

/* Static in each file that includes this: state_prepare.c reads them as constants. */
static const char *const cached_strings[S_COUNT] = {
    "method", "url", "headers", "body", "endpoint", "api", "idempotent", "paging", "family",
    "Accept", "Authorization", "X-Workspace-Id", "Content-Type", "application/json", "page", "offset",
    "saas", "analytics", "gateway",
    "cockpit", "public", "jwt_only", "workspace", "models",
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

/* The names of the plan's headers by al_header_kind (AL_H_PARAM: the parameter's own). */
static const int header_fields[] = {S_ACCEPT, S_AUTHORIZATION, S_WORKSPACE, 0, S_CONTENT_TYPE};

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
static inline void push_state_cache(lua_State *L, int idx) {
#if LUA_VERSION_NUM >= 502
  lua_getuservalue(L, idx);
#else
  lua_getfenv(L, idx);
#endif
}

static inline void set_state_cache(lua_State *L, int idx) { /* the table on top */
#if LUA_VERSION_NUM >= 502
  lua_setuservalue(L, idx);
#else
  lua_setfenv(L, idx);
#endif
}
#endif

/* A clock in seconds: the argument when given (tests pass one), else the system's. The core
 * turns it into int64_t, so NaN and values past +-2^62 are refused here, not cast. */
static inline int clock_fits(double d) { return d > -4611686018427387904.0 && d < 4611686018427387904.0; }

static inline double now_arg(lua_State *L, int idx) {
  double d;
  if (lua_type(L, idx) != LUA_TNUMBER) return (double)time(NULL);
  d = (double)lua_tonumber(L, idx);
  luaL_argcheck(L, clock_fits(d), idx, "a time in seconds expected");
  return d;
}

static inline state_t *check_open(lua_State *L) {
  state_box *b = (state_box *)luaL_checkudata(L, 1, STATE_MT);
  if (b->s == NULL) luaL_error(L, "alephant: the client is closed");
  return b->s;
}

/* The open state at 1 when it is one (the metatable compared with the one kept with the
 * cached strings: luaL_checkudata looks it up by name in the registry on every call),
 * else NULL. */
static inline state_t *open_cached(lua_State *L) {
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
static inline state_t *check_open_cached(lua_State *L) {
  state_t *s = open_cached(L);
  return s ? s : check_open(L);
}

/* state_prepare.c: state:prepare(name, params?, now?) and state:prepare_raw(...) */
int alb_state_prepare(lua_State *L);
int alb_state_prepare_raw(lua_State *L);
#if PREPARE_IN_LUA
/* state_prepare_lua.c: replaces the alb_state_prepare closure on top of the stack by
 * state:prepare for LuaJIT (a Lua function that builds the request with a constructor) */
void alb_state_prepare_lua(lua_State *L);
#endif

#endif
