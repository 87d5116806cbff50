/* JSON encoding: string escapes and number formatting (see json.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "json_private.h"

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
      size_t k = al_json_utf8_seq(s + i, n - i);
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
