/* core.http_new and core.http_info: the libcurl transport (src/transport) for Lua.
 *
 *   local http = core.http_new{timeout = 30, connect_timeout = 10, cafile = ..., capath = ...,
 *                              max_body = 32 * 1024 * 1024, user_agent = ..., allow_insecure_http = false,
 *                              proxy = nil | "" | "http://proxy:3128", allow_http_through_proxy = false}
 *   local res, err = http:request{method = "GET", url = ..., headers = {...}, body = "...", timeout = 5}
 *   -- res = {status = 200, headers = {["content-type"] = "..."}, body = "...",
 *   --        new_connections = 0, local_port = 40123}
 *   core.check_proxy(value) -> true | nil, err   -- the proxy option's check (config errors)
 *   local s, err = http:stream{...}   -- returns once the status and headers are known
 *   s:status(), s:headers(), s:new_connections()
 *   for chunk in s.next, s do ... end  -- chunk | nil at the end | nil, err
 *   s:close(); http:close()           -- also __gc and __close; idempotent
 *   -- http:close() -> true, n: n = the open streams and unfinished started requests it
 *   -- detached (0 when nothing was left open)
 *   local p, err = http:start{...}    -- the same table as request: sent, not waited for
 *   local res, err = p:finish()       -- then exactly what request would have returned
 *   p:close()                         -- cancels an unfinished one; also __gc and __close
 *
 * Durations are seconds (fractions allowed). Wrong argument types and unknown keys
 * are raised; everything that can happen at run time comes back as nil, err. Each
 * boxed pointer is NULLed on close, so close, __gc and __close may run in any order
 * and any number of times. No Lua code ever runs while libcurl is working.
 *
 * This file: core.http_new and the transport object, reading a request table, and
 * http:request; the response's Lua values, request_many, stream and start are in the
 * files http_private.h names.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../core/text.h"
#include "http_private.h"

#ifndef ALEPHANT_VERSION /* set by the build; "scm" for a checkout */
#define ALEPHANT_VERSION "scm"
#endif

#define GUARD_MT "alephant.HttpResponse" /* frees a C response if a push raises */

/* ---- argument reading ------------------------------------------------------------ */

/* Every option of core.http_new, in one place: the binding exposes it as core.http_options
 * and the Lua side builds transports' options from it, so a new option is added here. */
static const char *const http_keys[] = {"timeout", "connect_timeout", "cafile", "capath", "max_body",
                                        "user_agent", "allow_insecure_http", "proxy", "allow_http_through_proxy",
                                        NULL};
static const char *const request_keys[] = {"method", "url", "headers", "body", "timeout", NULL};

/* Raises on a key outside `known`, naming the known ones. */
static void check_keys(lua_State *L, int idx, int arg, const char *const known[]) {
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int i, ok = 0;
    if (lua_type(L, -2) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -2);
      for (i = 0; known[i] && !ok; i++) ok = k[0] == known[i][0] && strcmp(k, known[i]) == 0;
    }
    if (!ok) {
      luaL_Buffer b;
      const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : luaL_typename(L, -2);
      luaL_buffinit(L, &b);
      lua_pushfstring(L, "unknown key '%s' (known: ", k);
      luaL_addvalue(&b);
      for (i = 0; known[i]; i++) {
        if (i) luaL_addstring(&b, ", ");
        luaL_addstring(&b, known[i]);
      }
      luaL_addchar(&b, ')');
      luaL_pushresult(&b);
      luaL_argerror(L, arg, lua_tostring(L, -1));
    }
    lua_pop(L, 1);
  }
}

static int field_error(lua_State *L, int arg, const char *key, const char *expected) {
  lua_getfield(L, arg, key);
  lua_pushfstring(L, "%s must be %s, got %s", key, expected, luaL_typename(L, -1));
  return luaL_argerror(L, arg, lua_tostring(L, -1));
}

/* Optional string field without embedded NULs (libcurl takes C strings); NULL when nil.
 * The value stays on the stack: a proxy table's __index may hand out a string that
 * nothing else references. */
static const char *opt_cstring(lua_State *L, int arg, int tbl, const char *key, size_t *len) {
  const char *s;
  size_t n;
  lua_getfield(L, tbl, key);
  if (lua_isnil(L, -1)) return NULL;
  if (lua_type(L, -1) != LUA_TSTRING) field_error(L, arg, key, "a string");
  s = lua_tolstring(L, -1, &n);
  if (strlen(s) != n) {
    lua_pushfstring(L, "%s must not contain NUL bytes", key);
    luaL_argerror(L, arg, lua_tostring(L, -1));
  }
  if (len) *len = n;
  return s;
}

/* Seconds (fractions allowed) to milliseconds, rounded up; 0 when nil. */
static long opt_seconds(lua_State *L, int arg, int tbl, const char *key) {
  lua_Number s, ms;
  lua_getfield(L, tbl, key);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  if (lua_type(L, -1) != LUA_TNUMBER) field_error(L, arg, key, "a number of seconds");
  s = lua_tonumber(L, -1);
  lua_pop(L, 1);
  ms = ceil(s * 1000.0);
  if (!(s > 0) || !(ms <= (lua_Number)AL_HTTP_MAX_TIMEOUT_MS)) {
    lua_pushfstring(L, "%s must be a number of seconds above 0 and at most %d", key,
                    (int)(AL_HTTP_MAX_TIMEOUT_MS / 1000));
    luaL_argerror(L, arg, lua_tostring(L, -1));
  }
  return ms < 1 ? 1 : (long)ms;
}

/* ---- the transport object -------------------------------------------------------- */


/* core.http_new(opts?) -> http | nil, err */
static int l_http_new(lua_State *L) {
  al_http_options o;
  al_error err;
  http_box *box;
  size_t ua_len = 0;
  memset(&o, 0, sizeof o);
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    check_keys(L, 1, 1, http_keys);
    o.timeout_ms = opt_seconds(L, 1, 1, "timeout");
    o.connect_timeout_ms = opt_seconds(L, 1, 1, "connect_timeout");
    o.cafile = opt_cstring(L, 1, 1, "cafile", NULL);
    o.capath = opt_cstring(L, 1, 1, "capath", NULL);
    o.user_agent = opt_cstring(L, 1, 1, "user_agent", &ua_len);
    lua_getfield(L, 1, "max_body");
    if (!lua_isnil(L, -1)) {
      lua_Number v;
      if (lua_type(L, -1) != LUA_TNUMBER) field_error(L, 1, "max_body", "a number of bytes");
      v = lua_tonumber(L, -1);
      if (!(v >= 1) || v != floor(v) || v > 9007199254740992.0 || v > (lua_Number)(size_t)-1)
        luaL_argerror(L, 1, "max_body must be a whole number of bytes, at least 1");
      o.max_body = (size_t)v;
    }
    lua_pop(L, 1);
    lua_getfield(L, 1, "allow_insecure_http");
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TBOOLEAN) field_error(L, 1, "allow_insecure_http", "a boolean");
    o.allow_insecure_http = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, 1, "allow_http_through_proxy");
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TBOOLEAN)
      field_error(L, 1, "allow_http_through_proxy", "a boolean");
    o.allow_http_through_proxy = lua_toboolean(L, -1);
    lua_pop(L, 1);
    o.proxy = opt_cstring(L, 1, 1, "proxy", NULL); /* stays on the stack until al_http_new copied it */
    if (o.user_agent && al_check_header_value(o.user_agent, ua_len, "user_agent", &err))
      return alb_push_error(L, &err);
  }
  /* The userdata exists (with its __gc) before the C object: nothing can raise between
   * al_http_new and storing its pointer. */
  box = lua_newuserdata(L, sizeof *box);
  memset(box, 0, sizeof *box);
  box->hcache = LUA_NOREF;
  luaL_getmetatable(L, HTTP_MT);
  lua_setmetatable(L, -2);
  box->h = al_http_new(&o, &err);
  if (box->h == NULL) return alb_push_error(L, &err);
  return 1;
}

/* close and __close: idempotent. Open streams and started requests are detached (they
 * report that the transport is closed). A response being pushed stays (box->res is not
 * the transport's): the request that pushes it frees it. Returns true and how many
 * transfers were left open (and are now detached). */
static int l_http_close(lua_State *L) {
  http_box *box = check_http(L);
  al_http *h = box->h;
  size_t open = al_http_open_transfers(h);
  box->h = NULL;
  al_http_free(h);
  lua_pushboolean(L, 1);
  lua_pushinteger(L, (lua_Integer)open);
  return 2;
}

/* __gc: nothing can be pushing from an unreachable box, so a response left in it (a
 * push that raised) goes too. */
static int l_http_gc(lua_State *L) {
  http_box *box = check_http(L);
  al_http_response_free(&box->res);
  box->pushing = NULL;
  alb_http_drop_anchor(L, &box->hcache);
  free(box->kept);
  box->kept = NULL;
  return l_http_close(L);
}

static int l_http_tostring(lua_State *L) {
  http_box *box = check_http(L);
  lua_pushfstring(L, "alephant.Http (%s)", box->h ? "open" : "closed");
  return 1;
}

/* A C response owned by a userdata until its pieces are in Lua, so that a memory
 * error raised while pushing cannot leak it. */
static int l_guard_gc(lua_State *L) {
  al_http_response_free(lua_touserdata(L, 1));
  return 0;
}

/* Reads a request table (argument 2) into *req. Header names and values are checked
 * here, before any traffic; a problem fills *err and returns -1. Type errors raise.
 * local: room for LOCAL_HEADERS headers, or NULL (request_many: every request's
 * headers must outlive this call). */
int alb_http_read_request(lua_State *L, int arg, int tbl, al_http_request *req, al_http_header *local, al_error *err) {
  size_t n, url_len;
  memset(req, 0, sizeof *req);
  luaL_checktype(L, tbl, LUA_TTABLE);
  check_keys(L, tbl, arg, request_keys);

  /* method, url and body stay on the stack while the request runs (see opt_cstring) */
  lua_getfield(L, tbl, "method");
  if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING) field_error(L, arg, "method", "a string");
  req->method = lua_tostring(L, -1); /* NULL = GET */

  lua_getfield(L, tbl, "url");
  if (lua_type(L, -1) != LUA_TSTRING) field_error(L, arg, "url", "a string");
  req->url = lua_tolstring(L, -1, &url_len);

  lua_getfield(L, tbl, "body");
  if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING) field_error(L, arg, "body", "a string");
  req->body = lua_tolstring(L, -1, &req->body_len);
  if (req->body == NULL) req->body_len = 0;

  req->timeout_ms = opt_seconds(L, arg, tbl, "timeout");
  if (strlen(req->url) != url_len) return al_fail(err, AL_ERR_CONFIG, "url", "url must not contain NUL bytes");

  /* headers: {["Name"] = "value"}, pointers into its strings (the table stays on the
   * stack) copied into local, or else into a scratch userdata left on the stack */
  lua_getfield(L, tbl, "headers");
  if (lua_isnil(L, -1)) return 0;
  if (lua_type(L, -1) != LUA_TTABLE) field_error(L, arg, "headers", "a table of name = value strings");
  /* one pass: types checked (raised) for every entry, values read into local and
   * checked while they fit; the first refused header is reported after the pass */
  n = 0;
  {
    int hidx = lua_gettop(L), refused = 0;
    lua_pushnil(L);
    while (lua_next(L, hidx)) {
      if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
        luaL_argerror(L, arg, "headers must map string names to string values");
      if (local && n < LOCAL_HEADERS) {
        al_http_header *hd = &local[n];
        hd->name = lua_tolstring(L, -2, &hd->name_len);
        hd->value = lua_tolstring(L, -1, &hd->value_len);
        if (!refused && al_http_check_header(hd, err)) refused = 1;
      }
      n++;
      lua_pop(L, 1);
    }
    if (local && n <= LOCAL_HEADERS) {
      if (refused) return -1;
      req->headers = local;
      req->nheaders = n;
      return 0;
    }
  }
  { /* more than fit in local: a scratch userdata, filled in a second pass */
    al_http_header *hs = lua_newuserdata(L, (n ? n : 1) * sizeof *hs);
    size_t i = 0;
    lua_pushnil(L);
    while (lua_next(L, -3)) {
      al_http_header *hd;
      if (i == n) { /* the table grew since it was counted (a finalizer run by
                     * lua_newuserdata's allocation): the rest is not sent */
        lua_pop(L, 2);
        break;
      }
      hd = &hs[i++];
      hd->name = lua_tolstring(L, -2, &hd->name_len);
      hd->value = lua_tolstring(L, -1, &hd->value_len);
      lua_pop(L, 1);
      if (al_http_check_header(hd, err)) {
        lua_pop(L, 1); /* the key */
        return -1;
      }
    }
    req->headers = hs;
    req->nheaders = i;
  }
  return 0;
}

static int l_http_request(lua_State *L);

/* An l_http_request call is active in L below the current one. */
static int request_on_stack(lua_State *L) {
  lua_Debug ar;
  int level;
  luaL_checkstack(L, 2, "request");
  for (level = 1; lua_getstack(L, level, &ar); level++) {
    lua_CFunction f;
    if (!lua_getinfo(L, "f", &ar)) continue;
    f = lua_tocfunction(L, -1);
    lua_pop(L, 1);
    if (f == l_http_request) return 1;
  }
  return 0;
}

/* http:request{method, url, headers, body, timeout} -> response | nil, err */
static int l_http_request(lua_State *L) {
  http_box *box = check_http(L);
  al_http_request req;
  al_http_header local[LOCAL_HEADERS];
  al_http_response *res;
  al_error err;
  int rc;
  if (alb_http_read_request(L, 2, 2, &req, local, &err)) return alb_push_error(L, &err);
  if (box->h == NULL) return push_closed(L, "transport");
  /* set, but no request of this thread is pushing: that push raised, its response is
   * left over (a finalizer in another thread may not tell: it takes the guard path) */
  if (box->pushing == L && !request_on_stack(L)) {
    al_http_response_free(&box->res);
    box->pushing = NULL;
  }
  if (box->pushing == NULL) { /* the steady path: the response in the box */
    res = &box->res;
    rc = al_http_perform(box->h, &req, res, &err); /* res stays empty on failure */
    if (rc) return push_failure(L, &err);
    box->pushing = L;
    alb_http_push_response(L, res, box);
    box->pushing = NULL;
    /* its buffers serve the next request; box->h is re-read, as a finalizer run while
     * pushing may have closed the transport */
    al_http_response_recycle(box->h, res);
    return 1;
  }
  /* called again while a response is being pushed (from a finalizer): a guard of its own */
  res = lua_newuserdata(L, sizeof *res);
  memset(res, 0, sizeof *res);
  luaL_getmetatable(L, GUARD_MT);
  lua_setmetatable(L, -2);
  if (box->h == NULL) return push_closed(L, "transport"); /* by a finalizer lua_newuserdata ran */
  rc = al_http_perform(box->h, &req, res, &err);
  if (rc) return push_failure(L, &err);
  alb_http_push_response(L, res, NULL);
  /* now, not at the next GC (bodies can be large): its buffers serve the next request;
   * box->h is re-read, as a finalizer run while pushing may have closed the transport */
  al_http_response_recycle(box->h, res);
  return 1;
}

/* Pushes slot j's string s: the kept one when it has the same bytes, else a new one,
 * kept in its place (when not longer than HCACHE_BYTES). The slot is marked unknown
 * before its string changes, so a raise (out of memory) leaves the kept bytes right. */
/* ---- module ---------------------------------------------------------------------- */

/* core.check_proxy(value) -> true | nil, err: the `proxy` option's rule, for early
 * config errors (the message never shows user info, path or query). */
static int l_check_proxy(lua_State *L) {
  al_error err;
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  if (strlen(s) != n) {
    al_fail(&err, AL_ERR_CONFIG, "proxy", "proxy must not contain NUL bytes");
    return alb_push_error(L, &err);
  }
  if (al_http_check_proxy(s, &err)) return alb_push_error(L, &err);
  lua_pushboolean(L, 1);
  return 1;
}

/* core.http_info() -> {curl_version, ssl_version, threadsafe, async_dns, user_agent} */
static int l_http_info(lua_State *L) {
  al_http_info info;
  al_http_library_info(&info);
  lua_createtable(L, 0, 5);
  lua_pushstring(L, info.curl_version);
  lua_setfield(L, -2, "curl_version");
  if (info.ssl_version) {
    lua_pushstring(L, info.ssl_version);
    lua_setfield(L, -2, "ssl_version");
  }
  lua_pushboolean(L, info.threadsafe);
  lua_setfield(L, -2, "threadsafe");
  lua_pushboolean(L, info.async_dns);
  lua_setfield(L, -2, "async_dns");
  lua_pushliteral(L, "alephant-lua/" ALEPHANT_VERSION);
  lua_setfield(L, -2, "user_agent");
  return 1;
}

static const luaL_Reg http_methods[] = {
    {"request", l_http_request}, {"request_many", alb_http_request_many}, {"stream", alb_http_stream},
    {"start", alb_http_start},   {"close", l_http_close},                  {NULL, NULL}};

void alb_open_http(lua_State *L) {
  alb_new_class(L, HTTP_MT, http_methods, l_http_close, l_http_tostring);
  luaL_getmetatable(L, HTTP_MT); /* __gc also frees a response a raise left in the box */
  lua_pushcfunction(L, l_http_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
  alb_http_open_streams(L);
  if (luaL_newmetatable(L, GUARD_MT)) {
    lua_pushcfunction(L, l_guard_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  alb_http_open_batch(L);
  lua_pushcfunction(L, l_http_new);
  lua_setfield(L, -2, "http_new");
  /* core.http_options: the option names core.http_new takes, the one list Lua builds a
   * transport's options from (alephant.config.transport_options). */
  {
    int i;
    lua_createtable(L, (int)(sizeof http_keys / sizeof *http_keys) - 1, 0);
    for (i = 0; http_keys[i] != NULL; i++) {
      lua_pushstring(L, http_keys[i]);
      lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "http_options");
  }
  lua_pushcfunction(L, l_http_info);
  lua_setfield(L, -2, "http_info");
  lua_pushcfunction(L, l_check_proxy);
  lua_setfield(L, -2, "check_proxy");
}
