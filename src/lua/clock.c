/* Time for deadlines and backoff: a monotonic clock (wall-clock jumps must not stretch
 * or cut a deadline) and a plain blocking sleep for non-nginx use. In nginx the Lua
 * side sleeps with ngx.sleep instead. */
#include <errno.h>
#include <time.h>

#include "binding.h"

/* monotonic() -> seconds as a number, from an arbitrary origin */
static int l_monotonic(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

/* sleep(seconds): fractions allowed; restarts after signals until the time is spent */
static int l_sleep(lua_State *L) {
  lua_Number s = luaL_checknumber(L, 1);
  struct timespec req, rem;
  if (!(s > 0)) return 0;
  if (s > 86400) s = 86400;
  req.tv_sec = (time_t)s;
  req.tv_nsec = (long)((s - (lua_Number)req.tv_sec) * 1e9);
  while (nanosleep(&req, &rem) == -1 && errno == EINTR) req = rem;
  return 0;
}

static const luaL_Reg funcs[] = {{"monotonic", l_monotonic}, {"sleep", l_sleep}, {NULL, NULL}};

void alb_open_clock(lua_State *L) { alc_setfuncs(L, funcs, 0); }
