/* Helpers shared by the JSON files of the core (json_scan.c, json_number.c,
 * json_emit.c); not part of the API in json.h. */
#ifndef ALEPHANT_CORE_JSON_PRIVATE_H
#define ALEPHANT_CORE_JSON_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

/* Length (1-4) of the valid UTF-8 sequence at p, or 0. Rejects overlong forms,
 * UTF-16 surrogates (U+D800-DFFF) and anything above U+10FFFF (RFC 3629 table). */
size_t al_json_utf8_seq(const unsigned char *p, size_t avail);

/* m * 10^e10 (negated when neg) into *out when Clinger's exact fast path applies
 * (m <= 2^53, a power of ten that is exact as a double): 1; else 0 and *out is
 * untouched (al_json_parse_double decides). */
int al_json_exact_double(uint64_t m, int e10, int neg, double *out);

#endif
