#include "number.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int al_number_to_integer(double d, int64_t *out, const char *field, al_error *err) {
  /* 2^63 is exactly representable; anything at or past it does not fit */
  if (!isfinite(d) || d != floor(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0)
    return al_fail(err, AL_ERR_VALIDATION, field, "%s must be an integer, got %.17g", field, d);
  *out = (int64_t)d;
  return 0;
}

int al_check_range(int64_t v, int64_t min, int64_t max, const char *field, al_error *err) {
  if (v >= min && v <= max) return 0;
  if (max == INT64_MAX)
    return al_fail(err, AL_ERR_VALIDATION, field, "%s must be %lld or more, got %lld", field, (long long)min,
                   (long long)v);
  return al_fail(err, AL_ERR_VALIDATION, field, "%s must be between %lld and %lld, got %lld", field,
                 (long long)min, (long long)max, (long long)v);
}

int al_check_int_set(int64_t v, const int64_t *set, size_t n, const char *field, al_error *err) {
  char list[128] = "";
  size_t i, used = 0;
  for (i = 0; i < n; i++)
    if (set[i] == v) return 0;
  for (i = 0; i < n && used < sizeof list; i++) {
    int w = snprintf(list + used, sizeof list - used, "%s%lld", i ? ", " : "", (long long)set[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
  return al_fail(err, AL_ERR_VALIDATION, field, "%s must be one of %s, got %lld", field, list, (long long)v);
}
