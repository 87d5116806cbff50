/* Checks on text that ends up in headers, URLs or bodies. */
#ifndef ALEPHANT_CORE_TEXT_H
#define ALEPHANT_CORE_TEXT_H

#include <stddef.h>

#include "error.h"

/* A header value may not hold CR, LF, NUL, any other C0 control character or DEL:
 * one of them would let a value start a new header or a new request. The message
 * names the byte's position, never the value (it may be a secret). */
int al_check_header_value(const char *s, size_t n, const char *field, al_error *err);

/* RFC 9110 token (tchar+): what a header name or a method may consist of, non-empty. */
int al_is_http_token(const char *s, size_t n);

/* A header name is a token. The message ("<field>: a header name must be a non-empty HTTP
 * token ...") does not echo the name: it may be anything. */
int al_check_header_name(const char *s, size_t n, const char *field, al_error *err);

/* n bytes of a and b equal but for the case of ASCII letters (header and host names;
 * no locale). Inline: response header names are compared with it per response. */
static inline int al_ascii_ieq(const char *a, const char *b, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    char c = a[i], d = b[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (d >= 'A' && d <= 'Z') d = (char)(d - 'A' + 'a');
    if (c != d) return 0;
  }
  return 1;
}

/* Length in Unicode code points of valid UTF-8, or -1 when the bytes are not UTF-8. */
long al_utf8_length(const char *s, size_t n);

/* min <= code points <= max, on valid UTF-8. */
int al_check_length(const char *s, size_t n, long min, long max, const char *field, al_error *err);

#endif
