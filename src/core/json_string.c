/* JSON strings beyond printable ASCII: UTF-8 validation (al_json_utf8_seq, also the
 * encoder's, json_emit.c), a string's escapes and non-ASCII bytes checked as the
 * scanners meet them (al_json_string_rest, for json_token.c and json_scan.c, which
 * scan the usual string themselves) and decoded (al_json_unescape). See json.h. */
#include <string.h>

#include "json.h"
#include "json_private.h"
#include "json_scan_private.h"

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

/* ------------------------------------------------------------- escapes ---- */

/* The scanners' way on when a string is more than printable ASCII (see
 * json_scan_private.h): every escape and UTF-8 sequence checked, the decoded length
 * counted for al_json_unescape. */
al_json_type al_json_string_rest(al_json_scanner *sc, al_json_token *tok, size_t i) {
  const unsigned char *s = (const unsigned char *)sc->s;
  size_t n = sc->n, open = sc->pos, saved = 0;
  int esc = 0;
  for (;;) {
    unsigned char c;
    i = skip_plain(s, i, n);
    if (i >= n) return al_json_fail(sc, open, "unterminated string (found end of input)");
    c = s[i];
    if (c == '"') break;
    if (c == '\\') {
      unsigned char e;
      long u, lo;
      esc = 1;
      if (i + 1 >= n) return al_json_fail(sc, open, "unterminated string (found end of input)");
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
            if (i + 2 + h >= n) return al_json_fail(sc, open, "unterminated string (found end of input)");
            return al_json_fail(sc, i, "invalid \\u escape: expected 4 hex digits");
          }
          if (u >= 0xDC00 && u <= 0xDFFF)
            return al_json_fail(sc, i, "lone surrogate \\u%04lX (a low surrogate needs a high one before it)", u);
          if (u >= 0xD800 && u <= 0xDBFF) {
            if (n - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' || (lo = hex4(s + i + 8, n - i - 8)) < 0xDC00 ||
                lo > 0xDFFF)
              return al_json_fail(sc, i, "lone surrogate \\u%04lX (a high surrogate needs a \\uDC00-\\uDFFF after it)", u);
            i += 12;
            saved += 12 - 4;
            continue;
          }
          i += 6;
          saved += 6 - utf8_len((unsigned long)u);
          continue;
        default:
          if (e >= 0x21 && e <= 0x7E) return al_json_fail(sc, i, "invalid escape '\\%c' in a string", e);
          return al_json_fail(sc, i, "invalid escape (backslash before byte 0x%02X) in a string", e);
      }
    }
    if (c < 0x20) return al_json_fail(sc, i, "control character 0x%02X in a string (it must be escaped)", c);
    {
      size_t k = al_json_utf8_seq(s + i, n - i);
      if (k == 0) return al_json_fail(sc, i, "invalid UTF-8 (byte 0x%02X) in a string", c);
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

/* After al_json_string_rest: every escape is valid here. */
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

