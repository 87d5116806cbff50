#include "uuid.h"

#include <ctype.h>
#include <string.h>

#include "token.h"
#include "url.h"

/* 0-9, a-f, A-F: isxdigit in the C locale, one load per byte */
static const unsigned char hex_digit[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1};

/* s[from..to) are hex digits */
static int hex_run(const unsigned char *s, size_t from, size_t to) {
  unsigned ok = 1;
  for (; from < to; from++) ok &= hex_digit[s[from]];
  return (int)ok;
}

int al_is_uuid(const char *s, size_t n) {
  const unsigned char *u = (const unsigned char *)s;
  if (n != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return 0;
  return hex_run(u, 0, 8) && hex_run(u, 9, 13) && hex_run(u, 14, 18) && hex_run(u, 19, 23) && hex_run(u, 24, 36);
}

int al_check_uuid(const char *s, size_t n, const char *field, al_error *err) {
  char q[AL_QUOTE_CAP];
  if (al_is_uuid(s, n)) return 0;
  if (al_looks_like_token(s, n)) { /* never echo it: show it as tokens are shown */
    char shown[32];
    al_redact(s, n, shown, sizeof shown);
    return al_fail(err, AL_ERR_VALIDATION, field,
                   "%s must be a UUID such as 123e4567-e89b-12d3-a456-426614174000, got what looks like a "
                   "token (%s)",
                   field, shown);
  }
  return al_fail(err, AL_ERR_VALIDATION, field,
                 "%s must be a UUID such as 123e4567-e89b-12d3-a456-426614174000, got \"%s\"", field,
                 al_quote(s, n, q));
}
