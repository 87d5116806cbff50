/* Decimal -> double the slow, exact way (json.h: only when the fast paths of
 * json_number.c cannot decide, an input within ~1e-19 of a rounding tie): decimal
 * arithmetic after Go's strconv/decimal.go, the classic slow path. The value is
 * 0.d[0]d[1]...d[nd-1] * 10^dp (al_json_decimal, json_private.h); shifting by powers
 * of two is exact up to AL_JSON_DECIMAL_DIGITS digits, `trunc` remembers non-zero
 * digits dropped beyond them. */
#include <stdint.h>
#include <string.h>

#include "json_private.h"

#define MAX_SHIFT 60 /* n*10 + 9 must fit in uint64 with n < 2^k */

void al_json_decimal_trim(al_json_decimal *a) {
  while (a->nd > 0 && a->d[a->nd - 1] == 0) a->nd--;
  if (a->nd == 0) a->dp = 0;
}

/* a /= 2^k */
static void dec_rshift(al_json_decimal *a, unsigned k) {
  int r = 0, w = 0;
  uint64_t n = 0, mask = ((uint64_t)1 << k) - 1;
  for (; (n >> k) == 0; r++) {
    if (r >= a->nd) {
      if (n == 0) {
        a->nd = 0;
        return;
      }
      while ((n >> k) == 0) {
        n *= 10;
        r++;
      }
      break;
    }
    n = n * 10 + a->d[r];
  }
  a->dp -= r - 1;
  for (; r < a->nd; r++) {
    uint64_t dig = n >> k;
    n &= mask;
    a->d[w++] = (unsigned char)dig;
    n = n * 10 + a->d[r];
  }
  while (n > 0) {
    uint64_t dig = n >> k;
    n &= mask;
    if (w < AL_JSON_DECIMAL_DIGITS) a->d[w++] = (unsigned char)dig;
    else if (dig > 0) a->trunc = 1;
    n *= 10;
  }
  a->nd = w;
  al_json_decimal_trim(a);
}

/* a *= 2^k. Digits come out least significant first, so they go to tmp and back. */
static void dec_lshift(al_json_decimal *a, unsigned k) {
  unsigned char tmp[AL_JSON_DECIMAL_DIGITS + 24]; /* 2^60 adds at most 19 digits */
  int r, w = 0, i, keep;
  uint64_t n = 0;
  for (r = a->nd - 1; r >= 0; r--) {
    n += (uint64_t)a->d[r] << k;
    tmp[w++] = (unsigned char)(n % 10);
    n /= 10;
  }
  while (n > 0) {
    tmp[w++] = (unsigned char)(n % 10);
    n /= 10;
  }
  a->dp += w - a->nd;
  keep = w < AL_JSON_DECIMAL_DIGITS ? w : AL_JSON_DECIMAL_DIGITS;
  for (i = 0; i < keep; i++) a->d[i] = tmp[w - 1 - i];
  for (; i < w; i++)
    if (tmp[w - 1 - i]) a->trunc = 1;
  a->nd = keep;
  al_json_decimal_trim(a);
}

static void dec_shift(al_json_decimal *a, int k) {
  if (a->nd == 0) return;
  for (; k > MAX_SHIFT; k -= MAX_SHIFT) dec_lshift(a, MAX_SHIFT);
  for (; k < -MAX_SHIFT; k += MAX_SHIFT) dec_rshift(a, MAX_SHIFT);
  if (k > 0) dec_lshift(a, (unsigned)k);
  else if (k < 0) dec_rshift(a, (unsigned)-k);
}

/* Round half to even at digit nd; a dropped non-zero tail breaks the tie upwards. */
static int dec_round_up(const al_json_decimal *a, int nd) {
  if (nd < 0 || nd >= a->nd) return 0;
  if (a->d[nd] == 5 && nd + 1 == a->nd) {
    if (a->trunc) return 1;
    return nd > 0 && a->d[nd - 1] % 2 == 1;
  }
  return a->d[nd] >= 5;
}

static uint64_t dec_rounded_integer(const al_json_decimal *a) {
  uint64_t n = 0;
  int i;
  if (a->dp > 20) return UINT64_MAX;
  for (i = 0; i < a->dp && i < a->nd; i++) n = n * 10 + a->d[i];
  for (; i < a->dp; i++) n *= 10;
  if (dec_round_up(a, a->dp)) n++;
  return n;
}

/* The double nearest to a (binary64: 52 mantissa bits, 11 exponent bits, bias -1023). */
double al_json_decimal_to_double(al_json_decimal *a, int neg) {
  static const int powtab[] = {1, 3, 6, 9, 13, 16, 19, 23, 26};
  const int bias = -1023;
  int exp = 0;
  uint64_t mant = 0, bits;
  double out;
  if (a->nd == 0) {
    exp = bias;
    goto done;
  }
  if (a->dp > 310) goto overflow;
  if (a->dp < -330) {
    exp = bias;
    goto done;
  }
  /* scale into [0.5, 1) */
  while (a->dp > 0) { /* big steps while far away: 2^60 < 10^19 never overshoots */
    int n = a->dp >= 19 ? MAX_SHIFT : a->dp >= 9 ? 27 : powtab[a->dp];
    dec_shift(a, -n);
    exp += n;
  }
  while (a->dp < 0 || (a->dp == 0 && a->d[0] < 5)) {
    int n = -a->dp >= 19 ? MAX_SHIFT : -a->dp >= 9 ? 27 : powtab[-a->dp];
    dec_shift(a, n);
    exp -= n;
  }
  exp--; /* [0.5, 1) -> [1, 2) */
  if (exp < bias + 1) { /* subnormal: fix the exponent, lose mantissa bits */
    int n = bias + 1 - exp;
    dec_shift(a, -n);
    exp += n;
  }
  if (exp - bias >= 0x7FF) goto overflow;
  dec_shift(a, 53);
  mant = dec_rounded_integer(a);
  if (mant == (uint64_t)2 << 52) { /* rounding carried into a new bit */
    mant >>= 1;
    exp++;
    if (exp - bias >= 0x7FF) goto overflow;
  }
  if ((mant & ((uint64_t)1 << 52)) == 0) exp = bias; /* subnormal */
  goto done;
overflow:
  mant = 0;
  exp = 0x7FF + bias;
done:
  bits = mant & (((uint64_t)1 << 52) - 1);
  bits |= (uint64_t)((exp - bias) & 0x7FF) << 52;
  if (neg) bits |= (uint64_t)1 << 63;
  memcpy(&out, &bits, sizeof out);
  return out;
}
