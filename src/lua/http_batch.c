/* http:request_many (http_private.h): every request read and checked first, then
 * sent together by al_http_perform_many (src/transport/http_batch.c). */
#include <string.h>

#include "http_private.h"

#define BATCH_GUARD_MT "alephant.HttpBatch" /* frees a batch's C responses if a push raises */

typedef struct {
  size_t n;
  al_http_response res[1];
} batch_guard;

static int l_batch_guard_gc(lua_State *L) {
  batch_guard *g = lua_touserdata(L, 1);
  size_t i;
  for (i = 0; i < g->n; i++) al_http_response_free(&g->res[i]);
  g->n = 0;
  return 0;
}

/* The most requests one batch takes: a list longer than this is a programmer error. */
#define MAX_BATCH 10000

/* http:request_many({req, ...}, max_concurrency?) -> {response or error, ...}
 * Every request is read and checked before any is sent; one whose headers or URL are
 * refused gets its error in its slot and is not sent. An error table has `kind`, a
 * response `status`. */
int alb_http_request_many(lua_State *L) {
  http_box *box = check_http(L);
  lua_Integer conc = luaL_optinteger(L, 3, 8);
  size_t n, i, nsend = 0;
  al_http_request *reqs;
  al_error *errs;
  int *rcs, *pre;
  size_t *slot;
  batch_guard *g;
  int base, anchor, anchored = 0;
  luaL_checktype(L, 2, LUA_TTABLE);
  n = (size_t)alc_rawlen(L, 2);
  luaL_argcheck(L, n <= MAX_BATCH, 2, "at most 10000 requests in one batch");
  luaL_argcheck(L, conc >= 1 && conc <= 64, 3, "max_concurrency must be an integer from 1 to 64");
  if (box->h == NULL) return push_closed(L, "transport");
  /* scratch arrays in userdata: freed by the collector whatever happens */
  reqs = lua_newuserdata(L, (n ? n : 1) * sizeof *reqs);
  errs = lua_newuserdata(L, (n ? n : 1) * sizeof *errs);
  rcs = lua_newuserdata(L, (n ? n : 1) * sizeof *rcs);
  pre = lua_newuserdata(L, (n ? n : 1) * sizeof *pre);
  slot = lua_newuserdata(L, (n ? n : 1) * sizeof *slot);
  g = lua_newuserdata(L, sizeof *g + (n ? n : 1) * sizeof(al_http_response));
  g->n = 0;
  luaL_getmetatable(L, BATCH_GUARD_MT);
  lua_setmetatable(L, -2);
  base = lua_gettop(L);
  /* what alb_http_read_request pushes for each request (the request table, method, url, body,
   * headers and their array) is moved into this table, which stays on the stack until
   * the batch is done: every pointer it hands out stays valid, and the C stack stays
   * short (LuaJIT allows a C function about 8,000 slots; a batch takes 10,000) */
  lua_createtable(L, (int)n * 6, 0);
  anchor = lua_gettop(L);
  for (i = 0; i < n; i++) {
    int t;
    al_http_request one;
    luaL_checkstack(L, 12, "request_many");
    lua_rawgeti(L, 2, (lua_Integer)i + 1);
    t = lua_gettop(L);
    if (lua_type(L, t) != LUA_TTABLE) {
      lua_pushfstring(L, "request %d must be a table, got %s", (int)i + 1, luaL_typename(L, t));
      luaL_argerror(L, 2, lua_tostring(L, -1));
    }
    pre[i] = alb_http_read_request(L, 2, t, &one, NULL, &errs[i]);
    while (lua_gettop(L) >= t) lua_rawseti(L, anchor, ++anchored); /* pops the top */
    if (pre[i] == 0) {
      slot[nsend] = i;
      reqs[nsend++] = one;
    }
  }
  /* errs/res are indexed by request; the C batch fills them through slot[] below */
  {
    al_error *serr = lua_newuserdata(L, (nsend ? nsend : 1) * sizeof *serr);
    al_http_response *sres = g->res;
    /* a finalizer run by the allocations since the check above may have closed it
     * (before g->n is set: the guard's responses are not filled yet) */
    if (box->h == NULL) return push_closed(L, "transport");
    g->n = nsend;
    (void)al_http_perform_many(box->h, reqs, nsend, (size_t)conc, sres, serr, rcs);
    for (i = 0; i < nsend; i++)
      if (rcs[i]) errs[slot[i]] = serr[i];
    lua_pop(L, 1);
  }
  lua_createtable(L, (int)n, 0);
  {
    size_t k = 0;
    for (i = 0; i < n; i++) {
      if (pre[i]) {
        alb_push_error(L, &errs[i]);
        lua_remove(L, -2); /* the nil before the error */
      } else {
        if (rcs[k]) {
          push_failure(L, &errs[i]);
          lua_remove(L, -2);
        } else {
          alb_http_push_response(L, &g->res[k], NULL);
        }
        al_http_response_free(&g->res[k]);
        k++;
      }
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
  }
  lua_replace(L, base); /* the results over the guard, whose responses are all freed */
  lua_settop(L, base);
  return 1;
}

void alb_http_open_batch(lua_State *L) {
  if (luaL_newmetatable(L, BATCH_GUARD_MT)) {
    lua_pushcfunction(L, l_batch_guard_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
}
