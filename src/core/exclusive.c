#include "exclusive.h"

#include <stdio.h>

int al_check_exclusive(const char *const *names, const int *present, size_t n, const char *who, al_error *err) {
  char all[192] = "";
  size_t i, used = 0, first = n, second = n;
  for (i = 0; i < n; i++) {
    if (!present[i]) continue;
    if (first == n) first = i;
    else if (second == n) second = i;
  }
  if (second == n) return 0;
  for (i = 0; i < n; i++) {
    int w = snprintf(all + used, sizeof all - used, "%s%s", i ? ", " : "", names[i]);
    if (w < 0 || (size_t)w >= sizeof all - used) break; /* cut: the list stays NUL-terminated */
    used += (size_t)w;
  }
  if (who)
    return al_fail(err, AL_ERR_VALIDATION, names[second], "%s and %s cannot be combined: %s takes at most one of %s",
                   names[first], names[second], who, all);
  return al_fail(err, AL_ERR_VALIDATION, names[second], "%s and %s cannot be combined: pass at most one of %s",
                 names[first], names[second], all);
}
