/* Helpers shared by the binding's files: argument reading and error tables. */
#ifndef ALEPHANT_LUA_BINDING_H
#define ALEPHANT_LUA_BINDING_H

#include <stddef.h>
#include <stdint.h>

#include "../core/error.h"
#include "../core/raw.h"
#include "compat.h"

#define ALB_ERROR_MT "alephant.Error"

/* Pushes nil and an error table {kind, field, message} with the shared metatable;
 * returns 2 so a lua_CFunction can `return alb_push_error(L, &err);`. */
int alb_push_error(lua_State *L, const al_error *err);

/* Pushes true; returns 1. For validators that succeed. */
int alb_ok(lua_State *L);

/* The string at idx, or NULL when it is nil/none. Any other type fills err. */
const char *alb_opt_string(lua_State *L, int idx, size_t *len, const char *field, al_error *err, int *bad);

/* The number at idx (a programmer's argument: a bound, a clock) as an int64 without
 * an undefined conversion: an integer as it is, a float at or past +-2^63 (infinities
 * too) clamped to INT64_MAX/INT64_MIN; NaN, a fraction or a non-number raise. */
int64_t alb_int64_arg(lua_State *L, int idx);

/* Field names given by the caller (second argument and so on), defaulting. */
const char *alb_field(lua_State *L, int idx, const char *dflt);

/* One metatable per VM for a class of C objects (idempotent: luaopen may run again):
 * __index holding the methods, the same idempotent close function as __gc and __close,
 * __tostring and __name. __gc is in place before any object gets the metatable (Lua
 * 5.4 ignores a __gc added later). */
void alb_new_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction close,
                   lua_CFunction tostring);

/* Registers the error metatable (idempotent). */
void alb_open_error(lua_State *L);

/* Each file's functions, added to the module table on top of the stack. */
void alb_open_token(lua_State *L);
void alb_open_validate(lua_State *L);
void alb_open_http(lua_State *L);
void alb_open_state(lua_State *L);
void alb_open_catalog(lua_State *L);
void alb_open_clock(lua_State *L);
void alb_open_random(lua_State *L);
void alb_open_json(lua_State *L);
void alb_open_url(lua_State *L);
/* 1 when the value at idx is core.null (alephant.null) */
int alb_is_null(lua_State *L, int idx);
/* core.array_mt's registry name (src/lua/json.c), and core.json_encode (json_encode.c) */
#define ALB_ARRAY_MT "alephant.array"
int alb_json_encode(lua_State *L);
void alb_open_query(lua_State *L);
/* Reads {{name, value}, ...} (strings) at idx into q (at most max; raises otherwise).
 * The strings stay owned by the table. */
#define AL_MAX_PAIRS 64
size_t alb_read_pairs(lua_State *L, int idx, al_kv *q, size_t max);
void alb_open_display(lua_State *L);

#endif
