#include "check.h"
#include "date.h"

static int date_ok(const char *s) { return al_parse_date(s, strlen(s), NULL, "from", NULL) == 0; }

static int dt(const char *s, int64_t *ms) { return al_parse_datetime(s, strlen(s), ms, "start", NULL); }

int main(void) {
  al_error err;
  al_date d;
  int64_t ms = 0;

  CHECK(al_parse_date("2026-11-27", 10, &d, "from", &err) == 0);
  CHECK(d.year == 2026 && d.month == 11 && d.day == 27);
  CHECK(date_ok("2024-02-29"));  /* leap year */
  CHECK(date_ok("2000-02-29"));  /* divisible by 400 */
  CHECK(!date_ok("1900-02-29")); /* divisible by 100, not 400 */
  CHECK(!date_ok("2026-02-29"));
  CHECK(!date_ok("2026-1-5"));
  CHECK(!date_ok("2026-01-5"));
  CHECK(!date_ok(" 2026-01-05"));
  CHECK(!date_ok("2026-01-05 "));
  CHECK(!date_ok("2026/01/05"));
  CHECK(!date_ok("2026-13-01"));
  CHECK(!date_ok("2026-00-10"));
  CHECK(!date_ok("2026-04-31"));
  CHECK(!date_ok("2026-04-00"));
  CHECK(!date_ok(""));
  CHECK(!date_ok("2026-11-27T00:00:00Z"));
  CHECK(date_ok("2026-12-31"));
  CHECK(date_ok("0000-01-01") && date_ok("9999-12-31"));
  /* each digit place refuses the bytes either side of '0'..'9' */
  CHECK(!date_ok("/026-01-05") && !date_ok("2:26-01-05") && !date_ok("20/6-01-05") && !date_ok("202:-01-05"));
  CHECK(!date_ok("2026-/1-05") && !date_ok("2026-0:-05") && !date_ok("2026-01-/5") && !date_ok("2026-01-0:"));
  CHECK(!date_ok("2026-01-0\xb5") && !date_ok("2026-01-0*"));
  CHECK(al_parse_date("1999-07-08", 10, &d, "from", &err) == 0);
  CHECK(d.year == 1999 && d.month == 7 && d.day == 8);

  CHECK(al_parse_date("2026-02-29", 10, NULL, "from", &err) == -1);
  CHECK(err.kind == AL_ERR_VALIDATION);
  CHECK_STR(err.field, "from");
  CHECK_CONTAINS(err.message, "not a leap year");
  CHECK(al_parse_date("2026-1-5", 8, NULL, "to", &err) == -1);
  CHECK_CONTAINS(err.message, "YYYY-MM-DD");
  CHECK_STR(err.field, "to");
  CHECK(al_parse_date("2026-04-31", 10, NULL, "to", &err) == -1);
  CHECK_CONTAINS(err.message, "has 30 days");

  CHECK(al_days_from_civil(1970, 1, 1) == 0);
  CHECK(al_days_from_civil(2000, 3, 1) == 11017);
  CHECK(al_days_from_civil(1969, 12, 31) == -1);
  { /* the unsigned branch (years from 0) against the signed formula, every day of 0..9999
     * and around the years' wraps */
    int y, m, d, bad = 0;
    for (y = -800; y <= 10000 && !bad; y++)
      for (m = 1; m <= 12; m++)
        for (d = 1; d <= 31; d++) {
          int64_t yy = (int64_t)y - (m <= 2), era = (yy >= 0 ? yy : yy - 399) / 400, yoe = yy - era * 400;
          int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
          int64_t want = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
          if (al_days_from_civil(y, m, d) != want) bad = 1;
        }
    CHECK(!bad);
  }

  { /* al_date_ms: the same verdict and instant as al_parse_date and al_date_epoch_ms */
    static const int years[] = {0, 1, 1900, 1970, 2000, 2024, 2026, 2100, 9999};
    static const char *const shapes[] = {"2026-1-05", "2026/01/05", "2026-01-5x", "202a-01-05", "2026-01-050",
                                         "2026-01-0", " 2026-01-05", "2026-00-00", "2026-13-01", ""};
    char buf[16];
    size_t k;
    int yi, m, d, bad = 0;
    int64_t ms;
    for (yi = 0; yi < (int)(sizeof years / sizeof years[0]); yi++)
      for (m = 0; m <= 13; m++)
        for (d = 0; d <= 32; d++) {
          al_date dd;
          int want;
          snprintf(buf, sizeof buf, "%04d-%02d-%02d", years[yi], m, d);
          want = al_parse_date(buf, 10, &dd, "from", &err);
          ms = -7;
          if (al_date_ms(buf, 10, &ms) != want) bad++;
          if (want == 0 && ms != al_date_epoch_ms(&dd)) bad++;
          if (want != 0 && ms != -7) bad++; /* nothing set */
        }
    for (k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
      if (al_date_ms(shapes[k], strlen(shapes[k]), &ms) != -1) bad++;
    CHECK(bad == 0);
  }

  /* pairs: both or neither, from not after to */
  CHECK(al_check_date_range(NULL, 0, NULL, 0, "from", "to", &err) == 0);
  CHECK(al_check_date_range("2026-11-01", 10, "2026-11-01", 10, "from", "to", &err) == 0);
  CHECK(al_check_date_range("2026-11-01", 10, NULL, 0, "from", "to", &err) == -1);
  CHECK_STR(err.field, "to");
  CHECK_CONTAINS(err.message, "both or neither");
  CHECK(al_check_date_range(NULL, 0, "2026-11-01", 10, "from", "to", &err) == -1);
  CHECK_STR(err.field, "from");
  CHECK(al_check_date_range("2026-11-02", 10, "2026-11-01", 10, "from", "to", &err) == -1);
  CHECK_CONTAINS(err.message, "must not be after");
  CHECK(al_check_date_range("2025-12-31", 10, "2026-01-01", 10, "from", "to", &err) == 0);
  CHECK(al_check_date_range("2026-11-01", 10, "2026-11-31", 10, "from", "to", &err) == -1);
  CHECK_STR(err.field, "to");

  /* datetimes */
  CHECK(dt("1970-01-01T00:00:00Z", &ms) == 0 && ms == 0);
  CHECK(dt("1970-01-01T01:00:00+01:00", &ms) == 0 && ms == 0);
  CHECK(dt("1970-01-01T00:00:00.250Z", &ms) == 0 && ms == 250);
  CHECK(dt("1970-01-01T00:00:00.5Z", &ms) == 0 && ms == 500);
  CHECK(dt("2026-11-27T23:59:59-05:30", &ms) == 0);
  CHECK(dt("2026-11-27T08:00:00", &ms) == -1);   /* no zone */
  CHECK(dt("2026-11-27 08:00:00Z", &ms) == -1);  /* space */
  CHECK(dt("2026-11-27T24:00:00Z", &ms) == -1);
  CHECK(dt("2026-11-27T08:60:00Z", &ms) == -1);
  CHECK(dt("2026-02-29T08:00:00Z", &ms) == -1);
  CHECK(dt("2026-11-27T08:00:00.Z", &ms) == -1);
  CHECK(dt("2026-11-27T08:00:00Zjunk", &ms) == -1);
  CHECK(dt("2026-11-27T08:00:00+0100", &ms) == -1);
  CHECK(dt("2026-11-27", &ms) == -1);

  CHECK(al_check_datetime_range("2026-11-27T08:00:00Z", 20, "2026-11-27T09:00:00Z", 20, "start", "end", &err) == 0);
  CHECK(al_check_datetime_range("2026-11-27T08:00:00Z", 20, "2026-11-27T08:00:00Z", 20, "start", "end", &err) == -1);
  CHECK_STR(err.field, "end");
  CHECK_CONTAINS(err.message, "must be after");
  /* the same instant written in two zones is not "after" */
  CHECK(al_check_datetime_range("2026-11-27T09:00:00+01:00", 25, "2026-11-27T08:00:00Z", 20, "start", "end",
                                &err) == -1);
  CHECK(al_check_datetime_range("2026-11-27T08:00:00Z", 20, NULL, 0, "start", "end", &err) == -1);
  CHECK_STR(err.field, "end");

  return check_done("test_date");
}
