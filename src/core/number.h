/* Integers that arrive as Lua numbers. LuaJIT has no integer subtype and its
 * lua_tointeger truncates 2.5 to 2, so integrality is checked here, on the double. */
#ifndef ALEPHANT_CORE_NUMBER_H
#define ALEPHANT_CORE_NUMBER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* An integral, finite double inside the int64 range into *out. */
int al_number_to_integer(double d, int64_t *out, const char *field, al_error *err);

int al_check_range(int64_t v, int64_t min, int64_t max, const char *field, al_error *err);

/* v is one of the n values of set (e.g. days in {1, 7, 30}). */
int al_check_int_set(int64_t v, const int64_t *set, size_t n, const char *field, al_error *err);

#endif
