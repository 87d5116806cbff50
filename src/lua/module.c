/* luaopen_alephant_core: the only exported symbol. Safe to call again in the same
 * VM (busted insulation, package.loaded cleared) and in many VMs at once (nginx
 * workers and worker threads): it keeps no global state. */
#include "binding.h"

#ifndef ALEPHANT_VERSION
#define ALEPHANT_VERSION "scm"
#endif

#if defined(__GNUC__)
#define ALEPHANT_EXPORT __attribute__((visibility("default")))
#else
#define ALEPHANT_EXPORT
#endif

ALEPHANT_EXPORT int luaopen_alephant_core(lua_State *L);

int luaopen_alephant_core(lua_State *L) {
  lua_newtable(L);
  alb_open_error(L);
  alb_open_token(L);
  alb_open_validate(L);
  alb_open_http(L);
  alb_open_state(L);
  alb_open_catalog(L);
  alb_open_clock(L);
  alb_open_random(L);
  alb_open_json(L);
  alb_open_url(L);
  alb_open_query(L);
  alb_open_display(L);
  lua_pushliteral(L, ALEPHANT_VERSION);
  lua_setfield(L, -2, "version");
  return 1;
}
