/* What the files of the transport's binding share (http.c: the transport object and
 * http:request; http_response.c: a response as Lua values; http_batch.c:
 * http:request_many; http_stream.c: streams and started requests): the boxes, reading
 * a request table, the error returns, and the functions one file calls in another. */
#ifndef ALEPHANT_LUA_HTTP_PRIVATE_H
#define ALEPHANT_LUA_HTTP_PRIVATE_H

#include <stdint.h>

#include "../transport/http.h"
#include "binding.h"

#define HTTP_MT "alephant.Http"
/* Header names and values of a transport's last response, kept as Lua strings (see
 * push_headers): the first HCACHE_FIELDS fields, each string at most HCACHE_BYTES. */
#define HCACHE_FIELDS 32
#define HCACHE_BYTES 128
#define HCACHE_SLOTS (2 * HCACHE_FIELDS) /* slot 2i: the name of field i, 2i + 1 its value */
#define HCACHE_UNKNOWN UINT32_MAX
typedef struct {
  uint32_t len[HCACHE_SLOTS]; /* slot j's byte count, or HCACHE_UNKNOWN */
  char bytes[HCACHE_SLOTS * HCACHE_BYTES];
} hcache_bytes;

typedef struct {
  al_http *h;
  /* The response that l_http_request is turning into Lua values. It lives here, not in
   * a guard userdata of its own (an allocation and a finalizer per request), because
   * pushing may raise (out of memory) and the box's __gc then frees it. A finalizer run
   * while pushing may call request on this transport again: `pushing` (the thread
   * doing it) sends such a call down the guard path. */
  al_http_response res;
  lua_State *pushing;
  /* push_headers: a registry reference to the table of kept strings (slot j at j + 1),
   * or LUA_NOREF; their bytes, malloc'd at the first response with headers (NULL
   * before: a transport that sends nothing pays nothing, in the Lua heap or out of it) */
  int hcache;
  hcache_bytes *kept;
} http_box;

typedef struct {
  al_http_stream *s;
  int http_ref; /* keeps the transport alive while the stream is open */
} stream_box;

typedef struct {
  al_http_pending *p;
  int http_ref; /* keeps the transport alive while the request is pending */
  /* the answer finish is turning into Lua values: freed by __gc if pushing raises */
  al_http_response res;
} pending_box;

/* Headers of one request read into the caller's C array when they fit (no allocation,
 * nothing to leak when a raise unwinds it), else into a scratch userdata. */
#define LOCAL_HEADERS 16

static inline http_box *check_http(lua_State *L) { return luaL_checkudata(L, 1, HTTP_MT); }

/* Drops the registry reference in *ref (LUA_NOREF is ignored) and sets it to LUA_NOREF. */
static inline void alb_http_drop_anchor(lua_State *L, int *ref) {
  int r = *ref;
  *ref = LUA_NOREF;
  luaL_unref(L, LUA_REGISTRYINDEX, r); /* LUA_NOREF is ignored */
}

/* nil, err; network and timeout failures are marked retryable for the retry logic. */
static inline int push_failure(lua_State *L, const al_error *err) {
  alb_push_error(L, err);
  if (err->kind == AL_ERR_NETWORK || err->kind == AL_ERR_TIMEOUT) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "retryable");
  }
  return 2;
}

/* Using a closed object is not worth retrying: retryable stays false. */
static inline int push_closed(lua_State *L, const char *what) {
  al_error err;
  al_fail(&err, AL_ERR_NETWORK, "", "%s is closed", what);
  return alb_push_error(L, &err);
}

/* http.c */
/* Reads a request table (argument tbl, reported as argument arg) into *req; -1 and *err
 * for a refused one, type errors raised. local: room for LOCAL_HEADERS headers, or NULL. */
int alb_http_read_request(lua_State *L, int arg, int tbl, al_http_request *req, al_http_header *local, al_error *err);

/* http_response.c: the response as a table; box keeps its header strings (NULL: none) */
void alb_http_push_response(lua_State *L, const al_http_response *res, http_box *box);

/* http_batch.c: http:request_many, and its guard's metatable */
int alb_http_request_many(lua_State *L);
void alb_http_open_batch(lua_State *L);

/* http_stream.c: http:stream and http:start, and the classes of what they return */
int alb_http_stream(lua_State *L);
int alb_http_start(lua_State *L);
void alb_http_open_streams(lua_State *L);

#endif
