/* libFuzzer harness for calendar dates and ISO-8601 datetimes (src/core/date.c).
 * Checked: accepted dates are exactly YYYY-MM-DD with a real day, and round-trip
 * through days_from_civil; accepted datetimes have the documented shape; a range is
 * accepted only when both ends parse and are ordered. */

#include "fuzz.h"
#include "date.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = fuzz_copy(data, size);
  al_date d;
  al_error err;
  int64_t ms, ms2;
  size_t half = size / 2;
  if (!s) return 0;

  if (al_parse_date(s, size, &d, "from", &err) == 0) {
    char back[16];
    REQUIRE(size == 10);
    REQUIRE(d.month >= 1 && d.month <= 12 && d.day >= 1 && d.day <= al_days_in_month(d.year, d.month));
    snprintf(back, sizeof back, "%04d-%02d-%02d", d.year, d.month, d.day);
    REQUIRE(memcmp(back, s, 10) == 0);
    /* consecutive days are consecutive numbers */
    if (d.day > 1) REQUIRE(al_days_from_civil(d.year, d.month, d.day) - al_days_from_civil(d.year, d.month, d.day - 1) == 1);
  } else {
    REQUIRE(err.kind == AL_ERR_VALIDATION && strcmp(err.field, "from") == 0);
  }

  if (al_parse_datetime(s, size, &ms, "start", &err) == 0) {
    REQUIRE(size >= 20 && s[10] == 'T' && (s[size - 1] == 'Z' || s[size - 6] == '+' || s[size - 6] == '-'));
  }

  /* split the input into two halves as a window */
  if (al_check_datetime_range(s, half, s + half, size - half, "start", "end", &err) == 0) {
    REQUIRE(al_parse_datetime(s, half, &ms, "start", NULL) == 0);
    REQUIRE(al_parse_datetime(s + half, size - half, &ms2, "end", NULL) == 0);
    REQUIRE(ms2 > ms);
  }
  if (al_check_date_range(s, half, s + half, size - half, "from", "to", &err) == 0) {
    REQUIRE(half == 10 && size - half == 10);
  }
  free(s);
  return 0;
}
