/* Calendar dates (YYYY-MM-DD) and ISO-8601 datetimes, strictly. */
#ifndef ALEPHANT_CORE_DATE_H
#define ALEPHANT_CORE_DATE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct {
  int year, month, day;
} al_date;

/* Days since 1970-01-01 of a valid date (proleptic Gregorian). */
int64_t al_days_from_civil(int year, int month, int day);
int al_is_leap_year(int year);
int al_days_in_month(int year, int month);

/* Exactly ten characters, YYYY-MM-DD, a real calendar day. */
int al_parse_date(const char *s, size_t n, al_date *out, const char *field, al_error *err);

/* Milliseconds since the epoch of a valid date's midnight UTC. */
int64_t al_date_epoch_ms(const al_date *d);

/* al_parse_date then al_date_epoch_ms for a date that is valid: 0 with *ms set, or -1
 * (nothing set, no error made: al_parse_date says why). */
int al_date_ms(const char *s, size_t n, int64_t *ms);

/* One end of a window, parsed already: s NULL when absent, t its instant (ms since the
 * epoch, from al_date_epoch_ms or al_parse_datetime). */
typedef struct {
  const char *s;
  size_t n;
  int64_t t;
} al_window_end;

/* The window rules on ends parsed once: both or neither; dates: from not after to
 * (AL_WINDOW_DATES), datetimes: end strictly after start (AL_WINDOW_DATETIMES). */
#define AL_WINDOW_DATES 0
#define AL_WINDOW_DATETIMES 1
int al_check_window(const al_window_end *a, const al_window_end *b, int kind, const char *a_field,
                    const char *b_field, al_error *err);

/* A window of two optional dates: both or neither, each a date, from not after to.
 * A NULL string means absent. */
int al_check_date_range(const char *from, size_t from_n, const char *to, size_t to_n,
                        const char *from_field, const char *to_field, al_error *err);

/* YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM). *epoch_ms gets the UTC instant. */
int al_parse_datetime(const char *s, size_t n, int64_t *epoch_ms, const char *field, al_error *err);

/* Both or neither; each a datetime; end strictly after start. */
int al_check_datetime_range(const char *start, size_t start_n, const char *end, size_t end_n,
                            const char *start_field, const char *end_field, al_error *err);

#endif
