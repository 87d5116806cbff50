/* The URL policy for Lua: alephant.new checks its base URLs with the transport's own
 * function (src/transport/urlcheck.h), so a URL the client accepts is one the transport
 * will send to, and the other way round. */
#include <string.h>

#include "../transport/urlcheck.h"
#include "binding.h"

/* check_base_url(url, field?, allow_insecure_http?) -> url without trailing slashes | nil, err
 * err.kind is "config"; the message shows the scheme and host only. */
static int l_check_base_url(lua_State *L) {
  al_error err;
  size_t n = 0, used;
  int bad;
  const char *field = alb_field(L, 2, "base_url");
  const char *url = alb_opt_string(L, 1, &n, field, &err, &bad);
  unsigned flags = AL_URL_BASE | (lua_toboolean(L, 3) ? AL_URL_ALLOW_INSECURE : 0u);
  if (url == NULL) {
    if (!bad) al_fail(&err, AL_ERR_CONFIG, field, "%s is required", field);
    err.kind = AL_ERR_CONFIG;
    return alb_push_error(L, &err);
  }
  if (al_url_check(url, n, flags, field, NULL, 0, &used, &err)) return alb_push_error(L, &err);
  lua_pushlstring(L, url, used);
  return 1;
}

/* url_host(url) -> the host as an error may show it | nil (relative, unparsable, no host,
 * or not a string): for a redirect's Location, never its user info, port, path or query */
static int l_url_host(lua_State *L) {
  char host[80];
  size_t n;
  const char *url = lua_type(L, 1) == LUA_TSTRING ? lua_tolstring(L, 1, &n) : NULL;
  if (url == NULL || strlen(url) != n || al_url_shown_host(url, host, sizeof host)) return 0;
  lua_pushstring(L, host);
  return 1;
}

static const luaL_Reg funcs[] = {{"check_base_url", l_check_base_url}, {"url_host", l_url_host}, {NULL, NULL}};

void alb_open_url(lua_State *L) { alc_setfuncs(L, funcs, 0); }
