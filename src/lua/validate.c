/* The validation primitives, for Lua. Each returns true or nil, err with err.field
 * set to the offending parameter; a value of the wrong Lua type is a validation
 * error too (it is user input, not a programmer error). */
#include <string.h>

#include "../core/date.h"
#include "../core/enums.h"
#include "../core/exclusive.h"
#include "../core/number.h"
#include "../core/text.h"
#include "../core/uuid.h"
#include "binding.h"

/* Reads a required string argument; on failure err is filled. */
static const char *need_string(lua_State *L, int idx, size_t *n, const char *field, al_error *err) {
  int bad;
  const char *s = alb_opt_string(L, idx, n, field, err, &bad);
  if (!bad && s == NULL) al_fail(err, AL_ERR_VALIDATION, field, "%s is required", field);
  return s;
}

/* The seconds since the epoch as a Lua number: an integer when whole (Lua 5.3+). */
static void push_epoch_ms(lua_State *L, int64_t ms) {
#if LUA_VERSION_NUM >= 503
  if (ms % 1000 == 0) {
    lua_pushinteger(L, (lua_Integer)(ms / 1000));
    return;
  }
#endif
  lua_pushnumber(L, (lua_Number)ms / 1000.0);
}

/* A date or datetime argument (1, field name at 2) read once for two functions each:
 * validate_date / validate_datetime answer true, parse_date / parse_datetime (the closure's
 * upvalue is true) the seconds since the epoch, fractions kept to the ms. */
static int date_or_datetime(lua_State *L, int datetime) {
  al_error err;
  int64_t ms = 0;
  size_t n;
  al_date d = {0, 0, 0};
  const char *field = alb_field(L, 2, datetime ? "datetime" : "date");
  const char *s = need_string(L, 1, &n, field, &err);
  if (!s) return alb_push_error(L, &err);
  if (datetime ? al_parse_datetime(s, n, &ms, field, &err) : al_parse_date(s, n, &d, field, &err))
    return alb_push_error(L, &err);
  if (!lua_toboolean(L, lua_upvalueindex(1))) return alb_ok(L); /* no upvalue: none, false */
  push_epoch_ms(L, datetime ? ms : al_date_epoch_ms(&d));
  return 1;
}

static int l_date(lua_State *L) { return date_or_datetime(L, 0); }
static int l_datetime(lua_State *L) { return date_or_datetime(L, 1); }

/* date_range(from?, to?, from_field?, to_field?) and datetime_range(start?, end?, ...) */
typedef int (*window_check)(const char *, size_t, const char *, size_t, const char *, const char *, al_error *);

static int window(lua_State *L, const char *a_default, const char *b_default, window_check check) {
  al_error err;
  size_t an = 0, bn = 0;
  int bad;
  const char *af = alb_field(L, 3, a_default), *bf = alb_field(L, 4, b_default);
  const char *a = alb_opt_string(L, 1, &an, af, &err, &bad), *b;
  if (bad) return alb_push_error(L, &err);
  b = alb_opt_string(L, 2, &bn, bf, &err, &bad);
  if (bad || check(a, an, b, bn, af, bf, &err)) return alb_push_error(L, &err);
  return alb_ok(L);
}

static int l_date_range(lua_State *L) { return window(L, "from", "to", al_check_date_range); }
static int l_datetime_range(lua_State *L) { return window(L, "start", "end", al_check_datetime_range); }

static int l_uuid(lua_State *L) {
  al_error err;
  size_t n;
  const char *field = alb_field(L, 2, "id");
  const char *s = need_string(L, 1, &n, field, &err);
  if (!s || al_check_uuid(s, n, field, &err)) return alb_push_error(L, &err);
  return alb_ok(L);
}

static int l_header_value(lua_State *L) {
  al_error err;
  size_t n;
  const char *field = alb_field(L, 2, "header");
  const char *s = need_string(L, 1, &n, field, &err);
  if (!s || al_check_header_value(s, n, field, &err)) return alb_push_error(L, &err);
  return alb_ok(L);
}

/* header_name(name, field?): an HTTP token (core/text.c, the transport's rule too) */
static int l_header_name(lua_State *L) {
  al_error err;
  size_t n;
  const char *field = alb_field(L, 2, "headers");
  const char *s = need_string(L, 1, &n, field, &err);
  if (!s || al_check_header_name(s, n, field, &err)) return alb_push_error(L, &err);
  return alb_ok(L);
}

static int l_length(lua_State *L) {
  al_error err;
  size_t n;
  const char *field = alb_field(L, 2, "value");
  long min = (long)luaL_optinteger(L, 3, 0), max = (long)luaL_optinteger(L, 4, 0x7fffffffL);
  const char *s = need_string(L, 1, &n, field, &err);
  if (!s || al_check_length(s, n, min, max, field, &err)) return alb_push_error(L, &err);
  return alb_ok(L);
}

/* The argument as an int64, checking integrality on the double where there is no
 * integer subtype (LuaJIT), so 2.5 is refused everywhere instead of truncated. */
static int read_integer(lua_State *L, int idx, int64_t *out, const char *field, al_error *err) {
  if (lua_type(L, idx) != LUA_TNUMBER)
    return al_fail(err, AL_ERR_VALIDATION, field, "%s must be an integer, got %s", field,
                   lua_typename(L, lua_type(L, idx)));
  if (alc_isinteger(L, idx)) {
    *out = (int64_t)lua_tointeger(L, idx);
    return 0;
  }
  return al_number_to_integer((double)lua_tonumber(L, idx), out, field, err);
}

/* integer(v, field, min?, max?) */
static int l_integer(lua_State *L) {
  al_error err;
  int64_t v;
  const char *field = alb_field(L, 2, "value");
  int64_t min = lua_isnoneornil(L, 3) ? INT64_MIN : alb_int64_arg(L, 3);
  int64_t max = lua_isnoneornil(L, 4) ? INT64_MAX : alb_int64_arg(L, 4);
  if (read_integer(L, 1, &v, field, &err) || al_check_range(v, min, max, field, &err))
    return alb_push_error(L, &err);
  return alb_ok(L);
}

/* integer_in(v, field, {1, 7, 30}) */
static int l_integer_in(lua_State *L) {
  al_error err;
  int64_t v, set[16];
  size_t i, n;
  const char *field = alb_field(L, 2, "value");
  luaL_checktype(L, 3, LUA_TTABLE);
  n = alc_rawlen(L, 3);
  luaL_argcheck(L, n > 0 && n <= 16, 3, "between 1 and 16 allowed values expected");
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, 3, (int)i + 1);
    set[i] = alb_int64_arg(L, lua_gettop(L));
    lua_pop(L, 1);
  }
  if (read_integer(L, 1, &v, field, &err) || al_check_int_set(v, set, n, field, &err)) return alb_push_error(L, &err);
  return alb_ok(L);
}

/* enum(name, value, field?) */
static int l_enum(lua_State *L) {
  al_error err;
  size_t n;
  const char *name = luaL_checkstring(L, 1);
  const al_enum *e = al_enum_find(name);
  const char *field = alb_field(L, 3, name), *s;
  if (e == NULL) return luaL_argerror(L, 1, lua_pushfstring(L, "unknown enum '%s'", name));
  s = need_string(L, 2, &n, field, &err);
  if (!s || al_check_enum(e, s, n, field, &err)) return alb_push_error(L, &err);
  return alb_ok(L);
}

/* granularity(metric?, granularity?) */
static int l_granularity(lua_State *L) {
  al_error err;
  size_t mn = 0, gn = 0;
  int bad;
  const char *m = alb_opt_string(L, 1, &mn, "metric", &err, &bad), *g;
  if (bad) return alb_push_error(L, &err);
  g = alb_opt_string(L, 2, &gn, "granularity", &err, &bad);
  if (bad || al_check_granularity(m, mn, g, gn, &err)) return alb_push_error(L, &err);
  return alb_ok(L);
}

/* exclusive(params, {"agent_id", "member_id", "department_id"}) */
static int l_exclusive(lua_State *L) {
  al_error err;
  const char *names[16];
  int present[16];
  size_t i, n;
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  n = alc_rawlen(L, 2);
  luaL_argcheck(L, n > 0 && n <= 16, 2, "between 1 and 16 names expected");
  /* The names stay on the stack (3 .. n+2) until the end: a number is converted to a
   * string there only, and params' __index may run any code, the collector included. */
  luaL_checkstack(L, (int)n + 2, "validate_exclusive");
  for (i = 0; i < n; i++) {
    lua_rawgeti(L, 2, (int)i + 1);
    if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
      return luaL_argerror(L, 2, "names must be strings");
    names[i] = lua_tostring(L, -1);
  }
  for (i = 0; i < n; i++) {
    lua_getfield(L, 1, names[i]);
    present[i] = !lua_isnil(L, -1);
    lua_pop(L, 1);
  }
  if (al_check_exclusive(names, present, n, NULL, &err)) return alb_push_error(L, &err);
  return alb_ok(L);
}

/* enums() -> {period = {"24h", ...}, ...} */
static int l_enums(lua_State *L) {
  size_t i, j;
  const al_enum *e;
  lua_newtable(L);
  for (i = 0; (e = al_enum_at(i)) != NULL; i++) {
    lua_newtable(L);
    for (j = 0; e->values[j]; j++) {
      lua_pushstring(L, e->values[j]);
      lua_rawseti(L, -2, (int)j + 1);
    }
    lua_setfield(L, -2, e->name);
  }
  return 1;
}

static const luaL_Reg funcs[] = {{"validate_date", l_date},
                                 {"validate_date_range", l_date_range},
                                 {"validate_datetime", l_datetime},
                                 {"validate_datetime_range", l_datetime_range},
                                 {"validate_uuid", l_uuid},
                                 {"validate_header_value", l_header_value},
                                 {"validate_header_name", l_header_name},
                                 {"validate_length", l_length},
                                 {"validate_integer", l_integer},
                                 {"validate_integer_in", l_integer_in},
                                 {"validate_enum", l_enum},
                                 {"validate_granularity", l_granularity},
                                 {"validate_exclusive", l_exclusive},
                                 {"enums", l_enums},
                                 {NULL, NULL}};

void alb_open_validate(lua_State *L) {
  alc_setfuncs(L, funcs, 0);
  lua_pushboolean(L, 1); /* parse_date(s, field?) -> seconds since the epoch of its midnight UTC | nil, err */
  lua_pushcclosure(L, l_date, 1);
  lua_setfield(L, -2, "parse_date");
  lua_pushboolean(L, 1); /* parse_datetime(s, field?) -> seconds since the epoch | nil, err */
  lua_pushcclosure(L, l_datetime, 1);
  lua_setfield(L, -2, "parse_datetime");
}
