/* URLs as libcurl parses them, checked against the URL policy (al_url_policy in
 * src/core/url.h). One function for the client's base URLs (core.check_base_url, at
 * alephant.new) and for every request the transport sends, so both see a URL exactly as
 * libcurl will use it. */
#ifndef ALEPHANT_TRANSPORT_URLCHECK_H
#define ALEPHANT_TRANSPORT_URLCHECK_H

#include <stddef.h>

#include "../core/error.h"

#define AL_URL_ALLOW_INSECURE 1u /* plain http:// to a host other than loopback */
#define AL_URL_BASE 2u           /* a base URL: no control characters, query or fragment */

/* 0 when url (n bytes) may be used; *used_n (may be NULL) gets its length without
 * trailing slashes for AL_URL_BASE, else n; host (may be NULL, host_cap bytes) gets the
 * host as messages may show it (al_url_show). -1 with *err: kind config, err.field =
 * field; the message shows the scheme and host only, never path, query or user info. */
int al_url_check(const char *url, size_t n, unsigned flags, const char *field, char *host, size_t host_cap,
                 size_t *used_n, al_error *err);

/* The host of an absolute URL as a message may show it (al_url_show: a token-shaped
 * host redacted, control bytes as '?'), parsed as libcurl parses it; never the scheme's
 * user info, port, path, query or fragment. 0, or -1 (out left empty) for a relative or
 * unparsable URL or one without a host. */
int al_url_shown_host(const char *url, char *out, size_t cap);

/* For the proxy rules, after al_url_check accepted url: *plain (the scheme is http),
 * *loopback (al_host_is_loopback) and the host as libcurl will connect to it, into host
 * (cap bytes; a longer host counts as not loopback and is cut). 0, or -1 when libcurl
 * cannot parse the URL. */
int al_url_route(const char *url, int *plain, int *loopback, char *host, size_t cap);

#endif
