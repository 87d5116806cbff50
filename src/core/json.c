#include "json.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- UTF-8 ---- */

/* Length (1-4) of the valid UTF-8 sequence at p, or 0. Rejects overlong forms,
 * UTF-16 surrogates (U+D800-DFFF) and anything above U+10FFFF (RFC 3629 table). */
static size_t utf8_seq(const unsigned char *p, size_t avail) {
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

/* ------------------------------------------------------ decimal -> double ---- */

/* Exact decimal arithmetic after Go's strconv/decimal.go (the classic slow path):
 * the value is 0.d[0]d[1]...d[nd-1] * 10^dp; shifting by powers of two is exact up
 * to DMAX digits, `trunc` remembers non-zero digits dropped beyond them. 800 digits
 * are more than the 767 that can matter for rounding a double. */
#define DMAX 800
#define MAX_SHIFT 60 /* n*10 + 9 must fit in uint64 with n < 2^k */

typedef struct {
  unsigned char d[DMAX]; /* digit values 0-9, most significant first */
  int nd, dp, trunc;
} decimal;

static void dec_trim(decimal *a) {
  while (a->nd > 0 && a->d[a->nd - 1] == 0) a->nd--;
  if (a->nd == 0) a->dp = 0;
}

/* a /= 2^k */
static void dec_rshift(decimal *a, unsigned k) {
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
    if (w < DMAX) a->d[w++] = (unsigned char)dig;
    else if (dig > 0) a->trunc = 1;
    n *= 10;
  }
  a->nd = w;
  dec_trim(a);
}

/* a *= 2^k. Digits come out least significant first, so they go to tmp and back. */
static void dec_lshift(decimal *a, unsigned k) {
  unsigned char tmp[DMAX + 24]; /* 2^60 adds at most 19 digits */
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
  keep = w < DMAX ? w : DMAX;
  for (i = 0; i < keep; i++) a->d[i] = tmp[w - 1 - i];
  for (; i < w; i++)
    if (tmp[w - 1 - i]) a->trunc = 1;
  a->nd = keep;
  dec_trim(a);
}

static void dec_shift(decimal *a, int k) {
  if (a->nd == 0) return;
  for (; k > MAX_SHIFT; k -= MAX_SHIFT) dec_lshift(a, MAX_SHIFT);
  for (; k < -MAX_SHIFT; k += MAX_SHIFT) dec_rshift(a, MAX_SHIFT);
  if (k > 0) dec_lshift(a, (unsigned)k);
  else if (k < 0) dec_rshift(a, (unsigned)-k);
}

/* Round half to even at digit nd; a dropped non-zero tail breaks the tie upwards. */
static int dec_round_up(const decimal *a, int nd) {
  if (nd < 0 || nd >= a->nd) return 0;
  if (a->d[nd] == 5 && nd + 1 == a->nd) {
    if (a->trunc) return 1;
    return nd > 0 && a->d[nd - 1] % 2 == 1;
  }
  return a->d[nd] >= 5;
}

static uint64_t dec_rounded_integer(const decimal *a) {
  uint64_t n = 0;
  int i;
  if (a->dp > 20) return UINT64_MAX;
  for (i = 0; i < a->dp && i < a->nd; i++) n = n * 10 + a->d[i];
  for (; i < a->dp; i++) n *= 10;
  if (dec_round_up(a, a->dp)) n++;
  return n;
}

/* The double nearest to a (binary64: 52 mantissa bits, 11 exponent bits, bias -1023). */
static double dec_to_double(decimal *a, int neg) {
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

int al_json_parse_double(const char *str, size_t n, double *out) {
  static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  const unsigned char *s = (const unsigned char *)str;
  decimal a;
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
    if (a.nd < DMAX) a.d[a.nd++] = (unsigned char)(c - '0');
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
  dec_trim(&a);
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
  /* Clinger's fast path: an exact mantissa below 2^53 times an exact power of ten
   * is one correctly rounded IEEE operation. Most JSON numbers end here. */
  if (!a.trunc && a.nd > 0 && a.nd <= 19) {
    uint64_t m = 0;
    int k, e10 = a.dp - a.nd;
    for (k = 0; k < a.nd; k++) m = m * 10 + a.d[k];
    if (m <= ((uint64_t)1 << 53)) {
      double v = -1;
      if (e10 == 0) v = (double)m;
      else if (e10 > 0 && e10 <= 22) v = (double)m * pow10[e10];
      else if (e10 < 0 && e10 >= -22) v = (double)m / pow10[-e10];
      else if (e10 > 22 && e10 <= 22 + 15) { /* move the surplus into the mantissa if exact */
        int extra = e10 - 22;
        while (extra > 0 && m <= ((uint64_t)1 << 53) / 10) {
          m *= 10;
          extra--;
        }
        if (extra == 0) v = (double)m * 1e22;
      }
      if (v >= 0) {
        *out = neg ? -v : v;
        return 0;
      }
    }
  }
#endif
  *out = dec_to_double(&a, neg);
  return 0;
}

/* ----------------------------------------------------------------- scanner ---- */

enum { ST_VALUE, ST_VALUE_OR_END, ST_KEY_OR_END, ST_KEY, ST_COLON, ST_COMMA_OR_END, ST_DONE, ST_ERROR };

void al_json_scanner_init(al_json_scanner *sc, const char *s, size_t n) {
  memset(sc, 0, sizeof *sc);
  sc->s = s;
  sc->n = n;
  sc->state = ST_VALUE;
}

int al_json_container(const al_json_scanner *sc) {
  unsigned d;
  if (sc->depth == 0) return 0;
  d = sc->depth - 1;
  return (sc->objects[d / 8] >> (d % 8)) & 1 ? AL_JSON_OBJECT : AL_JSON_ARRAY;
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

static al_json_type scan_string(al_json_scanner *sc, al_json_token *tok) {
  const unsigned char *s = (const unsigned char *)sc->s;
  size_t n = sc->n, open = sc->pos, i = open + 1, saved = 0;
  int esc = 0;
  for (;;) {
    unsigned char c;
    while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\') i++;
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
      size_t k = utf8_seq(s + i, n - i);
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

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static al_json_type scan_number(al_json_scanner *sc, al_json_token *tok) {
  const unsigned char *s = (const unsigned char *)sc->s;
  size_t n = sc->n, start = sc->pos, i = start, ndig;
  int neg = 0, integral = 1;
  if (s[i] == '-') {
    neg = 1;
    i++;
  }
  if (i < n && s[i] == '0') {
    i++;
    if (i < n && is_digit(s[i])) return fail(sc, start, "leading zeros are not allowed in numbers");
  } else if (i < n && is_digit(s[i])) {
    while (i < n && is_digit(s[i])) i++;
  } else {
    return expected(sc, i, "a digit after '-'");
  }
  ndig = i - start - (size_t)neg;
  if (i < n && s[i] == '.') {
    i++;
    if (i >= n || !is_digit(s[i])) return expected(sc, i, "a digit after the decimal point");
    while (i < n && is_digit(s[i])) i++;
    integral = 0;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    if (i >= n || !is_digit(s[i])) return expected(sc, i, "a digit in the exponent");
    while (i < n && is_digit(s[i])) i++;
    integral = 0;
  }
  tok->offset = start;
  tok->str = sc->s + start;
  tok->len = i - start;
  sc->pos = i;
  if (integral && ndig <= 19) { /* int64 when it fits, magnitude up to 2^63 for negatives */
    uint64_t u = 0, lim = neg ? (uint64_t)1 << 63 : ((uint64_t)1 << 63) - 1;
    size_t k;
    int fits = 1;
    for (k = start + (size_t)neg; k < i; k++) {
      unsigned d = (unsigned)(s[k] - '0');
      if (u > (lim - d) / 10) {
        fits = 0;
        break;
      }
      u = u * 10 + d;
    }
    if (fits) {
      tok->i = neg ? (int64_t)(0 - u) : (int64_t)u; /* 0 - u: no signed overflow for 2^63 */
      tok->d = (double)tok->i;
      return AL_JSON_INTEGER;
    }
  }
  al_json_parse_double(tok->str, tok->len, &tok->d);
  return AL_JSON_DOUBLE;
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

static void after_value(al_json_scanner *sc) { sc->state = sc->depth ? ST_COMMA_OR_END : ST_DONE; }

static al_json_type open_container(al_json_scanner *sc, al_json_token *tok, int object) {
  unsigned d = sc->depth;
  if (d >= AL_JSON_MAX_DEPTH) return fail(sc, sc->pos, "nesting deeper than %d levels", AL_JSON_MAX_DEPTH);
  if (object) sc->objects[d / 8] |= (unsigned char)(1u << (d % 8));
  else sc->objects[d / 8] &= (unsigned char)~(1u << (d % 8));
  sc->depth++;
  tok->offset = sc->pos++;
  sc->state = object ? ST_KEY_OR_END : ST_VALUE_OR_END;
  return object ? AL_JSON_OBJECT : AL_JSON_ARRAY;
}

static al_json_type close_container(al_json_scanner *sc, al_json_token *tok) {
  int object = al_json_container(sc) == AL_JSON_OBJECT;
  sc->depth--;
  tok->offset = sc->pos++;
  after_value(sc);
  return object ? AL_JSON_OBJECT_END : AL_JSON_ARRAY_END;
}

static al_json_type scan_value(al_json_scanner *sc, al_json_token *tok, const char *what) {
  const unsigned char *s = (const unsigned char *)sc->s;
  al_json_type t;
  tok->offset = sc->pos;
  if (sc->pos >= sc->n) return expected(sc, sc->pos, what);
  switch (s[sc->pos]) {
    case '{': return open_container(sc, tok, 1);
    case '[': return open_container(sc, tok, 0);
    case '"': t = scan_string(sc, tok); break;
    case 't': t = scan_literal(sc, "true", AL_JSON_TRUE); break;
    case 'f': t = scan_literal(sc, "false", AL_JSON_FALSE); break;
    case 'n': t = scan_literal(sc, "null", AL_JSON_NULL); break;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
      t = scan_number(sc, tok);
      break;
    default:
      if (sc->pos == 0 && sc->n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        return fail(sc, 0, "byte order mark (U+FEFF) before the value is not allowed");
      return expected(sc, sc->pos, what);
  }
  if (t != AL_JSON_ERROR) after_value(sc);
  return t;
}

al_json_type al_json_next(al_json_scanner *sc, al_json_token *tok) {
  const unsigned char *s = (const unsigned char *)sc->s;
  tok->type = AL_JSON_ERROR;
  for (;;) {
    unsigned char c;
    int obj;
    if (sc->state == ST_ERROR) return AL_JSON_ERROR;
    while (sc->pos < sc->n && (s[sc->pos] == ' ' || s[sc->pos] == '\n' || s[sc->pos] == '\r' || s[sc->pos] == '\t'))
      sc->pos++;
    if (sc->pos >= sc->n) {
      switch (sc->state) {
        case ST_DONE: tok->offset = sc->pos; return tok->type = AL_JSON_END;
        case ST_VALUE:
          if (sc->depth == 0) return fail(sc, sc->pos, "empty input (expected a JSON value)");
          break;
        default: break;
      }
    }
    c = sc->pos < sc->n ? s[sc->pos] : 0;
    obj = al_json_container(sc) == AL_JSON_OBJECT;
    switch (sc->state) {
      case ST_VALUE:
        return tok->type = scan_value(sc, tok, "a value");
      case ST_VALUE_OR_END:
        if (c == ']') return tok->type = close_container(sc, tok);
        return tok->type = scan_value(sc, tok, "a value or ']'");
      case ST_KEY_OR_END:
        if (c == '}') return tok->type = close_container(sc, tok);
        /* fall through */
      case ST_KEY:
        if (c != '"' || sc->pos >= sc->n)
          return expected(sc, sc->pos, sc->state == ST_KEY ? "a string key after ','" : "a string key or '}'");
        if (scan_string(sc, tok) == AL_JSON_ERROR) return AL_JSON_ERROR;
        sc->state = ST_COLON;
        return tok->type = AL_JSON_KEY;
      case ST_COLON:
        if (c != ':' || sc->pos >= sc->n) return expected(sc, sc->pos, "':' after an object key");
        sc->pos++;
        sc->state = ST_VALUE;
        continue;
      case ST_COMMA_OR_END:
        if (sc->pos < sc->n) {
          if (c == ',') {
            sc->pos++;
            sc->state = obj ? ST_KEY : ST_VALUE;
            continue;
          }
          if (c == (obj ? '}' : ']')) return tok->type = close_container(sc, tok);
        }
        return expected(sc, sc->pos, obj ? "',' or '}' after an object member" : "',' or ']' after an array element");
      case ST_DONE:
        return expected(sc, sc->pos, "end of input after the JSON value");
      default:
        return AL_JSON_ERROR;
    }
  }
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

/* ------------------------------------------------------------------ encoder ---- */

/* Short escapes for the C0 controls that have one (RFC 8785 / JSON.stringify). */
static char short_escape(unsigned char c) {
  switch (c) {
    case '\b': return 'b';
    case '\f': return 'f';
    case '\n': return 'n';
    case '\r': return 'r';
    case '\t': return 't';
    case '"': return '"';
    case '\\': return '\\';
    default: return 0;
  }
}

int al_json_escape_measure(const char *str, size_t n, size_t *out_len, size_t *bad_offset) {
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0, out = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      out++;
      i++;
    } else if (c < 0x80) {
      out += short_escape(c) ? 2 : 6;
      i++;
    } else {
      size_t k = utf8_seq(s + i, n - i);
      if (k == 0) {
        if (bad_offset) *bad_offset = i;
        return -1;
      }
      out += k;
      i += k;
    }
  }
  *out_len = out;
  return 0;
}

void al_json_escape(const char *str, size_t n, char *out) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0, o = 0;
  while (i < n) {
    size_t run = i;
    while (run < n && s[run] >= 0x20 && s[run] != '"' && s[run] != '\\') run++;
    memcpy(out + o, s + i, run - i); /* UTF-8 passes through (validated by the measure) */
    o += run - i;
    i = run;
    if (i < n) {
      unsigned char c = s[i++];
      char e = short_escape(c);
      out[o++] = '\\';
      if (e) {
        out[o++] = e;
      } else {
        out[o++] = 'u';
        out[o++] = '0';
        out[o++] = '0';
        out[o++] = hex[c >> 4];
        out[o++] = hex[c & 15];
      }
    }
  }
}

size_t al_json_format_integer(int64_t v, char *out) {
  char tmp[24];
  size_t k = 0, o = 0;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[k++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) out[o++] = '-';
  while (k) out[o++] = tmp[--k];
  out[o] = '\0';
  return o;
}

/* snprintf's %g in the C locale's shape whatever LC_NUMERIC says: any run of bytes
 * that is not a digit, sign or 'e' is the decimal separator (',' in de_DE, a
 * multi-byte one elsewhere) and becomes '.'; the exponent loses leading zeros. */
static size_t c_locale_number(const char *in, char *out) {
  size_t o = 0, i, e;
  int in_sep = 0;
  for (i = 0; in[i] && o < AL_JSON_NUMBER_MAX - 1; i++) {
    char c = in[i];
    if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e') {
      out[o++] = c;
      in_sep = 0;
    } else if (!in_sep) {
      out[o++] = '.';
      in_sep = 1;
    }
  }
  out[o] = '\0';
  for (e = 0; e < o && out[e] != 'e'; e++) {
  }
  if (e < o) {
    size_t d = e + 1, z;
    if (d < o && (out[d] == '+' || out[d] == '-')) d++;
    for (z = d; z + 1 < o && out[z] == '0'; z++) {
    }
    memmove(out + d, out + z, o - z + 1);
    o -= z - d;
  }
  return o;
}

/* Short decimals without printf (which is slow and locale-bound): the fewest
 * fraction digits k such that m / 10^k, m = round(|v| * 10^k) <= 2^53, reads back as
 * |v|. The check is one IEEE division of exact operands, so it is the correctly
 * rounded value of the text we write (the reader's fast path): exact, never guessed.
 * Only where %g would not use an exponent (1e-4 <= |v| < 1e15); 0 when it does not
 * apply and the printf path decides. */
static size_t format_short_decimal(double v, char *out) {
  static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
                                 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};
  double a = fabs(v);
  int k;
  if (!(a >= 1e-4 && a < 1e15)) return 0;
  for (k = 1; k <= 17; k++) {
    double scaled = a * pow10[k];
    uint64_t m;
    if (scaled >= 9007199254740992.0) return 0;
    m = (uint64_t)(scaled + 0.5);
    if ((double)m / pow10[k] == a) {
      char digits[24];
      size_t nd = 0, o = 0, i;
      /* scaled was rounded: when a neighbour of m is nearer to the exact |v|*10^k
       * (fma gives that residual with one rounding) and reads back too, take it,
       * so that the digits are the nearest ones, as %.16g would print them */
      double r = fma(a, pow10[k], -(double)m);
      if (r > 0.5 && (double)(m + 1) / pow10[k] == a) m++;
      else if (r < -0.5 && (double)(m - 1) / pow10[k] == a) m--;
      while (m) {
        digits[nd++] = (char)('0' + m % 10);
        m /= 10;
      }
      while (nd > 0 && digits[0] == '0' && k > 0) { /* trailing fraction zeros: same value, shorter */
        memmove(digits, digits + 1, --nd);
        k--;
      }
      if (v < 0) out[o++] = '-';
      if (nd <= (size_t)k) {
        out[o++] = '0';
        out[o++] = '.';
        for (i = nd; i < (size_t)k; i++) out[o++] = '0';
        while (nd) out[o++] = digits[--nd];
      } else {
        while (nd > (size_t)k) out[o++] = digits[--nd];
        if (k) out[o++] = '.';
        while (nd) out[o++] = digits[--nd];
      }
      out[o] = '\0';
      return o;
    }
  }
  return 0;
}

size_t al_json_format_double(double v, char *out) {
  char raw[64];
  int prec;
  size_t n;
  if (!isfinite(v)) {
    out[0] = '\0';
    return 0;
  }
  if (v == floor(v) && fabs(v) < 9007199254740992.0) { /* exact integers: no fraction */
    if (v == 0 && signbit(v)) {
      memcpy(out, "-0", 3);
      return 2;
    }
    return al_json_format_integer((int64_t)v, out);
  }
  if ((n = format_short_decimal(v, out)) > 0) return n;
  for (prec = 15;; prec++) {
    size_t len;
    double back;
    snprintf(raw, sizeof raw, "%.*g", prec, v);
    len = c_locale_number(raw, out);
    if (prec == 17) return len; /* 17 significant digits always read back exactly */
    if (al_json_parse_double(out, len, &back) == 0 && memcmp(&back, &v, sizeof v) == 0) return len;
  }
}
