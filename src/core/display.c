#include "display.h"

#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p, size_t n, unsigned long *cp) {
  size_t len, k;
  unsigned long c = p[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  if (c >= 0xC2 && c <= 0xDF) len = 2, c &= 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, c &= 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, c &= 0x07;
  else return 0;
  if (len > n) return 0;
  for (k = 1; k < len; k++) {
    if ((p[k] & 0xC0) != 0x80) return 0;
    c = (c << 6) | (p[k] & 0x3F);
  }
  if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) || (c >= 0xD800 && c <= 0xDFFF))
    return 0;
  *cp = c;
  return len;
}

size_t al_show_char(const char *s, size_t n, al_show_mode mode, size_t *len, char out[8]) {
  const unsigned char *p = (const unsigned char *)s;
  unsigned long cp = 0;
  size_t l = n ? utf8_len(p, n, &cp) : 0;
  if (l == 0) { /* not UTF-8: the byte itself, escaped */
    *len = 1;
    return (size_t)snprintf(out, 8, "\\x%02X", p[0]);
  }
  *len = l;
  if (cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp <= 0x9F)) return 0;
  if (cp == '\n' || cp == '\r' || cp == '\t') {
    if (mode == AL_SHOW_LINE) return (size_t)snprintf(out, 8, " ");
    if (mode == AL_SHOW_LINES && cp != '\r') return 0;
    return (size_t)snprintf(out, 8, "\\%c", cp == '\n' ? 'n' : cp == '\r' ? 'r' : 't');
  }
  if (cp < 0x80) return (size_t)snprintf(out, 8, "\\x%02lX", cp);
  return (size_t)snprintf(out, 8, "\\u%04lX", cp);
}

const char *al_find(const char *hay, size_t hn, const char *needle, size_t nn) {
  const char *p = hay, *end = hay + hn;
  if (nn == 0 || nn > hn) return NULL;
  while ((size_t)(end - p) >= nn) {
    p = memchr(p, (unsigned char)needle[0], (size_t)(end - p) - nn + 1);
    if (p == NULL) return NULL;
    if (memcmp(p, needle, nn) == 0) return p;
    p++;
  }
  return NULL;
}
