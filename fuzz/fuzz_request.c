/* libFuzzer harness for request building (src/core/params.c, url.c, text.c, uuid.c,
 * number.c, enums.c): the first byte picks a catalog entry, the rest is split on 0xFF
 * into parameter values. Checked: validation never crashes; when it passes, the URL
 * measures and builds consistently, stays under the endpoint's base URL and path
 * prefix, and no value byte outside RFC 3986's unreserved set appears raw (so "/",
 * "?", "#", "%", CR, LF can never change the route or the request line). Unknown
 * parameter hints and endpoint hints are exercised on the raw input too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "text.h"
#include "url.h"

#define REQUIRE(c)                                                              \
  do {                                                                          \
    if (!(c)) {                                                                 \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #c);  \
      abort();                                                                  \
    }                                                                           \
  } while (0)

static int unreserved_or_structural(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~' || c == '%' || c == '/' || c == '?' || c == '&' || c == '=' || c == ':';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char base[] = "https://api.test/";
  const al_endpoint *e;
  al_value values[32];
  al_error err;
  char *copy, *url;
  size_t pos = 1, i, need, prefix;
  if (size < 1) return 0;
  e = al_catalog_at(data[0] % al_catalog_count());
  copy = (char *)malloc(size);
  if (!copy) return 0;
  memcpy(copy, data, size);
  memset(values, 0, sizeof values);
  for (i = 0; i < e->nparams && pos < size; i++) {
    size_t start = pos, len;
    unsigned char tag = (unsigned char)copy[pos];
    while (pos < size && (unsigned char)copy[pos] != 0xFF) pos++;
    len = pos - start;
    pos++; /* skip the separator */
    /* tag chooses the value's type: mostly strings, sometimes numbers or absent */
    if (tag % 5 == 0) continue;
    if (tag % 5 == 1 && len >= 8) {
      double d;
      memcpy(&d, copy + start, sizeof d);
      values[i].type = AL_V_NUMBER;
      values[i].d = d;
    } else if (tag % 5 == 2 && len >= 8) {
      values[i].type = AL_V_INTEGER;
      memcpy(&values[i].i, copy + start, sizeof values[i].i);
    } else {
      values[i].type = AL_V_STRING;
      values[i].s = copy + start + (len ? 1 : 0);
      values[i].n = len ? len - 1 : 0;
    }
  }
  if (al_endpoint_validate(e, values, &err) == 0) {
    need = al_build_url(NULL, 0, base, sizeof base - 1, e, values);
    url = (char *)malloc(need + 1);
    REQUIRE(url != NULL);
    REQUIRE(al_build_url(url, need + 1, base, sizeof base - 1, e, values) == need);
    REQUIRE(strlen(url) == need);
    /* base without its trailing slash, then the template's text up to the first placeholder */
    REQUIRE(memcmp(url, base, sizeof base - 2) == 0);
    prefix = strcspn(e->path, "{");
    REQUIRE(memcmp(url + sizeof base - 2, e->path, prefix) == 0);
    for (i = 0; i < need; i++) REQUIRE(unreserved_or_structural((unsigned char)url[i]));
    REQUIRE(al_check_header_value(url, need, "url", NULL) == 0);
    /* exactly as many '/' as the base and the template have: values cannot add segments */
    {
      size_t slashes = 0, expected = 0;
      for (i = 0; i < need && url[i] != '?'; i++) slashes += url[i] == '/';
      for (i = 0; i < sizeof base - 2; i++) expected += base[i] == '/';
      for (i = 0; e->path[i]; i++) expected += e->path[i] == '/';
      REQUIRE(slashes == expected);
    }
    free(url);
  } else {
    REQUIRE(err.message[0] != '\0');
  }
  (void)al_unknown_param(e, copy, size, &err);
  (void)al_unknown_endpoint(copy, size, &err);
  (void)al_utf8_length(copy, size);
  free(copy);
  return 0;
}
