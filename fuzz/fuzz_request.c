/* libFuzzer harness for request building (src/core/params.c, url.c, text.c, uuid.c,
 * number.c, enums.c): the first byte picks a catalog entry, the rest is split on 0xFF
 * into parameter values. Checked: validation never crashes; when it passes, the URL
 * measures and builds consistently, stays under the endpoint's base URL and path
 * prefix, and no value byte outside RFC 3986's unreserved set appears raw (so "/",
 * "?", "#", "%", CR, LF can never change the route or the request line); a window
 * that passes has its ends parsed (al_value.t) and in order. Unknown parameter hints,
 * endpoint hints, the URL policy (al_url_policy, al_url_show) and the header-name rule
 * are exercised on the raw input too. */

#include "fuzz.h"
#include "catalog.h"
#include "text.h"
#include "url.h"

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
  const char *field;
  size_t pos = 1, i, need, prefix, len;
  if (size < 1) return 0;
  e = al_catalog_at(data[0] % al_catalog_count());
  copy = fuzz_copy(data, size);
  if (!copy) return 0;
  memset(values, 0, sizeof values);
  for (i = 0; i < e->nparams && pos < size && fuzz_field(copy, size, &pos, &field, &len); i++) {
    unsigned char tag = len ? (unsigned char)field[0] : 0xFF; /* an empty field: absent */
    /* tag chooses the value's type: mostly strings, sometimes numbers or absent */
    if (tag % 5 == 0) continue;
    if (tag % 5 == 1 && len >= 8) {
      double d;
      memcpy(&d, field, sizeof d);
      values[i].type = AL_V_NUMBER;
      values[i].d = d;
    } else if (tag % 5 == 2 && len >= 8) {
      values[i].type = AL_V_INTEGER;
      memcpy(&values[i].i, field, sizeof values[i].i);
    } else {
      values[i].type = AL_V_STRING;
      values[i].s = field + (len ? 1 : 0);
      values[i].n = len ? len - 1 : 0;
    }
  }
  if (al_endpoint_validate(e, values, &err) == 0) {
    /* a window passed: each end was parsed once into .t, and the ends are in order */
    int a = al_endpoint_param(e, "from", 4), b = al_endpoint_param(e, "to", 2);
    if (a >= 0 && b >= 0 && values[a].type == AL_V_STRING)
      REQUIRE(values[b].type == AL_V_STRING && values[a].t <= values[b].t);
    a = al_endpoint_param(e, "start", 5), b = al_endpoint_param(e, "end", 3);
    if (a >= 0 && b >= 0 && values[a].type == AL_V_STRING)
      REQUIRE(values[b].type == AL_V_STRING && values[a].t < values[b].t);
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
  /* the URL policy's display of a scheme or host: bounded, one line, a token redacted */
  {
    char shown[72], *nul = memchr(copy, 0, size);
    size_t k, n;
    al_url_show(copy, size, shown, sizeof shown);
    n = strlen(shown);
    REQUIRE(n < sizeof shown && n <= 64 + 4);
    for (k = 0; k < n; k++) REQUIRE((unsigned char)shown[k] >= 0x20 && shown[k] != 0x7f);
    if (nul == NULL && size > 1) { /* the input as scheme and host, split at its middle */
      char *scheme = (char *)malloc(size + 1), *host;
      REQUIRE(scheme != NULL);
      memcpy(scheme, copy, size);
      scheme[size] = scheme[size / 2] = '\0';
      host = scheme + size / 2 + 1;
      if (al_url_policy(scheme, host, 0, "url", &err) == 0)
        REQUIRE(strcmp(scheme, "https") == 0 || (strcmp(scheme, "http") == 0 && al_host_is_loopback(host)));
      free(scheme);
    }
    if (al_check_header_name(copy, size, "headers", &err) == 0)
      for (k = 0; k < size; k++) REQUIRE((unsigned char)copy[k] > 0x20 && (unsigned char)copy[k] < 0x7f);
  }
  (void)al_unknown_param(e, copy, size, &err);
  (void)al_unknown_endpoint(copy, size, &err);
  (void)al_utf8_length(copy, size);
  free(copy);
  return 0;
}
