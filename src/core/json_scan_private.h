/* The scanner's private parts, shared by the files that scan JSON text:
 *   json_token.c   al_json_next (token by token), the scanner's state and messages
 *   json_scan.c    al_json_scan (a batch at a time), its key slots
 *   json_string.c  strings with escapes or non-ASCII bytes, al_json_unescape
 * Not part of the API in json.h.
 *
 * Why a header of static inline functions: the per-byte and per-token helpers
 * (whitespace, plain string bytes, numbers) are always_inline into both scanners'
 * loops, where they keep the input and the position in registers; a call per string
 * or number would cost the decoder (core.json_decode, src/lua/json.c) instructions
 * on every token. The tables they read (byte_class, pow10_8) are static as well: each
 * file that scans has its own copy (about 330 bytes), addressed as in one file. What
 * is rare (errors, literals, strings with escapes) is out of line in one file and
 * called from the others. */
#ifndef ALEPHANT_CORE_JSON_SCAN_PRIVATE_H
#define ALEPHANT_CORE_JSON_SCAN_PRIVATE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "json.h"
#include "json_private.h"

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

/* For the small functions of the per-token path that GCC would keep out of line. */
#if defined(__GNUC__)
#define HOT inline __attribute__((always_inline))
#else
#define HOT inline
#endif

/* What the grammar expects next (al_json_scanner.state). */
enum { ST_VALUE, ST_VALUE_OR_END, ST_KEY_OR_END, ST_COLON, ST_COMMA_OR_END, ST_DONE, ST_ERROR };

/* ------------------------------------------------- out of line (rare) ---- */

/* The error at off: sc->err from fmt, sc->err_offset, and the state sticks at
 * ST_ERROR. json_token.c. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void al_json_error(al_json_scanner *sc, size_t off, const char *fmt, ...);

/* The error "expected X, found Y" at off. json_token.c. */
void al_json_error_expected(al_json_scanner *sc, size_t off, const char *what);

/* The two as the scanners use them, AL_JSON_ERROR where they are called: so the
 * compiler knows the value, as clang did while they were static in the scanners' one
 * file. Without it, clang 14 keeps the result in a register through al_json_scan's
 * loop: 521 instructions more per core.json_decode of bench/usage_body.json (gcc 12
 * saves 102 with it). */
#define al_json_fail(sc, off, ...) (al_json_error((sc), (off), __VA_ARGS__), AL_JSON_ERROR)
static inline al_json_type al_json_expected(al_json_scanner *sc, size_t off, const char *what) {
  al_json_error_expected(sc, off, what);
  return AL_JSON_ERROR;
}

/* The value at sc->pos (whitespace already skipped) into *tok; what: the message's
 * "expected" part when none stands there. al_json_scan's way to literals and to the
 * messages for what is no value. json_token.c. */
al_json_type al_json_value(al_json_scanner *sc, al_json_token *tok, const char *what);

/* A string with an escape or a non-ASCII byte (its '"' at sc->pos), from i, its
 * first such byte (or the end of input, or an invalid byte): validated into *tok,
 * sc->pos after its closing '"'. json_string.c. */
al_json_type al_json_string_rest(al_json_scanner *sc, al_json_token *tok, size_t i);

/* ------------------------------------------------------ inline (hot) ---- */

/* Byte classes: PLAIN bytes stand for themselves in a string (printable ASCII but
 * '"' and '\\'), WS is JSON whitespace. One load per byte in the hot loops. */
enum { PLAIN = 1, WS = 2 };
static const unsigned char byte_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    3, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Word-at-a-time: the 0x80 bit of each byte of the result is set for a byte of w
 * that is not PLAIN ('"', '\\', below 0x20 or above 0x7F), and for no byte before
 * the first such one (a borrow only runs towards the higher bytes). */
#define ONES UINT64_C(0x0101010101010101)
#define HIGH UINT64_C(0x8080808080808080)
static HOT uint64_t not_plain(uint64_t w) {
  uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');
  return ((q - ONES) & ~q) | ((b - ONES) & ~b) | ((w - ONES * 0x20) & ~w) | w;
}

/* The first byte at or after i that is not PLAIN, or n. */
static HOT size_t skip_plain(const unsigned char *s, size_t i, size_t n) {
#if defined(__SSE2__) && defined(__GNUC__)
  /* 16 bytes at a time where the input has them: '"', '\\', and below 0x20 or
   * above 0x7F at once (a signed compare with 0x20). Vector registers: the words'
   * five constants would cost the callers saved registers. */
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
  while (n - i >= 16) {
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                             _mm_cmplt_epi8(v, space));
    unsigned bits = (unsigned)_mm_movemask_epi8(m);
    if (bits) return i + (unsigned)__builtin_ctz(bits);
    i += 16;
  }
#endif
  while (n - i >= 8) {
    uint64_t w, m;
    memcpy(&w, s + i, 8);
    m = not_plain(w) & HIGH;
    if (m) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      return i + ((unsigned)__builtin_ctzll(m) >> 3);
#else
      break; /* the byte loop finds it within 8 bytes */
#endif
    }
    i += 8;
  }
  while (i < n && (byte_class[s[i]] & PLAIN)) i++;
  return i;
}

static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define DIGITS8 1
static const uint64_t pow10_8[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

/* The value of the k digits (1-8) at the start of d, 8 bytes of input less '0' each
 * (d's first k bytes are 0-9): 8 digits at a time, without a loop. */
static HOT uint64_t digits_value(uint64_t d, unsigned k) {
  d <<= 8 * (8 - k); /* the k digits to the top, zeros before them: every byte 0-9 (no
                      * borrow reached the digits), so pairs need no mask first */
  d = (d * 2561) >> 8;
  d = ((d & UINT64_C(0x00FF00FF00FF00FF)) * 6553601) >> 16;
  return ((d & UINT64_C(0x0000FFFF0000FFFF)) * UINT64_C(42949672960001)) >> 32;
}

/* The 0x80 bit of each byte of the result is set for a byte of the 8 at p (all
 * readable) that is not an ASCII digit, and for none before the first such byte;
 * *d: those bytes less '0' each. */
static HOT uint64_t non_digits(const unsigned char *p, uint64_t *d) {
  uint64_t w;
  memcpy(&w, p, 8);
  *d = w - ONES * '0'; /* a byte below '0' borrows from the later bytes only */
  return (*d | (*d + ONES * 0x76)) & HIGH;
}

/* The number of ASCII digits that start the 8 bytes at p (all readable), and
 * their value in *v. */
static HOT unsigned digits8(const unsigned char *p, uint64_t *v) {
  uint64_t d, bad = non_digits(p, &d);
  unsigned k = bad ? (unsigned)__builtin_ctzll(bad) >> 3 : 8;
  *v = k ? digits_value(d, k) : 0;
  return k;
}
#endif

/* One pass: the grammar, and the first 19 significant digits as an integer mantissa,
 * so that integers and short decimals need no second look at the text. The number
 * at start of s (n bytes, sc's input; sc only for an error): its end into *end and
 * its value into *iv (INTEGER) or *dv (DOUBLE), nothing else written. Inline in
 * scan_number and al_json_scan, which keep the input in registers. z: s[n] is a
 * NUL byte, which ends a number as any byte outside it does (al_json_scan). */
#define MORE(i) (z || (i) < n) /* s[i] may be looked at */
static HOT al_json_type number_at(al_json_scanner *sc, const unsigned char *s, size_t n, size_t start, size_t *end,
                                  int64_t *iv, double *dv, int z) {
  size_t i = start, sig = 0;
  int neg = 0, integral = 1, nfrac = 0;
  uint64_t m = 0; /* the digits read, while there are at most 19 */
  long ex = 0;
#ifdef DIGITS8
  { /* the usual number first, with few registers: 1-7 digits (no leading zero: "0"
     * alone), maybe a '.' and 1-7 more, no exponent; anything else goes the whole way below */
    size_t j = start + (s[start] == '-'), f;
    uint64_t m, d, d2, bad;
    unsigned k, k2;
    if (n - j >= 8) {
      bad = non_digits(s + j, &d);
      /* 1-7 digits (a first byte not a digit, or 8 digits: the whole way), a '0' only
       * alone (a digit after it: the whole way, which says why) */
      if (bad && !(bad & 0x80) && (s[j] != '0' || (bad & 0x8000))) {
        k = (unsigned)__builtin_ctzll(bad) >> 3;
        f = j + k; /* s[f] ends the digits */
        if (s[f] != '.' && (s[f] | 0x20) != 'e') {
          m = digits_value(d, k);
          *iv = s[start] == '-' ? -(int64_t)m : (int64_t)m;
          *end = f;
          return AL_JSON_INTEGER;
        }
        if (s[f] == '.' && n - (f + 1) >= 8) {
          bad = non_digits(s + f + 1, &d2);
          if (bad && !(bad & 0x80)) {
            k2 = (unsigned)__builtin_ctzll(bad) >> 3;
            f += 1 + k2;
            if ((s[f] | 0x20) != 'e') {
              if (k + k2 <= 8) /* the digits of both parts in one word: one conversion */
                m = digits_value((d & ((UINT64_C(1) << 8 * k) - 1)) | d2 << 8 * k, k + k2);
              else
                m = digits_value(d, k) * pow10_8[k2] + digits_value(d2, k2);
              if (al_json_exact_double(m, -(int)k2, s[start] == '-', dv)) { /* below 10^14 */
                *end = f;
                return AL_JSON_DOUBLE;
              }
            }
          }
        }
      }
    }
  }
#endif
  if (s[i] == '-') {
    neg = 1;
    i++;
  }
  if (MORE(i) && s[i] == '0') {
    i++;
    if (MORE(i) && is_digit(s[i])) return al_json_fail(sc, start, "leading zeros are not allowed in numbers");
  } else if (MORE(i) && is_digit(s[i])) {
#ifdef DIGITS8
    while (n - i >= 8 && sig <= 19 - 8) { /* m * 10^8 + v stays below 10^19 */
      uint64_t v;
      unsigned k = digits8(s + i, &v);
      m = m * pow10_8[k] + v;
      i += k;
      sig += k;
      if (k < 8) goto int_done; /* s[i] is not a digit */
    }
#endif
    for (; MORE(i) && is_digit(s[i]); i++, sig++)
      if (sig < 19) m = m * 10 + (unsigned)(s[i] - '0');
#ifdef DIGITS8
  int_done:;
#endif
  } else {
    return al_json_expected(sc, i, "a digit after '-'");
  }
  if (MORE(i) && s[i] == '.') {
    i++;
    if (!MORE(i) || !is_digit(s[i])) return al_json_expected(sc, i, "a digit after the decimal point");
#ifdef DIGITS8
    while (n - i >= 8 && sig <= 19 - 8) {
      uint64_t v;
      unsigned k = digits8(s + i, &v);
      m = m * pow10_8[k] + v;
      i += k;
      sig += k;
      nfrac += (int)k;
      if (k < 8) goto frac_done;
    }
#endif
    for (; MORE(i) && is_digit(s[i]); i++, sig++) {
      if (sig < 19) {
        m = m * 10 + (unsigned)(s[i] - '0');
        nfrac++;
      }
    }
#ifdef DIGITS8
  frac_done:
#endif
    integral = 0;
  }
  if (MORE(i) && (s[i] == 'e' || s[i] == 'E')) {
    int eneg = 0;
    i++;
    if (MORE(i) && (s[i] == '+' || s[i] == '-')) eneg = s[i++] == '-';
    if (!MORE(i) || !is_digit(s[i])) return al_json_expected(sc, i, "a digit in the exponent");
    for (; MORE(i) && is_digit(s[i]); i++)
      if (ex < 100000000L) ex = ex * 10 + (s[i] - '0'); /* saturates far beyond any double */
    if (eneg) ex = -ex;
    integral = 0;
  }
  *end = i;
  if (sig <= 19) { /* m holds every digit */
    if (integral) { /* int64 when it fits, magnitude up to 2^63 for negatives */
      uint64_t lim = neg ? (uint64_t)1 << 63 : ((uint64_t)1 << 63) - 1;
      if (m <= lim) {
        *iv = neg ? (int64_t)(0 - m) : (int64_t)m; /* 0 - m: no signed overflow for 2^63 */
        return AL_JSON_INTEGER;
      }
    } else if (ex > -1000 && ex < 1000 && al_json_exact_double(m, (int)ex - nfrac, neg, dv)) {
      return AL_JSON_DOUBLE;
    }
  }
  {
    double d;
    al_json_parse_double((const char *)s + start, i - start, &d);
    *dv = d;
  }
  return AL_JSON_DOUBLE;
}
#undef MORE

static HOT size_t skip_ws(const unsigned char *s, size_t pos, size_t n) {
  while (pos < n && (byte_class[s[pos]] & WS)) pos++;
  return pos;
}

/* skip_ws where s[n] is a NUL byte (not whitespace): no bound to check. */
static HOT size_t skip_ws_z(const unsigned char *s, size_t pos) {
  while (byte_class[s[pos]] & WS) pos++;
  return pos;
}

/* skip_ws, but for c at pos first: the separators of compact JSON are found with
 * one compare (the caller's compare after this one folds into it). */
static HOT size_t skip_ws_to(const unsigned char *s, size_t pos, size_t n, unsigned char c) {
  if (pos < n && s[pos] == c) return pos;
  return skip_ws(s, pos, n);
}

#endif
