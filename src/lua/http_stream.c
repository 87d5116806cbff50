/* http:stream and http:start (http_private.h), and the objects they return: a stream
 * (chunks as they arrive) and a started request (its answer taken by finish). Each
 * keeps its transport alive until it is closed. */
#include <string.h>

#include "http_private.h"

#define STREAM_MT "alephant.HttpStream"
#define PENDING_MT "alephant.HttpPending"

/* A stream or pending request keeps its transport (argument 1) alive through a registry
 * reference in *ref. 1 (and no reference) when the transport was closed meanwhile: a
 * finalizer run by the caller's allocations may have closed it. */
static int anchor_transport(lua_State *L, const http_box *box, int *ref) {
  lua_pushvalue(L, 1);
  *ref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (box->h != NULL) return 0;
  alb_http_drop_anchor(L, ref);
  return 1;
}

/* ---- streams --------------------------------------------------------------------- */

static stream_box *check_stream(lua_State *L) { return luaL_checkudata(L, 1, STREAM_MT); }

/* http:stream{...} -> stream | nil, err (once the status and headers are known) */
int alb_http_stream(lua_State *L) {
  http_box *box = check_http(L);
  al_http_request req;
  al_http_header local[LOCAL_HEADERS];
  al_error err;
  stream_box *sb;
  if (alb_http_read_request(L, 2, 2, &req, local, &err)) return alb_push_error(L, &err);
  if (box->h == NULL) return push_closed(L, "transport");
  sb = lua_newuserdata(L, sizeof *sb);
  sb->s = NULL;
  sb->http_ref = LUA_NOREF;
  luaL_getmetatable(L, STREAM_MT);
  lua_setmetatable(L, -2);
  if (anchor_transport(L, box, &sb->http_ref)) return push_closed(L, "transport");
  if (al_http_stream_open(box->h, &req, &sb->s, &err)) {
    alb_http_drop_anchor(L, &sb->http_ref);
    return push_failure(L, &err);
  }
  return 1;
}

/* stream:next() -> chunk | nil (end) | nil, err */
static int l_stream_next(lua_State *L) {
  stream_box *sb = check_stream(L);
  const char *data;
  size_t len;
  al_error err;
  int rc;
  if (sb->s == NULL) return push_closed(L, "stream");
  rc = al_http_stream_next(sb->s, &data, &len, &err);
  if (rc < 0) return push_failure(L, &err);
  if (rc == 0) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushlstring(L, data, len);
  return 1;
}

static int l_stream_status(lua_State *L) {
  stream_box *sb = check_stream(L);
  if (sb->s == NULL) return push_closed(L, "stream");
  lua_pushinteger(L, (lua_Integer)al_http_stream_status(sb->s));
  return 1;
}

static int l_stream_headers(lua_State *L) {
  stream_box *sb = check_stream(L);
  const al_http_field *f;
  size_t n, i;
  if (sb->s == NULL) return push_closed(L, "stream");
  f = al_http_stream_headers(sb->s, &n);
  lua_createtable(L, 0, (int)n);
  for (i = 0; i < n; i++) {
    lua_pushlstring(L, f[i].name, f[i].name_len);
    lua_pushlstring(L, f[i].value, f[i].value_len);
    lua_rawset(L, -3);
  }
  return 1;
}

static int l_stream_new_connections(lua_State *L) {
  stream_box *sb = check_stream(L);
  if (sb->s == NULL) return push_closed(L, "stream");
  lua_pushinteger(L, (lua_Integer)al_http_stream_new_connections(sb->s));
  return 1;
}

/* close, __gc and __close: idempotent. */
static int l_stream_close(lua_State *L) {
  stream_box *sb = check_stream(L);
  al_http_stream *s = sb->s;
  sb->s = NULL;
  al_http_stream_free(s);
  alb_http_drop_anchor(L, &sb->http_ref);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_stream_tostring(lua_State *L) {
  stream_box *sb = check_stream(L);
  lua_pushfstring(L, "alephant.HttpStream (%s)", sb->s ? "open" : "closed");
  return 1;
}

/* ---- started requests ------------------------------------------------------------ */

static pending_box *check_pending(lua_State *L) { return luaL_checkudata(L, 1, PENDING_MT); }

/* http:start{...} -> pending | nil, err: checked and sent like request (a refusal sends
 * nothing), returned once the request is written, never waiting for the answer. */
int alb_http_start(lua_State *L) {
  http_box *box = check_http(L);
  al_http_request req;
  al_http_header local[LOCAL_HEADERS];
  al_error err;
  pending_box *pb;
  if (alb_http_read_request(L, 2, 2, &req, local, &err)) return alb_push_error(L, &err);
  if (box->h == NULL) return push_closed(L, "transport");
  pb = lua_newuserdata(L, sizeof *pb);
  memset(pb, 0, sizeof *pb);
  pb->http_ref = LUA_NOREF;
  luaL_getmetatable(L, PENDING_MT);
  lua_setmetatable(L, -2);
  if (anchor_transport(L, box, &pb->http_ref)) return push_closed(L, "transport");
  if (al_http_start(box->h, &req, &pb->p, &err)) {
    alb_http_drop_anchor(L, &pb->http_ref);
    return push_failure(L, &err);
  }
  return 1;
}

/* pending:finish() -> response | nil, err: what http:request would have returned. The
 * request is done with afterwards (a second finish: "request is closed"). */
static int l_pending_finish(lua_State *L) {
  pending_box *pb = check_pending(L);
  al_error err;
  http_box *hb;
  int rc, ref;
  if (pb->p == NULL) return push_closed(L, "request");
  rc = al_http_pending_finish(pb->p, &pb->res, &err);
  al_http_pending_free(pb->p);
  pb->p = NULL;
  ref = pb->http_ref;
  pb->http_ref = LUA_NOREF;
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref); /* the transport, for the buffers' recycling */
  hb = lua_touserdata(L, -1);            /* set with p: always the http box */
  luaL_unref(L, LUA_REGISTRYINDEX, ref); /* it stays on the stack while this runs */
  if (rc) return push_failure(L, &err);
  alb_http_push_response(L, &pb->res, NULL);
  /* its buffers serve the transport's next request; hb->h is re-read, as a finalizer run
   * while pushing may have closed the transport */
  al_http_response_recycle(hb ? hb->h : NULL, &pb->res);
  return 1;
}

/* close and __close: idempotent; an unfinished request is cancelled. */
static int l_pending_close(lua_State *L) {
  pending_box *pb = check_pending(L);
  al_http_pending *p = pb->p;
  pb->p = NULL;
  al_http_pending_free(p);
  alb_http_drop_anchor(L, &pb->http_ref);
  lua_pushboolean(L, 1);
  return 1;
}

/* __gc: nothing can be pushing from an unreachable box; an answer a raised push left goes too. */
static int l_pending_gc(lua_State *L) {
  pending_box *pb = check_pending(L);
  al_http_response_free(&pb->res);
  return l_pending_close(L);
}

static int l_pending_tostring(lua_State *L) {
  pending_box *pb = check_pending(L);
  lua_pushfstring(L, "alephant.HttpPending (%s)", pb->p ? "pending" : "closed");
  return 1;
}

static const luaL_Reg pending_methods[] = {{"finish", l_pending_finish}, {"close", l_pending_close}, {NULL, NULL}};

static const luaL_Reg stream_methods[] = {{"next", l_stream_next},
                                          {"status", l_stream_status},
                                          {"headers", l_stream_headers},
                                          {"new_connections", l_stream_new_connections},
                                          {"close", l_stream_close},
                                          {NULL, NULL}};

void alb_http_open_streams(lua_State *L) {
  alb_new_class(L, STREAM_MT, stream_methods, l_stream_close, l_stream_tostring);
  alb_new_class(L, PENDING_MT, pending_methods, l_pending_close, l_pending_tostring);
  luaL_getmetatable(L, PENDING_MT); /* __gc also frees an answer a raise left in the box */
  lua_pushcfunction(L, l_pending_gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
}
