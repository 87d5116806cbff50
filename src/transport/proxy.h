/* Which proxy a request may take (the rules in http.h's al_http_options.proxy, and the
 * README's Security section). Plain C; the environment comes in as values, so C tests
 * can check every rule.
 *
 * - Loopback URLs never go through a proxy.
 * - https: the `proxy` option, else libcurl's own reading of the environment
 *   (https_proxy, all_proxy, no_proxy, ...), always through a CONNECT tunnel.
 * - Plain http to another host: the proxy is decided here (the option, else http_proxy,
 *   all_proxy, ALL_PROXY, the first one set, minus no_proxy/NO_PROXY matches) and, when
 *   there is one, refused unless allow_http_through_proxy: the proxy would read the token. */
#ifndef ALEPHANT_TRANSPORT_PROXY_H
#define ALEPHANT_TRANSPORT_PROXY_H

#include "../core/error.h"

/* The proxy variables libcurl reads for plain http (NULL when unset). */
typedef struct {
  const char *http_proxy, *all_proxy, *ALL_PROXY, *no_proxy, *NO_PROXY;
} al_proxy_env;

/* Reads the process environment into *env. */
void al_proxy_env_read(al_proxy_env *env);

typedef struct {
  int no_proxy_at_all; /* set CURLOPT_NOPROXY "*" (loopback) */
  const char *proxy;   /* NULL: leave libcurl's default; else CURLOPT_PROXY ("" = none) */
} al_proxy_plan;

/* Decides for one request. option: the transport's `proxy` (NULL = environment);
 * plain/loopback/target: the URL's scheme is http, its host is loopback, the host libcurl
 * connects to; shown_host: the host as messages show it. 0 with *plan, or -1 with a
 * config error (plain http through a proxy without allow_http_through_proxy) whose
 * message shows the proxy's scheme and host only. */
int al_proxy_decide(const char *option, int allow_http_through_proxy, const al_proxy_env *env, int plain,
                    int loopback, const char *target, const char *shown_host, al_proxy_plan *plan, al_error *err);

/* A `proxy` option: "" or an http, https, socks4, socks4a, socks5 or socks5h URL with a
 * host. The message shows the scheme and host, never user info, path or query. */
int al_proxy_check(const char *proxy, al_error *err);

/* A no_proxy list (names separated by commas or blanks; "*" alone = every host) names
 * host or a domain above it. Deliberately no more (no CIDR): a miss only means that a
 * plain-http request is refused, never that it is sent through a proxy. */
int al_proxy_no_proxy_matches(const char *list, const char *host);

#endif
