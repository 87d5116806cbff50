/* URLs from a base URL, a catalog entry and checked parameter values. */
#ifndef ALEPHANT_CORE_URL_H
#define ALEPHANT_CORE_URL_H

#include <stddef.h>

#include "catalog.h"

/* RFC 3986 percent-encoding: everything but ALPHA / DIGIT / "-" / "." / "_" / "~" is
 * encoded, so "/", "?", "#", "%" and spaces in a value can never change the route.
 * Writes at most cap bytes (no NUL) and returns the length the full encoding needs. */
size_t al_percent_encode(const char *s, size_t n, char *out, size_t cap);

/* base (trailing slashes ignored) + the path with its {placeholders} filled in +
 * "?" + the query parameters that are present, in catalog order. snprintf-style:
 * writes at most cap bytes including a NUL and returns the length the URL needs
 * (excluding the NUL), so a caller can measure with cap = 0 first. values[i] belongs to
 * e->params[i] and must have passed al_endpoint_validate. */
size_t al_build_url(char *out, size_t cap, const char *base, size_t base_n, const al_endpoint *e,
                    const al_value *values);

/* ---- The URL policy: one owner for the client's base URLs and every request --------
 * scheme and host come from a URL parser (the transport's libcurl one, so the check sees
 * the URL exactly as it will be used: src/transport/urlcheck.h). */

/* localhost, an IPv4 literal in 127.0.0.0/8 (not a name such as 127.example.com), or
 * the IPv6 loopback ([::1] or ::1). */
int al_host_is_loopback(const char *host);

/* The scheme is http or https; plain http only to a loopback host (the token would
 * otherwise travel in clear) unless allow_insecure_http. host may be NULL (none).
 * Errors are kind config with err.field = field, and show the scheme and the host only
 * (through al_url_show), never a path, query, fragment or user info. */
int al_url_policy(const char *scheme, const char *host, int allow_insecure_http, const char *field, al_error *err);

/* A piece of a URL (scheme, host) as a message may show it: control bytes as '?', at
 * most 64 bytes, and redacted like a token when it looks like one (base_url = "ftp://"
 * .. token makes the token the host). Always NUL-terminates when cap > 0. */
void al_url_show(const char *s, size_t n, char *out, size_t cap);

/* Input quoted in a validation message: al_url_show into out (AL_QUOTE_CAP bytes: an
 * input of up to 43 bytes whole, a longer one cut to 40 and "...", control bytes as '?',
 * a token redacted); returns out. */
#define AL_QUOTE_CAP 44
const char *al_quote(const char *s, size_t n, char out[AL_QUOTE_CAP]);

#endif
