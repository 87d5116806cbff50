#include "uuid.h"

#include <ctype.h>
#include <string.h>

#include "token.h"
#include "url.h"

int al_is_uuid(const char *s, size_t n) {
  size_t i;
  if (n != 36) return 0;
  for (i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return 0;
    } else if (!isxdigit((unsigned char)s[i])) {
      return 0;
    }
  }
  return 1;
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
