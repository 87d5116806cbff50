/* URLs from a base URL, a catalog entry and checked parameter values. */
#ifndef ALEPHANT_CORE_URL_H
#define ALEPHANT_CORE_URL_H

#include <stddef.h>

#include "catalog.h"

/* RFC 3986 percent-encoding: everything but ALPHA / DIGIT / "-" / "." / "_" / "~" is
 * encoded, so "/", "?", "#", "%" and spaces in a value can never change the route.
 * Writes at most cap bytes (no NUL) and returns the length the full encoding needs. */
size_t al_percent_encode(const char *s, size_t n, char *out, size_t cap);

/* base (trailing slashes ignored) + the path with its {placeholders} filled in +
 * "?" + the query parameters that are present, in catalog order. snprintf-style:
 * writes at most cap bytes including a NUL and returns the length the URL needs
 * (excluding the NUL), so a caller can measure with cap = 0 first. values[i] belongs to
 * e->params[i] and must have passed al_endpoint_validate. */
size_t al_build_url(char *out, size_t cap, const char *base, size_t base_n, const al_endpoint *e,
                    const al_value *values);

#endif
