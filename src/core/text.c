#include "text.h"

#include <stdint.h>
#include <string.h>

static int is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int al_is_http_token(const char *s, size_t n) {
  size_t i;
  if (n == 0) return 0;
  for (i = 0; i < n; i++)
    if (!is_tchar((unsigned char)s[i])) return 0;
  return 1;
}

int al_check_header_name(const char *s, size_t n, const char *field, al_error *err) {
  if (al_is_http_token(s, n)) return 0;
  return al_fail(err, AL_ERR_VALIDATION, field,
                 "%s: a header name must be a non-empty HTTP token (letters, digits and !#$%%&'*+-.^_`|~)", field);
}

/* A byte below 0x20 or equal to 0x7f in the 8 bytes of w (bit tricks, one word at a time). */
static int word_has_control(uint64_t w) {
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  uint64_t del = w ^ (ones * 0x7f);
  return (((w - ones * 0x20) & ~w) | ((del - ones) & ~del)) & highs ? 1 : 0;
}

int al_check_header_value(const char *s, size_t n, const char *field, al_error *err) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) { /* the common case: no control byte in the whole word */
    uint64_t w;
    memcpy(&w, s + i, 8);
    if (word_has_control(w)) break;
  }
  for (; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7f) {
      const char *what = c == '\r' ? "CR" : c == '\n' ? "LF" : c == 0 ? "NUL" : "a control character";
      return al_fail(err, AL_ERR_VALIDATION, field,
                     "%s must not contain %s (byte 0x%02X at position %zu): it would end up in an HTTP header",
                     field, what, c, i + 1);
    }
  }
  return 0;
}

long al_utf8_length(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  long count = 0;
  while (i < n) {
    unsigned char c = p[i];
    size_t len, k;
    unsigned long cp;
    if (c < 0x80) { len = 1; cp = c; }
    else if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return -1;
    if (i + len > n) return -1;
    for (k = 1; k < len; k++) {
      if ((p[i + k] & 0xC0) != 0x80) return -1;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    /* overlong forms, surrogates and values past U+10FFFF are not UTF-8 */
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return -1;
    i += len;
    count++;
  }
  return count;
}

int al_check_length(const char *s, size_t n, long min, long max, const char *field, al_error *err) {
  long len = al_utf8_length(s, n);
  if (len < 0) return al_fail(err, AL_ERR_VALIDATION, field, "%s must be valid UTF-8 text", field);
  if (len < min) {
    if (min == 1) return al_fail(err, AL_ERR_VALIDATION, field, "%s must not be empty", field);
    return al_fail(err, AL_ERR_VALIDATION, field, "%s must be at least %ld characters long, got %ld", field, min, len);
  }
  if (len > max)
    return al_fail(err, AL_ERR_VALIDATION, field, "%s must be at most %ld characters long, got %ld", field, max, len);
  return 0;
}
