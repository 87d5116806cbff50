/* A response of the transport as Lua values (http_private.h): {status, headers, body,
 * new_connections, local_port}, the header names and values of the transport's last
 * response kept as Lua strings and pushed again when the next one repeats them. */
#include <stdlib.h>
#include <string.h>

#include "http_private.h"

static void push_slot(lua_State *L, http_box *box, int c, size_t j, const char *s, size_t len) {
  char *k = box->kept->bytes + j * HCACHE_BYTES;
  if (box->kept->len[j] == len && memcmp(k, s, len) == 0) {
    lua_rawgeti(L, c, (lua_Integer)j + 1);
    return;
  }
  box->kept->len[j] = HCACHE_UNKNOWN;
  lua_pushlstring(L, s, len);
  if (len > HCACHE_BYTES) return;
  lua_pushvalue(L, -1);
  lua_rawseti(L, c, (lua_Integer)j + 1);
  memcpy(k, s, len);
  box->kept->len[j] = (uint32_t)len;
}

/* The headers as a table (lower-case names). box (NULL: none) keeps their strings for
 * the next response: a server sends the same names, and mostly the same values, every
 * time, and a field equal to the kept one (compared in C) is pushed from the kept table
 * (lua_rawgeti) instead of being made again (hashed, interned, allocated, collected). A
 * string is a value in Lua: nothing can tell a kept one from a new one.
 * Only the steady path of l_http_request passes box, while box->pushing is set: a
 * finalizer that re-enters the transport then takes the guard path (box NULL), so no
 * other push changes the kept strings under this one. */
static void push_headers(lua_State *L, const al_http_field *f, size_t n, http_box *box) {
  size_t i;
  int c;
  lua_createtable(L, 0, (int)n);
  if (box != NULL && n > 0 && box->kept == NULL && (box->kept = malloc(sizeof *box->kept)) != NULL)
    memset(box->kept->len, 0xff, sizeof box->kept->len); /* HCACHE_UNKNOWN */
  if (box == NULL || n == 0 || box->kept == NULL) {
    for (i = 0; i < n; i++) {
      lua_pushlstring(L, f[i].name, f[i].name_len);
      lua_pushlstring(L, f[i].value, f[i].value_len);
      lua_rawset(L, -3);
    }
    return;
  }
  if (box->hcache == LUA_NOREF) {
    memset(box->kept->len, 0xff, sizeof box->kept->len); /* the table is empty */
    lua_createtable(L, HCACHE_SLOTS, 0);
    lua_pushvalue(L, -1);
    box->hcache = luaL_ref(L, LUA_REGISTRYINDEX);
  } else {
    lua_rawgeti(L, LUA_REGISTRYINDEX, box->hcache);
  }
  c = lua_gettop(L);
  for (i = 0; i < n; i++) {
    if (i < HCACHE_FIELDS) {
      push_slot(L, box, c, 2 * i, f[i].name, f[i].name_len);
      push_slot(L, box, c, 2 * i + 1, f[i].value, f[i].value_len);
    } else {
      lua_pushlstring(L, f[i].name, f[i].name_len);
      lua_pushlstring(L, f[i].value, f[i].value_len);
    }
    lua_rawset(L, c - 1);
  }
  lua_pop(L, 1);
}

/* The response as a table: status, headers (lower-case names), body, new_connections,
 * local_port. box: see push_headers. */
void alb_http_push_response(lua_State *L, const al_http_response *res, http_box *box) {
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, (lua_Integer)res->status);
  lua_setfield(L, -2, "status");
  lua_pushinteger(L, (lua_Integer)res->new_connections);
  lua_setfield(L, -2, "new_connections");
  lua_pushinteger(L, (lua_Integer)res->local_port);
  lua_setfield(L, -2, "local_port");
  push_headers(L, res->headers, res->nheaders, box);
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, res->body ? res->body : "", res->body_len);
  lua_setfield(L, -2, "body");
}

/* A batch's C responses, freed by __gc if pushing the results raises. */
