/* Randomness for request ids and retry jitter, from the kernel (getrandom), so that
 * nothing depends on math.random's seeding, which the host application owns. */
#define _GNU_SOURCE /* getrandom */
#include <errno.h>
#include <stdint.h>
#include <sys/random.h>

#include "binding.h"

static int fill(unsigned char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = getrandom(buf + got, n - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    got += (size_t)r;
  }
  return 0;
}

/* uuid4() -> "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" */
static int l_uuid4(lua_State *L) {
  static const char hex[] = "0123456789abcdef";
  unsigned char b[16];
  char out[36];
  int i, o = 0;
  if (fill(b, sizeof b)) return luaL_error(L, "alephant: no randomness available (getrandom failed)");
  b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
  for (i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 15];
  }
  lua_pushlstring(L, out, sizeof out);
  return 1;
}

/* random() -> a number in [0, 1) with 53 random bits */
static int l_random(lua_State *L) {
  uint64_t v = 0;
  if (fill((unsigned char *)&v, sizeof v)) return luaL_error(L, "alephant: no randomness available (getrandom failed)");
  lua_pushnumber(L, (lua_Number)(v >> 11) / 9007199254740992.0);
  return 1;
}

static const luaL_Reg funcs[] = {{"uuid4", l_uuid4}, {"random", l_random}, {NULL, NULL}};

void alb_open_random(lua_State *L) { alc_setfuncs(L, funcs, 0); }
