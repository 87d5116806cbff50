/* JSON decoding, part one: the pull scanner (grammar, strings, UTF-8, escapes).
 * Numbers are matched here and converted by json_number.c. See json.h. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "json_private.h"

#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

/* For the few small functions of the per-token path that GCC would keep out of line. */
#if defined(__GNUC__)
#define HOT inline __attribute__((always_inline))
#else
#define HOT inline
#endif

/* ---------------------------------------------------------------- UTF-8 ---- */

size_t al_json_utf8_seq(const unsigned char *p, size_t avail) {
  unsigned char c = p[0], lo = 0x80, hi = 0xBF;
  size_t k, i;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) k = 2;
  else if (c >= 0xE0 && c <= 0xEF) {
    k = 3;
    if (c == 0xE0) lo = 0xA0;      /* overlong */
    else if (c == 0xED) hi = 0x9F; /* surrogates */
  } else if (c >= 0xF0 && c <= 0xF4) {
    k = 4;
    if (c == 0xF0) lo = 0x90;      /* overlong */
    else if (c == 0xF4) hi = 0x8F; /* above U+10FFFF */
  } else {
    return 0; /* continuation byte, C0/C1 (always overlong) or F5-FF */
  }
  if (avail < k) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (i = 2; i < k; i++)
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  return k;
}

static size_t utf8_len(unsigned long cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

static size_t utf8_put(unsigned long cp, char *out) {
  unsigned char *o = (unsigned char *)out;
  if (cp < 0x80) {
    o[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (unsigned char)(0xC0 | (cp >> 6));
    o[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (unsigned char)(0xE0 | (cp >> 12));
    o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (unsigned char)(0xF0 | (cp >> 18));
  o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

static int hexval(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* The 4 hex digits at p as a code unit, or -1. */
static long hex4(const unsigned char *p, size_t avail) {
  long v = 0;
  size_t i;
  if (avail < 4) return -1;
  for (i = 0; i < 4; i++) {
    int h = hexval(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

/* ----------------------------------------------------------------- scanner ---- */

enum { ST_VALUE, ST_VALUE_OR_END, ST_KEY_OR_END, ST_COLON, ST_COMMA_OR_END, ST_DONE, ST_ERROR };

/* Not a memset of the whole (~1.8 KB): objects[] is written before it is read, err
 * on a failure; a key slot is empty while its len is 0, and only slot 0 can be
 * guessed empty (key_next holds 0 or slots that took a key), so only its pattern
 * must match nothing. */
void al_json_scanner_init(al_json_scanner *sc, const char *s, size_t n) {
  unsigned h;
  sc->s = s;
  sc->n = n;
  sc->pos = 0;
  sc->depth = 0;
  sc->state = ST_VALUE;
  sc->err_offset = 0;
  sc->err[0] = '\0';
  for (h = 0; h < AL_JSON_KEY_SLOTS; h++) sc->keys[h].len = 0;
  memset(sc->keys[0].q, 0, sizeof sc->keys[0].q);
  memset(sc->keys[0].nm, 0, sizeof sc->keys[0].nm);
  memset(sc->key_next, 0, sizeof sc->key_next);
  sc->key_last = 0;
}

int al_json_container(const al_json_scanner *sc) {
  unsigned d;
  if (sc->depth == 0) return 0;
  d = sc->depth - 1;
  return sc->objects[d] ? AL_JSON_OBJECT : AL_JSON_ARRAY;
}

/* What stands at off, for messages: a short word (at most 16 bytes, ASCII only),
 * one character, a byte in hex, or "end of input". Never more of the input. */
static void describe(const al_json_scanner *sc, size_t off, char *buf, size_t cap) {
  const unsigned char *s = (const unsigned char *)sc->s;
  size_t k = 0;
  if (off >= sc->n) {
    snprintf(buf, cap, "end of input");
    return;
  }
  if (s[off] < 0x21 || s[off] > 0x7E) {
    snprintf(buf, cap, "byte 0x%02X", s[off]);
    return;
  }
#define WORDCH(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || ((c) >= '0' && (c) <= '9') || \
                   (c) == '_' || (c) == '+' || (c) == '-' || (c) == '.')
  if (WORDCH(s[off])) {
    while (off + k < sc->n && k < 16 && WORDCH(s[off + k])) k++;
  } else {
    k = 1;
  }
#undef WORDCH
  snprintf(buf, cap, "'%.*s'%s", (int)k, (const char *)s + off,
           off + k < sc->n && k == 16 ? "..." : "");
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static al_json_type fail(al_json_scanner *sc, size_t off, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sc->err, sizeof sc->err, fmt, ap);
  va_end(ap);
  sc->err_offset = off;
  sc->state = ST_ERROR;
  return AL_JSON_ERROR;
}

/* "expected X, found Y" at off */
static al_json_type expected(al_json_scanner *sc, size_t off, const char *what) {
  char found[40];
  describe(sc, off, found, sizeof found);
  return fail(sc, off, "expected %s, found %s", what, found);
}

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

/* A string with an escape or a non-ASCII byte, from i, its first such byte (or the
 * end of input, or an invalid byte). */
static al_json_type scan_string_rest(al_json_scanner *sc, al_json_token *tok, size_t i) {
  const unsigned char *s = (const unsigned char *)sc->s;
  size_t n = sc->n, open = sc->pos, saved = 0;
  int esc = 0;
  for (;;) {
    unsigned char c;
    i = skip_plain(s, i, n);
    if (i >= n) return fail(sc, open, "unterminated string (found end of input)");
    c = s[i];
    if (c == '"') break;
    if (c == '\\') {
      unsigned char e;
      long u, lo;
      esc = 1;
      if (i + 1 >= n) return fail(sc, open, "unterminated string (found end of input)");
      e = s[i + 1];
      switch (e) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
          i += 2;
          saved += 1;
          continue;
        case 'u':
          u = hex4(s + i + 2, n - i - 2);
          if (u < 0) {
            size_t h = 0;
            while (h < 4 && i + 2 + h < n && hexval(s[i + 2 + h]) >= 0) h++;
            if (i + 2 + h >= n) return fail(sc, open, "unterminated string (found end of input)");
            return fail(sc, i, "invalid \\u escape: expected 4 hex digits");
          }
          if (u >= 0xDC00 && u <= 0xDFFF)
            return fail(sc, i, "lone surrogate \\u%04lX (a low surrogate needs a high one before it)", u);
          if (u >= 0xD800 && u <= 0xDBFF) {
            if (n - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' || (lo = hex4(s + i + 8, n - i - 8)) < 0xDC00 ||
                lo > 0xDFFF)
              return fail(sc, i, "lone surrogate \\u%04lX (a high surrogate needs a \\uDC00-\\uDFFF after it)", u);
            i += 12;
            saved += 12 - 4;
            continue;
          }
          i += 6;
          saved += 6 - utf8_len((unsigned long)u);
          continue;
        default:
          if (e >= 0x21 && e <= 0x7E) return fail(sc, i, "invalid escape '\\%c' in a string", e);
          return fail(sc, i, "invalid escape (backslash before byte 0x%02X) in a string", e);
      }
    }
    if (c < 0x20) return fail(sc, i, "control character 0x%02X in a string (it must be escaped)", c);
    {
      size_t k = al_json_utf8_seq(s + i, n - i);
      if (k == 0) return fail(sc, i, "invalid UTF-8 (byte 0x%02X) in a string", c);
      i += k;
    }
  }
  tok->offset = open;
  tok->str = sc->s + open + 1;
  tok->len = i - open - 1;
  tok->decoded_len = tok->len - saved;
  tok->escaped = esc;
  sc->pos = i + 1;
  return AL_JSON_STRING;
}

/* The usual string, printable ASCII without escapes, here; any other goes on in
 * scan_string_rest. */
static HOT al_json_type scan_string(al_json_scanner *sc, al_json_token *tok) {
  const unsigned char *s = (const unsigned char *)sc->s;
  size_t open = sc->pos, i = skip_plain(s, open + 1, sc->n);
  if (i < sc->n && s[i] == '"') {
    tok->offset = open;
    tok->str = sc->s + open + 1;
    tok->len = i - open - 1;
    tok->decoded_len = tok->len;
    tok->escaped = 0;
    sc->pos = i + 1;
    return AL_JSON_STRING;
  }
  return scan_string_rest(sc, tok, i);
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

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
    if (MORE(i) && is_digit(s[i])) return fail(sc, start, "leading zeros are not allowed in numbers");
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
    return expected(sc, i, "a digit after '-'");
  }
  if (MORE(i) && s[i] == '.') {
    i++;
    if (!MORE(i) || !is_digit(s[i])) return expected(sc, i, "a digit after the decimal point");
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
    if (!MORE(i) || !is_digit(s[i])) return expected(sc, i, "a digit in the exponent");
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

/* The number at sc->pos into *tok. */
static HOT al_json_type scan_number(al_json_scanner *sc, al_json_token *tok) {
  size_t start = sc->pos, end = start;
  al_json_type t = number_at(sc, (const unsigned char *)sc->s, sc->n, start, &end, &tok->i, &tok->d, 0);
  if (t == AL_JSON_ERROR) return t;
  tok->offset = start;
  tok->str = sc->s + start;
  tok->len = end - start;
  sc->pos = end;
  if (t == AL_JSON_INTEGER) tok->d = (double)tok->i;
  return t;
}

static al_json_type scan_literal(al_json_scanner *sc, const char *word, al_json_type t) {
  size_t k = strlen(word), avail = sc->n - sc->pos;
  if (avail >= k && memcmp(sc->s + sc->pos, word, k) == 0) {
    sc->pos += k;
    return t;
  }
  if (avail < k && memcmp(sc->s + sc->pos, word, avail) == 0)
    return fail(sc, sc->pos, "truncated literal '%s' (found end of input)", word);
  return expected(sc, sc->pos, "a value");
}

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

static al_json_type open_container(al_json_scanner *sc, al_json_token *tok, int object) {
  unsigned d = sc->depth;
  if (d >= AL_JSON_MAX_DEPTH) return fail(sc, sc->pos, "nesting deeper than %d levels", AL_JSON_MAX_DEPTH);
  sc->objects[d] = (unsigned char)object;
  sc->depth++;
  tok->offset = sc->pos++;
  return object ? AL_JSON_OBJECT : AL_JSON_ARRAY;
}

/* The '}' or ']' at pos (the caller knows which container it closes). */
static HOT al_json_type close_at(al_json_scanner *sc, al_json_token *tok, size_t pos, al_json_type t) {
  sc->depth--;
  tok->offset = pos;
  sc->pos = pos + 1;
  return t;
}

/* The value at sc->pos (whitespace already skipped); what: the message's "expected"
 * part when none stands there. */
static al_json_type scan_value(al_json_scanner *sc, al_json_token *tok, const char *what) {
  const unsigned char *s = (const unsigned char *)sc->s;
  tok->offset = sc->pos;
  if (sc->pos >= sc->n) return expected(sc, sc->pos, what);
  switch (s[sc->pos]) {
    case '{': return open_container(sc, tok, 1);
    case '[': return open_container(sc, tok, 0);
    case '"': return scan_string(sc, tok);
    case 't': return scan_literal(sc, "true", AL_JSON_TRUE);
    case 'f': return scan_literal(sc, "false", AL_JSON_FALSE);
    case 'n': return scan_literal(sc, "null", AL_JSON_NULL);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
      return scan_number(sc, tok);
    default:
      if (sc->pos == 0 && sc->n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        return fail(sc, 0, "byte order mark (U+FEFF) before the value is not allowed");
      return expected(sc, sc->pos, what);
  }
}

/* A key at pos (where its '"' should be) and the ':' after it, which is consumed.
 * Without the ':', al_json_next gets the key, and the error at its next call (state
 * ST_COLON), as a pass per separator would. */
static HOT al_json_type scan_key(al_json_scanner *sc, al_json_token *tok, size_t pos, const char *what) {
  const unsigned char *s = (const unsigned char *)sc->s;
  const size_t n = sc->n;
  if (pos >= n || s[pos] != '"') return expected(sc, pos, what);
  sc->pos = pos;
  if (scan_string(sc, tok) == AL_JSON_ERROR) return AL_JSON_ERROR;
  pos = skip_ws_to(s, sc->pos, n, ':');
  if (pos < n && s[pos] == ':') {
    sc->pos = pos + 1;
    return AL_JSON_KEY;
  }
  sc->pos = pos;
  sc->state = ST_COLON;
  return AL_JSON_KEY;
}

static HOT al_json_type first_key(al_json_scanner *sc, al_json_token *tok) {
  const unsigned char *s = (const unsigned char *)sc->s;
  size_t pos = skip_ws_to(s, sc->pos, sc->n, '"');
  if (pos < sc->n && s[pos] == '}') return close_at(sc, tok, pos, AL_JSON_OBJECT_END);
  return scan_key(sc, tok, pos, "a string key or '}'");
}

static HOT al_json_type next_key(al_json_scanner *sc, al_json_token *tok) {
  const unsigned char *s = (const unsigned char *)sc->s;
  const size_t n = sc->n;
  size_t pos = skip_ws_to(s, sc->pos, n, ',');
  if (pos < n) {
    if (s[pos] == ',') return scan_key(sc, tok, skip_ws_to(s, pos + 1, n, '"'), "a string key after ','");
    if (s[pos] == '}') return close_at(sc, tok, pos, AL_JSON_OBJECT_END);
  }
  return expected(sc, pos, "',' or '}' after an object member");
}

static al_json_type place_value(al_json_scanner *sc, al_json_token *tok) {
  size_t pos = skip_ws((const unsigned char *)sc->s, sc->pos, sc->n);
  sc->pos = pos;
  if (pos >= sc->n && sc->depth == 0) return fail(sc, pos, "empty input (expected a JSON value)");
  return scan_value(sc, tok, "a value");
}

static al_json_type first_element(al_json_scanner *sc, al_json_token *tok) {
  const unsigned char *s = (const unsigned char *)sc->s;
  size_t pos = skip_ws(s, sc->pos, sc->n);
  if (pos < sc->n && s[pos] == ']') return close_at(sc, tok, pos, AL_JSON_ARRAY_END);
  sc->pos = pos;
  return scan_value(sc, tok, "a value or ']'");
}

static al_json_type next_element(al_json_scanner *sc, al_json_token *tok) {
  const unsigned char *s = (const unsigned char *)sc->s;
  const size_t n = sc->n;
  size_t pos = skip_ws_to(s, sc->pos, n, ',');
  if (pos < n) {
    if (s[pos] == ',') {
      sc->pos = skip_ws(s, pos + 1, n);
      return scan_value(sc, tok, "a value");
    }
    if (s[pos] == ']') return close_at(sc, tok, pos, AL_JSON_ARRAY_END);
  }
  return expected(sc, pos, "',' or ']' after an array element");
}

static al_json_type document_end(al_json_scanner *sc, al_json_token *tok) {
  size_t pos = skip_ws((const unsigned char *)sc->s, sc->pos, sc->n);
  sc->pos = pos;
  if (pos >= sc->n) {
    tok->offset = pos;
    return AL_JSON_END;
  }
  return expected(sc, pos, "end of input after the JSON value");
}

/* a[0..n) == b[0..n), for short keys: a few word compares instead of a memcmp call */
static HOT int same_key(const char *a, const char *b, size_t n) {
  uint64_t x, y;
  uint32_t u, v;
  if (n >= 8) {
    size_t i;
    for (i = 0; i + 8 < n; i += 8) {
      memcpy(&x, a + i, 8);
      memcpy(&y, b + i, 8);
      if (x != y) return 0;
    }
    memcpy(&x, a + n - 8, 8); /* the last 8 bytes, overlapping the ones compared */
    memcpy(&y, b + n - 8, 8);
    return x == y;
  }
  if (n >= 4) {
    memcpy(&u, a, 4);
    memcpy(&v, b, 4);
    if (u != v) return 0;
    memcpy(&u, a + n - 4, 4);
    memcpy(&v, b + n - 4, 4);
    return u == v;
  }
  while (n--)
    if (a[n] != b[n]) return 0;
  return 1;
}

/* Slot h's pattern (q, nm) for the key k (len bytes): '"', the key, '"', ':' (a match
 * covers the string and its colon); keys above 13 bytes get none. */
static void key_pattern(al_json_scanner *sc, unsigned h, const unsigned char *k, size_t len) {
  /* nm from a ramp: bytes len + 3 .. 15 are 0xFF */
  static const unsigned char ramp[32] = {0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
                                         0,    0,    0,    0,    0,    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                         0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  unsigned char q[16], nm[16];
  size_t i;
  if (len > 13) {
    memset(q, 0, sizeof q);
    memset(nm, 0, sizeof nm); /* matches nothing */
  } else {
    if ((size_t)(k - (const unsigned char *)sc->s) + 14 <= sc->n) {
      memcpy(q, k - 1, 16); /* the input's '"', key and '"' (s[n] is readable) */
    } else {
      memset(q, 0, sizeof q);
      q[0] = '"';
      memcpy(q + 1, k, len);
      q[len + 1] = '"';
    }
    q[len + 2] = ':';
    for (i = 0; i < 16; i++) q[i] = (unsigned char)~q[i];
    memcpy(nm, ramp + 13 - len, 16);
  }
  memcpy(sc->keys[h].q, q, 16);
  memcpy(sc->keys[h].nm, nm, 16);
}

/* The slot of the key item *it carries (scanned, not guessed), and whether the slot
 * takes it (al_json_item.key_slot); the key is then the guess after the last one. */
static HOT void key_slot_of(al_json_scanner *sc, al_json_item *it) {
  const unsigned char *k = (const unsigned char *)it->key;
  size_t len = it->key_len;
  unsigned h;
  if (it->key_decoded_len != len || len - 1 >= AL_JSON_KEY_SLOT_MAX) { /* escapes; len 0 wraps */
    it->key_slot = -1;
    it->key_new = 0;
    return;
  }
  h = ((unsigned)len * 31u + k[0] * 7u + k[len - 1]) & (AL_JSON_KEY_SLOTS - 1);
  it->key_slot = (int)h;
  if (sc->keys[h].len == len && same_key(sc->keys[h].s, it->key, len)) {
    it->key_new = 0;
  } else {
    sc->keys[h].s = it->key;
    sc->keys[h].len = len;
    it->key_new = 1;
    key_pattern(sc, h, k, len);
  }
  sc->key_next[sc->key_last] = (unsigned char)h;
  sc->key_last = h;
}

/* The key at key is the guess, slot g's key (al_json_scan's two ways of matching it). */
static inline void guessed_key(al_json_scanner *sc, al_json_item *it, const char *key, unsigned g) {
  it->key = key;
  it->key_len = it->key_decoded_len = sc->keys[g].len;
  it->key_slot = (int)g;
  it->key_new = 0;
  sc->key_last = g;
}

/* al_json_scan's key at pos (its '"') when the guess with its colon did not match:
 * the key into *it, then its ':'. Returns the position after the ':', or (size_t)-1
 * (sc->err; the key rides on the error when only the ':' is missing). Out of line:
 * rare after a document's first rows, and al_json_scan keeps its registers. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static size_t key_rest(al_json_scanner *sc, al_json_item *it, size_t pos) {
  const unsigned char *const s = (const unsigned char *)sc->s;
  const size_t n = sc->n;
  size_t i;
  { /* the guess without its colon (a longer key, space before the ':', the input's
     * last 15 bytes) */
    unsigned g = sc->key_next[sc->key_last];
    size_t kl = sc->keys[g].len;
    if (kl && kl < n - pos && s[pos + 1 + kl] == '"' && same_key(sc->keys[g].s, (const char *)s + pos + 1, kl)) {
      guessed_key(sc, it, (const char *)s + pos + 1, g);
      pos += kl + 2;
      goto colon;
    }
  }
  i = skip_plain(s, pos + 1, n);
  if (s[i] == '"') {
    it->key = (const char *)s + pos + 1;
    it->key_len = it->key_decoded_len = i - pos - 1;
    pos = i + 1;
  } else {
    al_json_token tok;
    sc->pos = pos;
    if (scan_string_rest(sc, &tok, i) == AL_JSON_ERROR) return (size_t)-1;
    it->key = tok.str;
    it->key_len = tok.len;
    it->key_decoded_len = tok.decoded_len;
    pos = sc->pos;
  }
  key_slot_of(sc, it);
colon:
  if (s[pos] != ':') {
    pos = skip_ws_z(s, pos);
    if (s[pos] != ':') {
      expected(sc, pos, "':' after an object key");
      return (size_t)-1;
    }
  }
  return pos + 1;
}

/* Batch scanning: the grammar of the entry points above as one loop over the whole
 * document, the input and the position in registers, each place of the grammar a
 * label; strings and numbers inline, the rest (literals, errors, strings with
 * escapes or non-ASCII bytes) through the functions the other entries use, so the
 * messages and offsets are theirs. The batch stops at a place that needs no more
 * than sc->state to resume (ST_COMMA_OR_END, ST_KEY_OR_END, ST_VALUE_OR_END) when
 * fewer than 2 items are free: from any of those places to the next, at most 2 are
 * written (a closing and END, a value and END, ...). */
size_t al_json_scan(al_json_scanner *sc, al_json_item *items, size_t cap) {
  const unsigned char *const s = (const unsigned char *)sc->s;
  const size_t n = sc->n;
  size_t pos = sc->pos, i = 0;
  int object = 0;             /* the innermost open container is an object */
  al_json_item *it = items, *const full = items + cap - 2; /* past it: fewer than 2 free, stop */
  sc->last_open = NULL;
  al_json_token tok;
  al_json_type t;
  assert(s[n] == '\0'); /* the caller's promise (json.h) */
  assert(cap >= 4); /* json.h: fewer and a resumed scan may return no item, forever */
  if (sc->depth) object = sc->objects[sc->depth - 1];
  switch (sc->state) {
    case ST_VALUE: /* the document's value (a fresh scanner) */
      pos = skip_ws(s, pos, n);
      it->key = NULL;
      if (pos >= n) {
        t = fail(sc, pos, "empty input (expected a JSON value)");
        goto error;
      }
      goto value;
    case ST_VALUE_OR_END: goto first_element;
    case ST_KEY_OR_END: goto first_key;
    case ST_COMMA_OR_END:
    case ST_DONE: goto after_value;
    default:
      it->key = NULL;
      t = AL_JSON_ERROR; /* sticky */
      goto error;
  }

value: /* a value at pos (whitespace skipped) */
  {
    switch (s[pos]) { /* s[n], NUL, is none of these */
      case '"':
        i = skip_plain(s, pos + 1, n);
        if (s[i] == '"') {
          it->type = AL_JSON_STRING;
          it->escaped = 0;
          it->str = (const char *)s + pos + 1;
          it->len = i - pos - 1;
          pos = i + 1;
          goto item_done;
        }
        sc->pos = pos;
        t = scan_string_rest(sc, &tok, i);
        if (t == AL_JSON_ERROR) goto error;
        it->type = AL_JSON_STRING;
        goto string_token;
      case '-': case '0': case '1': case '2': case '3': case '4':
      case '5': case '6': case '7': case '8': case '9':
        t = number_at(sc, s, n, pos, &i, &it->v.i, &it->v.d, 1);
        if (t == AL_JSON_ERROR) goto error;
        it->type = t;
        it->str = (const char *)s + pos;
        it->len = i - pos;
        pos = i;
        goto item_done;
      case '{':
      case '[':
        if (sc->depth >= AL_JSON_MAX_DEPTH) {
          t = fail(sc, pos, "nesting deeper than %d levels", AL_JSON_MAX_DEPTH);
          goto error;
        }
        it->str = (const char *)s + pos;
        it->len = 1;
        it->v.i = -1; /* its count, when it closes in this batch holding only values */
        sc->last_open = it;
        object = s[pos++] == '{';
        sc->objects[sc->depth] = (unsigned char)object;
        sc->depth++;
        if (object) {
          it->type = AL_JSON_OBJECT;
          it++;
          goto first_key;
        }
        it->type = AL_JSON_ARRAY;
        it++;
        goto first_element;
      default:
        break;
    }
  }
  sc->pos = pos; /* literals, and what is not a value */
  t = scan_value(sc, &tok, "a value");
  if (t == AL_JSON_ERROR) goto error;
  it->type = t;
  it->str = (const char *)s + pos;
  it->len = sc->pos - pos;
  pos = sc->pos;
  /* fall through */

item_done: /* the item at it is complete (one increment for all: no it + 1 kept aside) */
  it++;
after_value: /* after a value, or a container's closing */
  it->key = NULL; /* the next item's, unless a key comes */
  if (object) { /* first: the usual place (the nesting depth stays in sc: a register less) */
    if (it > full) {
      sc->state = ST_COMMA_OR_END;
      goto stop;
    }
    if (s[pos] == ',' && s[pos + 1] == '"') { /* compact JSON's next member (s[pos + 1] is there) */
      pos++;
      goto key;
    }
    pos = skip_ws_z(s, pos);
    if (s[pos] == ',') {
      pos = skip_ws_z(s, pos + 1);
      if (s[pos] == '"') goto key;
      t = expected(sc, pos, "a string key after ','");
      goto error;
    }
    if (s[pos] == '}') {
      it->type = AL_JSON_OBJECT_END;
      goto close;
    }
    t = expected(sc, pos, "',' or '}' after an object member");
    goto error;
  }
  if (sc->depth == 0) {
    pos = skip_ws_z(s, pos);
    if (pos < n) {
      t = expected(sc, pos, "end of input after the JSON value");
      goto error;
    }
    it->type = AL_JSON_END;
    it->str = (const char *)s + pos;
    it->len = 0;
    it++;
    sc->pos = pos;
    sc->state = ST_DONE;
    return (size_t)(it - items);
  }
  if (it > full) {
    sc->state = ST_COMMA_OR_END;
    goto stop;
  }
  if (s[pos] != ',') pos = skip_ws_z(s, pos);
  if (s[pos] == ',') {
    pos = skip_ws_z(s, pos + 1);
    goto value;
  }
  if (s[pos] == ']') {
    it->type = AL_JSON_ARRAY_END;
    goto close;
  }
  t = expected(sc, pos, "',' or ']' after an array element");
  goto error;

close: /* the '}' or ']' at pos, its type in it->type */
  if (sc->last_open) { /* its opening, with only values since */
    sc->last_open->v.i = it - sc->last_open - 1;
    sc->last_open = NULL;
  }
  sc->depth--;
  object = sc->depth && sc->objects[sc->depth - 1];
  it->str = (const char *)s + pos;
  it->len = 1;
  pos++;
  goto item_done;

first_key: /* after '{' */
  it->key = NULL;
  if (it > full) {
    sc->state = ST_KEY_OR_END;
    goto stop;
  }
  if (s[pos] != '"') pos = skip_ws_z(s, pos);
  if (s[pos] == '}') {
    it->type = AL_JSON_OBJECT_END;
    goto close;
  }
  if (s[pos] != '"') {
    t = expected(sc, pos, "a string key or '}'");
    goto error;
  }
key: /* a key, its '"' at pos, then its ':'; the key rides on the next item */
  { /* the guess: the key that came after the last one before, with its colon; when
     * the input holds '"', its bytes (no '"', no '\\': a slot's key has none), '"'
     * and ':', that is what the scan would find */
    unsigned g = sc->key_next[sc->key_last];
    if (n - pos >= 15) { /* s[pos .. pos + 15] readable (s[n] too) */
      uint64_t w0, w1;
      memcpy(&w0, s + pos, 8);
      memcpy(&w1, s + pos + 8, 8);
      if ((((w0 ^ sc->keys[g].q[0]) | sc->keys[g].nm[0]) & ((w1 ^ sc->keys[g].q[1]) | sc->keys[g].nm[1])) ==
          ~(uint64_t)0) {
        guessed_key(sc, it, (const char *)s + pos + 1, g);
        pos += sc->keys[g].len + 3;
        if (s[pos] <= ' ') pos = skip_ws_z(s, pos); /* compact JSON: the value is there */
        goto value;
      }
    }
  }
  pos = key_rest(sc, it, pos);
  if (pos == (size_t)-1) {
    t = AL_JSON_ERROR;
    goto error;
  }
  pos = skip_ws_z(s, pos);
  goto value;

first_element: /* after '[' */
  it->key = NULL;
  if (it > full) {
    sc->state = ST_VALUE_OR_END;
    goto stop;
  }
  pos = skip_ws_z(s, pos);
  if (s[pos] == ']') {
    it->type = AL_JSON_ARRAY_END;
    goto close;
  }
  {
    switch (s[pos]) { /* what may start a value: scan_value's cases */
      case '{': case '[': case '"': case 't': case 'f': case 'n': case '-':
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
        goto value;
      default:
        break;
    }
  }
  t = expected(sc, pos, "a value or ']'"); /* as scan_value says it here (no BOM after '[') */
  goto error;

string_token: /* a string value scanned by scan_string_rest into tok */
  it->escaped = tok.escaped;
  it->str = tok.str;
  it->len = tok.len;
  it->v.decoded_len = tok.decoded_len;
  pos = sc->pos;
  goto item_done;

error: /* sc->err and sc->err_offset say why (t is AL_JSON_ERROR) */
  it->type = t;
  it->str = sc->s + sc->err_offset;
  it->len = 0;
  return (size_t)(it + 1 - items);

stop:
  sc->pos = pos;
  return (size_t)(it - items);
}

/* The generic pull: what the grammar expects next is the state, and the entry
 * point for it does the rest. */
al_json_type al_json_next(al_json_scanner *sc, al_json_token *tok) {
  al_json_type t;
  size_t pos;
  tok->type = AL_JSON_ERROR;
  switch (sc->state) {
    case ST_VALUE: t = place_value(sc, tok); break;
    case ST_VALUE_OR_END: t = first_element(sc, tok); break;
    case ST_KEY_OR_END: t = first_key(sc, tok); break;
    case ST_COLON:
      pos = skip_ws((const unsigned char *)sc->s, sc->pos, sc->n);
      if (pos >= sc->n || sc->s[pos] != ':') return expected(sc, pos, "':' after an object key");
      sc->pos = pos + 1;
      t = place_value(sc, tok);
      break;
    case ST_COMMA_OR_END:
      t = al_json_container(sc) == AL_JSON_OBJECT ? next_key(sc, tok) : next_element(sc, tok);
      break;
    case ST_DONE: t = document_end(sc, tok); break;
    default: return AL_JSON_ERROR;
  }
  switch (t) {
    case AL_JSON_ERROR:
    case AL_JSON_END: return tok->type = t;
    case AL_JSON_OBJECT: sc->state = ST_KEY_OR_END; break;
    case AL_JSON_ARRAY: sc->state = ST_VALUE_OR_END; break;
    case AL_JSON_KEY:
      if (sc->state != ST_COLON) sc->state = ST_VALUE; /* else the ':' is missing */
      break;
    default: sc->state = sc->depth ? ST_COMMA_OR_END : ST_DONE; break;
  }
  return tok->type = t;
}

void al_json_unescape(const al_json_token *tok, char *out) {
  const unsigned char *s = (const unsigned char *)tok->str;
  size_t i = 0, n = tok->len, o = 0;
  if (!tok->escaped) {
    memcpy(out, tok->str, n);
    return;
  }
  while (i < n) {
    const unsigned char *bs = memchr(s + i, '\\', n - i);
    size_t run = bs ? (size_t)(bs - (s + i)) : n - i;
    unsigned long cp;
    memcpy(out + o, s + i, run);
    o += run;
    i += run;
    if (i >= n) break;
    switch (s[i + 1]) { /* the scanner validated every escape */
      case 'b': out[o++] = '\b'; break;
      case 'f': out[o++] = '\f'; break;
      case 'n': out[o++] = '\n'; break;
      case 'r': out[o++] = '\r'; break;
      case 't': out[o++] = '\t'; break;
      case 'u':
        cp = (unsigned long)hex4(s + i + 2, 4);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned long)hex4(s + i + 8, 4) - 0xDC00);
          i += 6;
        }
        o += utf8_put(cp, out + o);
        i += 6;
        continue;
      default: out[o++] = (char)s[i + 1]; break; /* " \ / */
    }
    i += 2;
  }
}

