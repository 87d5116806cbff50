/* Randomness for request ids and retry jitter: a ChaCha20 keystream per Lua VM
 * (src/core/rng.c) keyed from the kernel (getrandom), so that nothing depends on
 * math.random's seeding, which the host application owns. The generator lives in a
 * userdata shared by uuid4 and random as an upvalue; it is keyed at its first use and
 * keyed again in a forked child (nginx forks its workers after init_by_lua), so that
 * no two processes hand out the same ids. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MADV_WIPEONFORK */
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* getrandom */
#endif
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
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

/* The generator's state sits in a page of its own marked MADV_WIPEONFORK: a forked
 * child finds it zeroed, so `keyed` is 0 and the child draws a new key, at no cost per
 * call (a getpid() per id cost as much as the getrandom() it replaced). Where the
 * kernel lacks MADV_WIPEONFORK (before Linux 4.14) the state stays in the userdata and
 * the pid is compared on every call. */
typedef struct {
  al_rng rng;
  int keyed;
  pid_t pid; /* the process that keyed rng (used without MADV_WIPEONFORK) */
} rng_state;

typedef struct {
  rng_state *st;   /* the wiped-on-fork page, or &own */
  size_t page;     /* its size; 0 when st == &own */
  rng_state own;
} generator;

#define RNG_MT "alephant.rng"

static int l_rng_gc(lua_State *L) {
  generator *g = luaL_checkudata(L, 1, RNG_MT);
  if (g->page) {
    memset(g->st, 0, sizeof *g->st);
    munmap(g->st, g->page);
  } else {
    memset(&g->own, 0, sizeof g->own);
  }
  g->st = NULL;
  g->page = 0;
  return 0;
}

/* The VM's generator, keyed for this process; raises when the kernel gives no key. */
static al_rng *rng(lua_State *L) {
  generator *g = lua_touserdata(L, lua_upvalueindex(1));
  rng_state *st = g->st;
  if (st == NULL) { /* first use in this VM */
    long ps = sysconf(_SC_PAGESIZE);
    size_t page = ps > 0 && (size_t)ps >= sizeof *st ? (size_t)ps : 4096;
    void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
#ifdef MADV_WIPEONFORK
    if (p != MAP_FAILED && madvise(p, page, MADV_WIPEONFORK) == 0) {
      g->st = st = p;
      g->page = page;
    }
#endif
    if (st == NULL) {
      if (p != MAP_FAILED) munmap(p, page);
      g->st = st = &g->own;
      g->page = 0;
    }
  }
  if (!st->keyed || (g->page == 0 && st->pid != getpid())) {
    unsigned char key[32];
    if (fill(key, sizeof key)) luaL_error(L, "alephant: no randomness available (getrandom failed)");
    al_rng_seed(&st->rng, key);
    memset(key, 0, sizeof key);
    st->keyed = 1;
    st->pid = getpid();
  }
  return &st->rng;
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
  if (luaL_newmetatable(L, RNG_MT)) {
    lua_pushcfunction(L, l_rng_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  alc_setfuncs(L, funcs, 1);
}
