/* Helpers shared by the JSON files of the core; not part of the API in json.h.
 * The scanners' own (json_token.c, json_scan.c, json_string.c) are in
 * json_scan_private.h. */
#ifndef ALEPHANT_CORE_JSON_PRIVATE_H
#define ALEPHANT_CORE_JSON_PRIVATE_H

#include <float.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1-4) of the valid UTF-8 sequence at p, or 0. Rejects overlong forms,
 * UTF-16 surrogates (U+D800-DFFF) and anything above U+10FFFF (RFC 3629 table). */
size_t al_json_utf8_seq(const unsigned char *p, size_t avail);

/* m * 10^e10 (negated when neg) into *out when Clinger's exact fast path applies
 * (m <= 2^53, a power of ten that is exact as a double): 1; else 0 and *out is
 * untouched (al_json_parse_double decides). An exact mantissa times an exact power
 * of ten is one correctly rounded IEEE operation; most JSON numbers end here, so it
 * is inline in the scanners (json_scan_private.h) as in json_number.c. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int al_json_exact_double(uint64_t m, int e10, int neg, double *out) {
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
  static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  double v;
  if (m > ((uint64_t)1 << 53)) return 0;
  if (e10 == 0) v = (double)m;
  else if (e10 > 0 && e10 <= 22) v = (double)m * pow10[e10];
  else if (e10 < 0 && e10 >= -22) v = (double)m / pow10[-e10];
  else if (e10 > 22 && e10 <= 22 + 15) { /* move the surplus into the mantissa if exact */
    int extra = e10 - 22;
    while (extra > 0 && m <= ((uint64_t)1 << 53) / 10) {
      m *= 10;
      extra--;
    }
    if (extra) return 0;
    v = (double)m * 1e22;
  } else {
    return 0;
  }
  *out = neg ? -v : v;
  return 1;
#else
  (void)m, (void)e10, (void)neg, (void)out;
  return 0;
#endif
}

/* Number text -> double beyond al_json_exact_double (json_number.c), with two
 * helpers of their own files. */

/* The table of powers of ten of Eisel-Lemire and the exact path below 2^-1021:
 * 10^e's 128-bit mantissa for AL_JSON_POW10_MIN <= e <= AL_JSON_POW10_MAX (json_pow10.c). */
#define AL_JSON_POW10_MIN (-342)
#define AL_JSON_POW10_MAX 308
extern const uint64_t al_json_pow10_128[AL_JSON_POW10_MAX - AL_JSON_POW10_MIN + 1][2];

/* The exact slow path (json_decimal.c): the value 0.d[0]d[1]...d[nd-1] * 10^dp with
 * at most AL_JSON_DECIMAL_DIGITS digits, trunc set when a non-zero digit was dropped
 * beyond them. 800 digits are more than the 767 that can matter for rounding a double. */
#define AL_JSON_DECIMAL_DIGITS 800
typedef struct {
  unsigned char d[AL_JSON_DECIMAL_DIGITS]; /* digit values 0-9, most significant first */
  int nd, dp, trunc;
} al_json_decimal;

/* Drops trailing zero digits (dp 0 when none is left). */
void al_json_decimal_trim(al_json_decimal *a);

/* The double nearest to a (negated when neg), correctly rounded; a is used up. */
double al_json_decimal_to_double(al_json_decimal *a, int neg);

#endif
