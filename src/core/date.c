#include "date.h"

#include <stdio.h>

#include "url.h"

int al_is_leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int al_days_in_month(int y, int m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return 0;
  return m == 2 && al_is_leap_year(y) ? 29 : days[m - 1];
}

/* Howard Hinnant's days_from_civil. */
static int64_t days_signed(int y, int m, int d) {
  int64_t yy = (int64_t)y - (m <= 2);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* Every date a call passes (years 0..9999) takes the first branch: the same count 400
 * years (one era, 146097 days) later, where every quotient is of unsigned numbers (a
 * division by a constant costs fewer instructions than a signed one). */
static int64_t days_unsigned(unsigned y, unsigned m, int d) { /* y >= 0, 1 <= m <= 12 */
  unsigned uy = y + 400u - (m <= 2), era = uy / 400u, yoe = uy - era * 400u;
  int64_t doy = (int64_t)((153u * (m > 2 ? m - 3 : m + 9) + 2u) / 5u) + d - 1;
  return (int64_t)era * 146097 + (int64_t)(yoe * 365u + yoe / 4u - yoe / 100u) + doy - 719468 - 146097;
}

int64_t al_days_from_civil(int y, int m, int d) {
  if (y < 0 || m < 1 || m > 12) return days_signed(y, m, d);
  return days_unsigned((unsigned)y, (unsigned)m, d);
}

static int digits(const char *s, size_t count, int *out) {
  size_t i;
  int v = 0;
  for (i = 0; i < count; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

/* s[i] as a digit's value, > 9 for any other byte (unsigned: below '0' wraps high) */
#define DIGIT(s, i) ((unsigned)(unsigned char)(s)[i] - (unsigned)'0')

/* The first ten bytes as a calendar day, read straight (eight digits without a loop per
 * field: each date of a call is read here): 0, or what is wrong, SHAPE_BAD (not
 * YYYY-MM-DD), MONTH_BAD or DAY_BAD (y, m, d set). The one rule for al_date_ms and
 * parse_day, which says why. */
enum { DAY_OK, SHAPE_BAD, MONTH_BAD, DAY_BAD };
static int read_day(const char *s, size_t n, unsigned *y, unsigned *m, unsigned *d) {
  if (n < 10 || s[4] != '-' || s[7] != '-' || DIGIT(s, 0) > 9 || DIGIT(s, 1) > 9 || DIGIT(s, 2) > 9 ||
      DIGIT(s, 3) > 9 || DIGIT(s, 5) > 9 || DIGIT(s, 6) > 9 || DIGIT(s, 8) > 9 || DIGIT(s, 9) > 9)
    return SHAPE_BAD;
  *y = DIGIT(s, 0) * 1000 + DIGIT(s, 1) * 100 + DIGIT(s, 2) * 10 + DIGIT(s, 3);
  *m = DIGIT(s, 5) * 10 + DIGIT(s, 6);
  *d = DIGIT(s, 8) * 10 + DIGIT(s, 9);
  if (*m < 1 || *m > 12) return MONTH_BAD;
  if (*d < 1 || *d > (unsigned)al_days_in_month((int)*y, (int)*m)) return DAY_BAD;
  return DAY_OK;
}

/* Shared by dates and datetimes: the first ten bytes as a calendar day, or the error
 * that says what is wrong with them. */
static int parse_day(const char *s, size_t n, al_date *out, const char *field, const char *shape, al_error *err) {
  char q[AL_QUOTE_CAP];
  unsigned y = 0, m = 0, d = 0;
  switch (read_day(s, n, &y, &m, &d)) {
    case SHAPE_BAD:
      return al_fail(err, AL_ERR_VALIDATION, field, "%s must be %s, got \"%s\"", field, shape, al_quote(s, n, q));
    case MONTH_BAD:
      return al_fail(err, AL_ERR_VALIDATION, field, "%s: month %02u does not exist in \"%.10s\"", field, m, s);
    case DAY_BAD:
      if (m == 2 && d == 29)
        return al_fail(err, AL_ERR_VALIDATION, field, "%s: %.10s does not exist (%04u is not a leap year)", field, s,
                       y);
      return al_fail(err, AL_ERR_VALIDATION, field, "%s: %.10s does not exist (month %02u has %d days)", field, s, m,
                     al_days_in_month((int)y, (int)m));
    default: break;
  }
  if (out) {
    out->year = (int)y;
    out->month = (int)m;
    out->day = (int)d;
  }
  return 0;
}

int al_parse_date(const char *s, size_t n, al_date *out, const char *field, al_error *err) {
  static const char *shape = "a calendar date in the form YYYY-MM-DD (for example 2026-11-01)";
  char q[AL_QUOTE_CAP];
  if (n != 10) {
    return al_fail(err, AL_ERR_VALIDATION, field, "%s must be %s, got \"%s\"", field, shape, al_quote(s, n, q));
  }
  return parse_day(s, n, out, field, shape, err);
}

static int check_pair(int has_a, int has_b, const char *a, const char *b, al_error *err) {
  if (has_a && !has_b)
    return al_fail(err, AL_ERR_VALIDATION, b, "%s is required when %s is given: pass both or neither", b, a);
  if (has_b && !has_a)
    return al_fail(err, AL_ERR_VALIDATION, a, "%s is required when %s is given: pass both or neither", a, b);
  return 0;
}

int al_date_ms(const char *s, size_t n, int64_t *ms) {
  unsigned y, m, d;
  if (n != 10 || read_day(s, n, &y, &m, &d) != DAY_OK) return -1;
  *ms = days_unsigned(y, m, (int)d) * 86400000;
  return 0;
}

int64_t al_date_epoch_ms(const al_date *d) { return al_days_from_civil(d->year, d->month, d->day) * 86400000; }

int al_check_window(const al_window_end *a, const al_window_end *b, int kind, const char *a_field,
                    const char *b_field, al_error *err) {
  if (check_pair(a->s != NULL, b->s != NULL, a_field, b_field, err)) return -1;
  if (a->s == NULL) return 0;
  if (kind == AL_WINDOW_DATES && a->t > b->t)
    return al_fail(err, AL_ERR_VALIDATION, a_field, "%s (%.10s) must not be after %s (%.10s)", a_field, a->s,
                   b_field, b->s);
  if (kind == AL_WINDOW_DATETIMES && b->t <= a->t)
    return al_fail(err, AL_ERR_VALIDATION, b_field, "%s (%.*s) must be after %s (%.*s)", b_field,
                   (int)(b->n > 40 ? 40 : b->n), b->s, a_field, (int)(a->n > 40 ? 40 : a->n), a->s);
  return 0;
}

int al_check_date_range(const char *from, size_t from_n, const char *to, size_t to_n, const char *from_field,
                        const char *to_field, al_error *err) {
  al_window_end a = {from, from_n, 0}, b = {to, to_n, 0};
  al_date d;
  if (check_pair(from != NULL, to != NULL, from_field, to_field, err)) return -1;
  if (from == NULL) return 0;
  if (al_parse_date(from, from_n, &d, from_field, err)) return -1;
  a.t = al_date_epoch_ms(&d);
  if (al_parse_date(to, to_n, &d, to_field, err)) return -1;
  b.t = al_date_epoch_ms(&d);
  return al_check_window(&a, &b, AL_WINDOW_DATES, from_field, to_field, err);
}

int al_parse_datetime(const char *s, size_t n, int64_t *epoch_ms, const char *field, al_error *err) {
  static const char *shape = "an ISO-8601 datetime such as 2026-11-27T08:00:00Z or 2026-11-27T08:00:00+01:00";
  char q[AL_QUOTE_CAP];
  al_date d;
  int hh, mm, ss, ms = 0, offset_min = 0;
  size_t i = 19;
  if (parse_day(s, n, &d, field, shape, err)) return -1;
  if (n < 20 || s[10] != 'T' || digits(s + 11, 2, &hh) || s[13] != ':' || digits(s + 14, 2, &mm) || s[16] != ':' ||
      digits(s + 17, 2, &ss))
    goto bad;
  if (hh > 23 || mm > 59 || ss > 59)
    return al_fail(err, AL_ERR_VALIDATION, field, "%s: time %.8s is out of range", field, s + 11);
  if (s[i] == '.') {
    size_t start = ++i, scale = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
      if (scale < 3) { ms = ms * 10 + (s[i] - '0'); scale++; }
      i++;
    }
    if (i == start || i - start > 9) goto bad;
    while (scale++ < 3) ms *= 10;
  }
  if (i < n && s[i] == 'Z') {
    i++;
  } else if (i < n && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (n - i != 6 || digits(s + i + 1, 2, &oh) || s[i + 3] != ':' || digits(s + i + 4, 2, &om) || oh > 23 ||
        om > 59)
      goto bad;
    offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    goto bad;
  }
  if (i != n) goto bad;
  if (epoch_ms) {
    int64_t secs = al_days_from_civil(d.year, d.month, d.day) * 86400 + hh * 3600 + mm * 60 + ss -
                   (int64_t)offset_min * 60;
    *epoch_ms = secs * 1000 + ms;
  }
  return 0;
bad:
  return al_fail(err, AL_ERR_VALIDATION, field, "%s must be %s, got \"%s\"", field, shape, al_quote(s, n, q));
}

int al_check_datetime_range(const char *start, size_t start_n, const char *end, size_t end_n,
                            const char *start_field, const char *end_field, al_error *err) {
  al_window_end a = {start, start_n, 0}, b = {end, end_n, 0};
  if (check_pair(start != NULL, end != NULL, start_field, end_field, err)) return -1;
  if (start == NULL) return 0;
  if (al_parse_datetime(start, start_n, &a.t, start_field, err) || al_parse_datetime(end, end_n, &b.t, end_field, err))
    return -1;
  return al_check_window(&a, &b, AL_WINDOW_DATETIMES, start_field, end_field, err);
}
