/* The closed vocabularies the API documents, by name. */
#ifndef ALEPHANT_CORE_ENUMS_H
#define ALEPHANT_CORE_ENUMS_H

#include <stddef.h>

#include "error.h"

typedef struct {
  const char *name;          /* e.g. "period" */
  const char *const *values; /* NULL-terminated */
} al_enum;

/* NULL when no enum has that name. */
const al_enum *al_enum_find(const char *name);
/* The i-th enum of the table, NULL past the end (for introspection). */
const al_enum *al_enum_at(size_t i);

int al_check_enum(const al_enum *e, const char *s, size_t n, const char *field, al_error *err);

/* usage/timeseries: granularity "hour" is refused for success_rate and latency
 * (the server answers 400 / 40010). Either may be NULL (absent; day is the default). */
int al_check_granularity(const char *metric, size_t metric_n, const char *granularity, size_t granularity_n,
                         al_error *err);

#endif
