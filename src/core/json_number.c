/* JSON decoding: number text -> double, correctly rounded (see json.h): the text
 * read, then the fast paths; the exact slow path is json_decimal.c.
 *
 * Why not glibc's strtod_l on a C locale (newlocale), as lua-cjson delegates to
 * strtod? Measured on `make bench`'s body (bench/usage_body.json, 30 decimals such as
 * 9.354414), scanner alone, callgrind, instructions per document:
 *   this file for every decimal ...................... 68,800
 *   strtod_l for every decimal ........................ 87,100  (+18,300)
 *   Clinger's exact path first (al_json_exact_double,
 *   in the scanner), then this file or strtod_l ....... 60,700  (either: the body
 *                                                                never gets past it)
 * A whole core.json_decode of that body is ~159,000 instructions (Lua 5.4), so
 * strtod_l as the converter costs 11.5%: beyond the 5% that would have justified
 * dropping this code. Behind the exact path the two tie on such bodies; what is left
 * for the slow path (more than 19 significant digits, exponents beyond 10^22) is
 * where strtod_l would also need a NUL-terminated, length-bounded copy of the token
 * (the scanner's input is (pointer, length), not a C string, and a number may be
 * megabytes long), while Eisel-Lemire below decides in ~50 ns without copying. So
 * the conversion stays here, checked against strtod by fuzz/fuzz_json.c. */
#include <stdint.h>
#include <string.h>

#include "json.h"
#include "json_private.h"

static void mul_64x64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
#if defined(__SIZEOF_INT128__)
  __extension__ typedef unsigned __int128 u128;
  u128 p = (u128)a * b;
  *hi = (uint64_t)(p >> 64);
  *lo = (uint64_t)p;
#else
  uint64_t a0 = a & 0xFFFFFFFFu, a1 = a >> 32, b0 = b & 0xFFFFFFFFu, b1 = b >> 32;
  uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  uint64_t mid = (p00 >> 32) + (p01 & 0xFFFFFFFFu) + (p10 & 0xFFFFFFFFu);
  *lo = (mid << 32) | (p00 & 0xFFFFFFFFu);
  *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

static int leading_zeros64(uint64_t x) {
  int n = 0;
  while (!(x & ((uint64_t)1 << 63))) {
    x <<= 1;
    n++;
  }
  return n;
}

/* Eisel-Lemire (Michael Eisel, Daniel Lemire 2020; as explained by Nigel Tao in
 * "The Eisel-Lemire ParseNumberF64 Algorithm"): m * 10^e10 for m < 2^64 from one
 * or two 64x128-bit products with 10^e10's 128-bit mantissa. It gives up (returns
 * 0) when the truncated product cannot decide the rounding, and for subnormals and
 * overflow; the exact decimal path decides those. */
static int eisel_lemire(uint64_t man, int e10, int neg, double *out) {
  const uint64_t *p;
  uint64_t xhi, xlo, mant, bits, msb;
  int64_t exp2;
  int lz, prod;
  if (man == 0 || e10 < AL_JSON_POW10_MIN || e10 > AL_JSON_POW10_MAX) return 0;
  lz = leading_zeros64(man);
  man <<= lz;
  prod = 217706 * e10; /* floor(e10 * log2(10)) for |e10| <= 348, as a floor division */
  exp2 = (prod >= 0 ? prod / 65536 : -((-prod + 65535) / 65536)) + 64 + 1023 - lz;
  p = al_json_pow10_128[e10 - AL_JSON_POW10_MIN];
  mul_64x64(man, p[0], &xhi, &xlo);
  if ((xhi & 0x1FF) == 0x1FF && xlo + man < man) { /* the low product may carry: add it */
    uint64_t yhi, ylo, mhi = xhi, mlo;
    mul_64x64(man, p[1], &yhi, &ylo);
    mlo = xlo + yhi;
    if (mlo < xlo) mhi++;
    if ((mhi & 0x1FF) == 0x1FF && mlo + 1 == 0 && ylo + man < man) return 0;
    xhi = mhi;
    xlo = mlo;
  }
  msb = xhi >> 63; /* keep 54 bits */
  mant = xhi >> (msb + 9);
  exp2 -= (int64_t)(1 ^ msb);
  if (xlo == 0 && (xhi & 0x1FF) == 0 && (mant & 3) == 1) return 0; /* maybe a tie: undecided */
  mant += mant & 1; /* round to 53 bits */
  mant >>= 1;
  if (mant >> 53) {
    mant >>= 1;
    exp2++;
  }
  if (exp2 <= 0 || exp2 >= 0x7FF) return 0; /* subnormal or overflow */
  bits = ((uint64_t)exp2 << 52) | (mant & (((uint64_t)1 << 52) - 1)) | ((uint64_t)(neg != 0) << 63);
  memcpy(out, &bits, sizeof *out);
  return 1;
}

/* Values below 2^-1021 (subnormals and the smallest normals), where Eisel-Lemire
 * gives up: r = round(m * 10^e10 * 2^1074) is then the double's bit pattern itself
 * (exponent field 0, 1 or 2). The full 192-bit product P of m and the table
 * mantissa is below the exact one by less than 2^64 (the table is rounded down),
 * so the rounding is certain unless P's discarded bits lie within 2^64 below one
 * half; then this gives up too. Returns 1 with *out set, or 0. */
typedef struct {
  uint64_t w[4]; /* least significant first */
} u256;

static int u256_cmp(const u256 *a, const u256 *b) {
  int i;
  for (i = 3; i >= 0; i--)
    if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
  return 0;
}

/* *out = 2^s - sub * 2^64 (sub 0 or 1), s in [65, 255] */
static void u256_pow2_minus(int s, int sub, u256 *out) {
  int i;
  memset(out, 0, sizeof *out);
  out->w[s / 64] = (uint64_t)1 << (s % 64);
  if (sub) { /* borrow from word 1 upwards */
    for (i = 1; i < 4; i++) {
      uint64_t before = out->w[i];
      out->w[i] -= 1;
      if (before != 0) break;
    }
  }
}

static int subnormal_exact(uint64_t man, int e10, int neg, double *out) {
  const uint64_t *p;
  uint64_t h1, l1, h2, l2, r, bits;
  u256 prod, rem, half, low;
  int lz, prod10, fl, sh, i;
  if (man == 0 || e10 > -280) return 0;
  if (e10 < AL_JSON_POW10_MIN) { /* below 1.9e-324, under half the smallest subnormal */
    bits = (uint64_t)(neg != 0) << 63;
    memcpy(out, &bits, sizeof *out);
    return 1;
  }
  lz = leading_zeros64(man);
  man <<= lz;
  p = al_json_pow10_128[e10 - AL_JSON_POW10_MIN];
  mul_64x64(man, p[0], &h1, &l1);
  mul_64x64(man, p[1], &h2, &l2);
  memset(&prod, 0, sizeof prod);
  prod.w[0] = l2;
  prod.w[1] = l1 + h2;
  prod.w[2] = h1 + (prod.w[1] < l1);
  /* value = P * 2^(fl - 127 - lz) with fl = floor(e10 * log2(10)), so r = P >> sh */
  prod10 = 217706 * e10;
  fl = prod10 >= 0 ? prod10 / 65536 : -((-prod10 + 65535) / 65536);
  sh = 127 + lz - fl - 1074;
  if (sh < 128) return 0; /* r >= 2^62: not in this range */
  if (sh >= 255) r = 0, sh = 255; /* P < 2^192 is far below one half */
  else r = sh >= 192 ? 0 : prod.w[2] >> (sh - 128);
  if (r > ((uint64_t)1 << 53)) return 0;
  rem = prod; /* P mod 2^sh */
  for (i = 0; i < 4; i++) {
    int lo_bit = 64 * i;
    if (lo_bit >= sh) rem.w[i] = 0;
    else if (sh - lo_bit < 64) rem.w[i] &= ((uint64_t)1 << (sh - lo_bit)) - 1;
  }
  u256_pow2_minus(sh - 1, 0, &half);
  u256_pow2_minus(sh - 1, 1, &low);
  if (u256_cmp(&rem, &half) > 0) r++; /* exact value above one half */
  else if (u256_cmp(&rem, &low) >= 0) return 0; /* too close to one half */
  bits = r | ((uint64_t)(neg != 0) << 63);
  memcpy(out, &bits, sizeof *out);
  return 1;
}

/* m * 10^e10 correctly rounded when a fast method can decide it; 0 otherwise. */
static int fast_convert(uint64_t m, int e10, int neg, double *out) {
  return eisel_lemire(m, e10, neg, out) || subnormal_exact(m, e10, neg, out);
}

int al_json_parse_double(const char *str, size_t n, double *out) {
  const unsigned char *s = (const unsigned char *)str;
  al_json_decimal a;
  size_t i = 0;
  int neg = 0, sawdot = 0, digits = 0;
  int64_t dp = 0, e = 0;
  a.nd = 0;
  a.trunc = 0;
  if (i < n && s[i] == '-') {
    neg = 1;
    i++;
  }
  for (; i < n; i++) {
    unsigned char c = s[i];
    if (c == '.' && !sawdot) {
      sawdot = 1;
      continue;
    }
    if (c < '0' || c > '9') break;
    digits++;
    if (a.nd == 0 && c == '0') { /* leading zero */
      if (sawdot) dp--;
      continue;
    }
    if (!sawdot) dp++;
    if (a.nd < AL_JSON_DECIMAL_DIGITS) a.d[a.nd++] = (unsigned char)(c - '0');
    else if (c != '0') a.trunc = 1;
  }
  if (digits == 0) return -1;
  if (i < n) {
    int eneg = 0;
    if (s[i] != 'e' && s[i] != 'E') return -1;
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    if (i >= n) return -1;
    for (; i < n; i++) {
      if (s[i] < '0' || s[i] > '9') return -1;
      if (e < 1000000000000000) e = e * 10 + (s[i] - '0'); /* saturate: far beyond any double */
    }
    dp += eneg ? -e : e;
  }
  /* |dp| <= input length + 1e15 here: no overflow; the scale decides early */
  if (dp > 100000) dp = 100000;
  if (dp < -100000) dp = -100000;
  a.dp = (int)dp;
  al_json_decimal_trim(&a);
  if (a.nd > 0) {
    uint64_t m = 0;
    int k, take = a.nd < 19 ? a.nd : 19, e10 = a.dp - take;
    for (k = 0; k < take; k++) m = m * 10 + a.d[k];
    if (take == a.nd && !a.trunc) {
      if (al_json_exact_double(m, e10, neg, out)) return 0;
      if (fast_convert(m, e10, neg, out)) return 0;
    } else {
      /* more digits than fit in m: the value lies in [m, m+1) * 10^e10, and when
       * both ends round to the same double, so does everything between */
      double lo, hi;
      if (fast_convert(m, e10, neg, &lo) && fast_convert(m + 1, e10, neg, &hi) && memcmp(&lo, &hi, sizeof lo) == 0) {
        *out = lo;
        return 0;
      }
    }
  }
  *out = al_json_decimal_to_double(&a, neg);
  return 0;
}
