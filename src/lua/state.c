/* The per-client core state, as a userdata: the token (parsed once), the base URLs,
 * an explicit workspace id and the resolved virtual-key context. prepare() turns an
 * endpoint name and a params table into {method, url, headers, body} without I/O
 * (state_prepare.c). Each client owns one; nothing is shared between
 * clients, VMs or threads. This file: making and closing a state, and its virtual-key
 * scope (accept_scope, needs_scope, context). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/context.h"
#include "../core/token.h"
#include "state_private.h"

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
      lua_pushcclosure(L, k == 0 ? alb_state_prepare : alb_state_prepare_raw, UPVALUES);
#if PREPARE_IN_LUA
      if (k == 0) alb_state_prepare_lua(L);
#endif
      lua_setfield(L, mt + 1, k == 0 ? "prepare" : "prepare_raw");
    }
  }
  lua_settop(L, mt - 1);
  lua_pushcfunction(L, l_state_new);
  lua_setfield(L, -2, "state_new");
}
