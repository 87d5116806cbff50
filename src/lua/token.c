/* Tokens, redaction and the per-route auth policy, for Lua. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "../core/auth.h"
#include "../core/token.h"
#include "binding.h"

static void push_token_info(lua_State *L, const al_token *t) {
  lua_createtable(L, 0, 2);
  lua_pushstring(L, al_token_kind_name(t->kind));
  lua_setfield(L, -2, "kind");
  if (t->has_exp) {
    lua_pushnumber(L, (lua_Number)t->exp);
    lua_setfield(L, -2, "exp");
  }
}

static int parse_arg_token(lua_State *L, int idx, al_token *t, al_error *err) {
  size_t n = 0;
  int bad;
  const char *s = alb_opt_string(L, idx, &n, "token", err, &bad);
  if (bad) {
    err->kind = AL_ERR_CONFIG;
    return -1;
  }
  if (s == NULL)
    return al_fail(err, AL_ERR_CONFIG, "token",
                   "no token: pass the token option or set ALEPHANT_TOKEN, ALEPHANT_PAT or ALEPHANT_VIRTUAL_KEY");
  return al_token_parse(s, n, t, err);
}

static int64_t now_arg(lua_State *L, int idx) {
  if (lua_type(L, idx) == LUA_TNUMBER) { /* seconds, a fraction dropped (socket.gettime()) */
    if (!alc_isinteger(L, idx)) {
      lua_pushnumber(L, floor(lua_tonumber(L, idx)));
      lua_replace(L, idx);
    }
    return alb_int64_arg(L, idx);
  }
  return (int64_t)time(NULL);
}

/* token_info(token) -> {kind, exp?} | nil, err */
static int l_token_info(lua_State *L) {
  al_token t;
  al_error err;
  if (parse_arg_token(L, 1, &t, &err)) return alb_push_error(L, &err);
  push_token_info(L, &t);
  return 1;
}

/* check_client(token, workspace_id?, now?) -> {kind, exp?} | nil, err
 * Everything that makes a client unusable, before any request: the token's form,
 * a JWT past exp (+60 s), a PAT without a workspace, a workspace id that is no UUID. */
static int l_check_client(lua_State *L) {
  al_token t;
  al_error err;
  size_t wn = 0;
  int bad;
  const char *ws;
  if (parse_arg_token(L, 1, &t, &err)) return alb_push_error(L, &err);
  ws = alb_opt_string(L, 2, &wn, "workspace_id", &err, &bad);
  if (bad) {
    err.kind = AL_ERR_CONFIG;
    return alb_push_error(L, &err);
  }
  if (al_check_client_config(t.kind, ws, wn, &err) ||
      al_token_check_fresh(&t, now_arg(L, 3), AL_JWT_LEEWAY, &err))
    return alb_push_error(L, &err);
  push_token_info(L, &t);
  return 1;
}

/* check_fresh(token, now?) -> true | nil, err */
static int l_check_fresh(lua_State *L) {
  al_token t;
  al_error err;
  if (parse_arg_token(L, 1, &t, &err) || al_token_check_fresh(&t, now_arg(L, 2), AL_JWT_LEEWAY, &err))
    return alb_push_error(L, &err);
  return alb_ok(L);
}

/* redact(secret) -> "vk-ab…3f8a"; any non-string gives "(none)" */
static int l_redact(lua_State *L) {
  char out[64];
  size_t n;
  const char *s = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &n) : NULL;
  if (s == NULL) {
    lua_pushliteral(L, "(none)");
    return 1;
  }
  al_redact(s, n, out, sizeof out);
  lua_pushstring(L, out);
  return 1;
}

static const char *const api_names[] = {"saas", "analytics", "gateway", NULL};

static void push_kinds(lua_State *L, unsigned mask) {
  static const al_token_kind all[] = {AL_TOKEN_JWT, AL_TOKEN_PAT, AL_TOKEN_VK};
  int i, n = 0;
  lua_createtable(L, 3, 0);
  for (i = 0; i < 3; i++) {
    if (!(mask & (unsigned)all[i])) continue;
    lua_pushstring(L, al_token_kind_name(all[i]));
    lua_rawseti(L, -2, ++n);
  }
}

static const char *ws_rule_name(al_ws_rule r) {
  return r == AL_WS_REQUIRED ? "required" : r == AL_WS_UNLESS_VK ? "unless_virtual_key" : "never";
}

/* policy(api, path) -> {family, kinds = {...}, workspace = "never"|"required"|"unless_virtual_key"} */
static int l_policy(lua_State *L) {
  al_policy p;
  al_api api = (al_api)luaL_checkoption(L, 1, NULL, api_names);
  al_policy_for(api, luaL_checkstring(L, 2), &p);
  lua_createtable(L, 0, 3);
  lua_pushstring(L, p.family);
  lua_setfield(L, -2, "family");
  push_kinds(L, p.kinds);
  lua_setfield(L, -2, "kinds");
  lua_pushstring(L, ws_rule_name(p.workspace));
  lua_setfield(L, -2, "workspace");
  return 1;
}

/* auth_headers(token, api, path, workspace_id?, route?) -> headers, needs_scope | nil, err
 * headers holds Authorization and X-Workspace-Id as the route's family requires.
 * needs_scope is true when a virtual key must first resolve its workspace; then the
 * headers hold no X-Workspace-Id yet. */
static int l_auth_headers(lua_State *L) {
  al_token t;
  al_error err;
  al_policy p;
  size_t tn, wn = 0;
  int bad, plan;
  const char *token, *ws, *path, *route;
  al_api api = (al_api)luaL_checkoption(L, 2, NULL, api_names);
  path = luaL_checkstring(L, 3);
  route = alb_field(L, 5, path);
  if (parse_arg_token(L, 1, &t, &err)) return alb_push_error(L, &err);
  token = lua_tolstring(L, 1, &tn);
  ws = alb_opt_string(L, 4, &wn, "workspace_id", &err, &bad);
  if (bad || al_check_client_config(t.kind, ws, wn, &err)) {
    err.kind = AL_ERR_CONFIG;
    return alb_push_error(L, &err);
  }
  al_policy_for(api, path, &p);
  plan = al_auth_plan(&p, t.kind, ws != NULL, route, &err);
  if (plan < 0) return alb_push_error(L, &err);
  lua_createtable(L, 0, 2);
  if (plan & AL_SEND_AUTH) {
    lua_pushliteral(L, "Bearer ");
    lua_pushlstring(L, token, tn);
    lua_concat(L, 2);
    lua_setfield(L, -2, "Authorization");
  }
  if ((plan & AL_SEND_WORKSPACE) && ws) {
    lua_pushlstring(L, ws, wn);
    lua_setfield(L, -2, "X-Workspace-Id");
  }
  lua_pushboolean(L, (plan & AL_NEEDS_SCOPE) != 0);
  return 2;
}

static const luaL_Reg funcs[] = {
    {"token_info", l_token_info}, {"check_client", l_check_client}, {"check_fresh", l_check_fresh},
    {"redact", l_redact},         {"policy", l_policy},             {"auth_headers", l_auth_headers},
    {NULL, NULL}};

void alb_open_token(lua_State *L) { alc_setfuncs(L, funcs, 0); }
