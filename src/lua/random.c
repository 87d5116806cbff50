/* Randomness for request ids and retry jitter: a ChaCha20 keystream per Lua VM
 * (src/core/rng.c) keyed from the kernel (getrandom), so that nothing depends on
 * math.random's seeding, which the host application owns. The generator lives in a
 * userdata shared by uuid4 and random as an upvalue; it is keyed at its first use and
 * keyed again in a forked child (nginx forks its workers after init_by_lua), so that
 * no two processes hand out the same ids. */
#define _GNU_SOURCE /* getrandom */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "../core/rng.h"

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

typedef struct {
  al_rng rng;
  pid_t pid; /* the process that keyed rng; 0: not keyed yet */
} generator;

/* The VM's generator, keyed for this process; raises when the kernel gives no key. */
static al_rng *rng(lua_State *L) {
  generator *g = lua_touserdata(L, lua_upvalueindex(1));
  pid_t pid = getpid();
  if (g->pid != pid) {
    unsigned char key[32];
    if (fill(key, sizeof key)) luaL_error(L, "alephant: no randomness available (getrandom failed)");
    al_rng_seed(&g->rng, key);
    memset(key, 0, sizeof key);
    g->pid = pid;
  }
  return &g->rng;
}

/* uuid4() -> "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" */
static int l_uuid4(lua_State *L) {
  char out[36];
  al_rng_uuid4(rng(L), out);
  lua_pushlstring(L, out, sizeof out);
  return 1;
}

/* random() -> a number in [0, 1) with 53 random bits */
static int l_random(lua_State *L) {
  unsigned char b[8];
  uint64_t v = 0;
  int i;
  al_rng_bytes(rng(L), b, sizeof b);
  for (i = 0; i < 8; i++) v = v << 8 | b[i];
  lua_pushnumber(L, (lua_Number)(v >> 11) / 9007199254740992.0);
  return 1;
}

static const luaL_Reg funcs[] = {{"uuid4", l_uuid4}, {"random", l_random}, {NULL, NULL}};

void alb_open_random(lua_State *L) {
  generator *g = lua_newuserdata(L, sizeof *g);
  memset(g, 0, sizeof *g);
  alc_setfuncs(L, funcs, 1);
}
