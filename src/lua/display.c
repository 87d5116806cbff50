/* Text shown to people, for Lua: core.closest (the "did you mean" of every message),
 * core.printable (control characters escaped for a terminal or a log line) and
 * core.secrets() (a client's secrets, scrubbed from any text it hands back). */
#include <stdlib.h>
#include <string.h>

#include "../core/closest.h"
#include "../core/display.h"
#include "../core/token.h"
#include "binding.h"

#define SECRETS_MT "alephant.Secrets"
#define MAX_SECRETS 8
#define MIN_SECRET 8 /* shorter values are not secrets worth hiding, and would mangle text */

/* closest(word, {candidate, ...}, max?) -> the candidate nearest to word, or nil when
 * none is close enough (at most max edits, default 3, and fewer than half the word) */
static int l_closest(lua_State *L) {
  size_t wn, i, n, best_d = AL_FAR + 1, best_i = 0;
  const char *w = luaL_checklstring(L, 1, &wn);
  lua_Integer max = luaL_optinteger(L, 3, 3);
  luaL_checktype(L, 2, LUA_TTABLE);
  n = (size_t)alc_rawlen(L, 2);
  for (i = 1; i <= n; i++) {
    lua_rawgeti(L, 2, (lua_Integer)i);
    if (lua_type(L, -1) == LUA_TSTRING) {
      size_t cn, d;
      const char *c = lua_tolstring(L, -1, &cn);
      d = al_edit_distance(w, wn, c, cn);
      if (d < best_d) best_d = d, best_i = i;
    }
    lua_pop(L, 1); /* c is not used past this point */
  }
  if (best_i == 0 || max < 0 || !al_close_enough(best_d, wn, (size_t)max)) {
    lua_pushnil(L);
    return 1;
  }
  lua_rawgeti(L, 2, (lua_Integer)best_i);
  return 1;
}

static void add_printable(luaL_Buffer *b, const char *s, size_t n, al_show_mode mode) {
  size_t i = 0, start = 0;
  while (i < n) {
    char out[8];
    size_t len, w = al_show_char(s + i, n - i, mode, &len, out);
    if (w) {
      luaL_addlstring(b, s + start, i - start);
      luaL_addlstring(b, out, w);
      start = i + len;
    }
    i += len;
  }
  luaL_addlstring(b, s + start, n - start);
}

/* printable(text, mode?) -> text safe for a terminal: "escaped" (default) escapes every
 * C0/C1 control character and DEL, "line" makes CR, LF and TAB spaces, "lines" keeps
 * LF and TAB. Text without any comes back as it is. */
static int l_printable(lua_State *L) {
  static const char *const modes[] = {"escaped", "line", "lines", NULL};
  size_t n, i = 0;
  const char *s = luaL_checklstring(L, 1, &n);
  al_show_mode mode = (al_show_mode)luaL_checkoption(L, 2, "escaped", modes);
  luaL_Buffer b;
  while (i < n) {
    char out[8];
    size_t len;
    if (al_show_char(s + i, n - i, mode, &len, out)) break;
    i += len;
  }
  if (i == n) {
    lua_settop(L, 1);
    return 1;
  }
  luaL_buffinit(L, &b);
  add_printable(&b, s, n, mode);
  luaL_pushresult(&b);
  return 1;
}

typedef struct {
  int count;
  char *s[MAX_SECRETS];
  size_t n[MAX_SECRETS];
} secrets_t;

static void secrets_wipe(secrets_t *t) {
  int i;
  for (i = 0; i < t->count; i++) {
    volatile char *p = t->s[i];
    size_t k;
    for (k = 0; k < t->n[i]; k++) p[k] = 0;
    free(t->s[i]);
    t->s[i] = NULL;
  }
  t->count = 0;
}

/* secrets() -> an empty set; add(s) keeps a copy (wiped on close and collection) */
static int l_secrets(lua_State *L) {
  secrets_t *t = (secrets_t *)lua_newuserdata(L, sizeof *t);
  memset(t, 0, sizeof *t);
  luaL_getmetatable(L, SECRETS_MT);
  lua_setmetatable(L, -2);
  return 1;
}

/* set:add(secret) -> set; values under 8 bytes and repeats are ignored. When full, the
 * oldest one after the first (the token, added first) makes room. */
static int l_secrets_add(lua_State *L) {
  secrets_t *t = (secrets_t *)luaL_checkudata(L, 1, SECRETS_MT);
  size_t n, i;
  const char *s = luaL_checklstring(L, 2, &n); /* stays on the stack (argument 2) while used */
  lua_pushvalue(L, 1);                           /* the result: the set */
  if (n < MIN_SECRET) return 1;
  for (i = 0; i < (size_t)t->count; i++)
    if (t->n[i] == n && memcmp(t->s[i], s, n) == 0) return 1;
  {
    char *copy = malloc(n);
    if (copy == NULL) return luaL_error(L, "alephant: out of memory");
    memcpy(copy, s, n);
    if (t->count == MAX_SECRETS) {
      volatile char *p = t->s[1];
      size_t k;
      for (k = 0; k < t->n[1]; k++) p[k] = 0;
      free(t->s[1]);
      memmove(&t->s[1], &t->s[2], sizeof t->s[0] * (MAX_SECRETS - 2));
      memmove(&t->n[1], &t->n[2], sizeof t->n[0] * (MAX_SECRETS - 2));
      t->count--;
    }
    t->s[t->count] = copy;
    t->n[t->count++] = n;
  }
  return 1;
}

/* set:scrub(v) -> v with every secret replaced by its redacted form (vk-ab…3f8a);
 * anything but a string comes back as it is */
static int l_secrets_scrub(lua_State *L) {
  secrets_t *t = (secrets_t *)luaL_checkudata(L, 1, SECRETS_MT);
  int i;
  lua_settop(L, 2);
  if (lua_type(L, 2) != LUA_TSTRING) return 1;
  for (i = 0; i < t->count; i++) {
    size_t n;
    const char *s = lua_tolstring(L, -1, &n), *hit = al_find(s, n, t->s[i], t->n[i]);
    char red[64];
    luaL_Buffer b;
    if (hit == NULL) continue;
    al_redact(t->s[i], t->n[i], red, sizeof red);
    luaL_buffinit(L, &b); /* s stays alive: it is the value just below the buffer */
    do {
      luaL_addlstring(&b, s, (size_t)(hit - s));
      luaL_addstring(&b, red);
      n -= (size_t)(hit - s) + t->n[i];
      s = hit + t->n[i];
    } while ((hit = al_find(s, n, t->s[i], t->n[i])) != NULL);
    luaL_addlstring(&b, s, n);
    luaL_pushresult(&b);
    lua_remove(L, -2); /* the previous text, now unused */
  }
  return 1;
}

/* Whether the string at idx holds one of the secrets. */
static int holds_secret(lua_State *L, const secrets_t *t, int idx) {
  size_t n;
  const char *s = lua_tolstring(L, idx, &n);
  int i;
  for (i = 0; i < t->count; i++)
    if (al_find(s, n, t->s[i], t->n[i]) != NULL) return 1;
  return 0;
}

/* set:clean(t) -> true when no string key or value of the table t holds a secret and no
 * value is a table (raw traversal): nothing to scrub in it, found by one call instead
 * of a scrub per key and value (a response's headers, every call). */
static int l_secrets_clean(lua_State *L) {
  secrets_t *t = (secrets_t *)luaL_checkudata(L, 1, SECRETS_MT);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lua_pushnil(L);
  while (lua_next(L, 2)) { /* lua_tolstring only on strings: the keys are not converted */
    int vt = lua_type(L, -1);
    if (vt == LUA_TTABLE || (vt == LUA_TSTRING && holds_secret(L, t, -1)) ||
        (lua_type(L, -2) == LUA_TSTRING && holds_secret(L, t, -2))) {
      lua_pushboolean(L, 0);
      return 1;
    }
    lua_pop(L, 1);
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int l_secrets_close(lua_State *L) {
  secrets_wipe((secrets_t *)luaL_checkudata(L, 1, SECRETS_MT));
  return 0;
}

static int l_secrets_tostring(lua_State *L) {
  secrets_t *t = (secrets_t *)luaL_checkudata(L, 1, SECRETS_MT);
  lua_pushfstring(L, "alephant.secrets<%d>", t->count);
  return 1;
}

static const luaL_Reg secrets_methods[] = {
    {"add", l_secrets_add}, {"scrub", l_secrets_scrub}, {"clean", l_secrets_clean},
    {"close", l_secrets_close}, {NULL, NULL}};

static const luaL_Reg funcs[] = {
    {"closest", l_closest}, {"printable", l_printable}, {"secrets", l_secrets}, {NULL, NULL}};

void alb_open_display(lua_State *L) {
  alb_new_class(L, SECRETS_MT, secrets_methods, l_secrets_close, l_secrets_tostring);
  alc_setfuncs(L, funcs, 0);
}
