#include "proxy.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/text.h"
#include "../core/url.h"

static const char *const proxy_schemes[] = {"http", "https", "socks4", "socks4a", "socks5", "socks5h", NULL};

void al_proxy_env_read(al_proxy_env *env) {
  env->http_proxy = getenv("http_proxy");
  env->all_proxy = getenv("all_proxy");
  env->ALL_PROXY = getenv("ALL_PROXY");
  env->no_proxy = getenv("no_proxy");
  env->NO_PROXY = getenv("NO_PROXY");
}

/* The scheme and host of a proxy URL into out, for messages (never user info, port,
 * path or query); a URL without a scheme is read as http, as libcurl does. */
static void proxy_label(const char *proxy, char *out, size_t cap) {
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL;
  snprintf(out, cap, "%s", "(an unparsable proxy URL)");
  if (u && curl_url_set(u, CURLUPART_URL, proxy, CURLU_NON_SUPPORT_SCHEME | CURLU_DEFAULT_SCHEME) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
    char shown_scheme[72], shown_host[72];
    al_url_show(scheme, strlen(scheme), shown_scheme, sizeof shown_scheme);
    al_url_show(host, strlen(host), shown_host, sizeof shown_host);
    snprintf(out, cap, "%s://%s", shown_scheme, shown_host);
  }
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
}

int al_proxy_check(const char *proxy, al_error *err) {
  CURLU *u;
  char *scheme = NULL, *host = NULL;
  int ok = 0, i;
  if (proxy == NULL || proxy[0] == '\0') return 0; /* "" = never a proxy */
  u = curl_url();
  if (u == NULL) return al_fail(err, AL_ERR_CONFIG, "proxy", "out of memory checking the proxy URL");
  if (curl_url_set(u, CURLUPART_URL, proxy, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] != '\0') {
    for (i = 0; proxy_schemes[i]; i++)
      if (strcmp(scheme, proxy_schemes[i]) == 0) ok = 1;
  }
  if (!ok) {
    char label[160];
    if (scheme && host)
      proxy_label(proxy, label, sizeof label);
    else
      snprintf(label, sizeof label, "%s", "a value that is not such a URL (not shown: it may hold credentials)");
    al_fail(err, AL_ERR_CONFIG, "proxy",
            "proxy must be \"\" (no proxy) or an http://, https://, socks4://, socks4a://, socks5:// or socks5h:// URL "
            "with a host, got %s",
            label);
  }
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return ok ? 0 : -1;
}

int al_proxy_no_proxy_matches(const char *list, const char *host) {
  size_t hn = strlen(host);
  const char *p = list;
  while (*p) {
    size_t n;
    while (*p == ',' || *p == ' ' || *p == '\t') p++;
    n = strcspn(p, ", \t");
    if (n == 1 && p[0] == '*') return 1;
    if (n > 0) {
      const char *e = p;
      size_t en = n;
      if (e[0] == '.') e++, en--;
      if (en > 0 && ((hn == en && al_ascii_ieq(host, e, en)) ||
                     (hn > en && host[hn - en - 1] == '.' && al_ascii_ieq(host + hn - en, e, en))))
        return 1;
    }
    p += n;
  }
  return 0;
}

/* The proxy a plain-http request to `host` would take, as libcurl reads the variables
 * for http: http_proxy, then all_proxy, then ALL_PROXY (the first one set decides, ""
 * meaning none), minus no_proxy (else NO_PROXY). NULL when none. */
static const char *http_proxy_for(const char *option, const al_proxy_env *env, const char *host) {
  const char *px = option, *np;
  if (px == NULL) px = env->http_proxy;
  if (px == NULL) px = env->all_proxy;
  if (px == NULL) px = env->ALL_PROXY;
  if (px == NULL || px[0] == '\0') return NULL;
  np = env->no_proxy ? env->no_proxy : env->NO_PROXY;
  if (np && al_proxy_no_proxy_matches(np, host)) return NULL;
  return px;
}

int al_proxy_decide(const char *option, int allow_http_through_proxy, const al_proxy_env *env, int plain,
                    int loopback, const char *target, const char *shown_host, al_proxy_plan *plan, al_error *err) {
  plan->no_proxy_at_all = 0;
  plan->proxy = NULL;
  if (loopback) { /* the token stays on this machine: never through a proxy */
    plan->no_proxy_at_all = 1;
    return 0;
  }
  if (plain) {
    const char *px = http_proxy_for(option, env, target);
    char label[160];
    if (px == NULL) { /* decided here, not left to libcurl's own reading of the environment */
      plan->proxy = "";
      return 0;
    }
    if (!allow_http_through_proxy) {
      proxy_label(px, label, sizeof label);
      return al_fail(err, AL_ERR_CONFIG, "proxy",
                     "refusing plain http:// to %s through the proxy %s: the proxy would see the token in clear "
                     "(use https://, exclude the host with no_proxy or proxy = \"\", or set "
                     "allow_http_through_proxy = true)",
                     shown_host, label);
    }
    plan->proxy = px;
    return 0;
  }
  plan->proxy = option; /* https: the option, else libcurl's environment; CONNECT either way */
  return 0;
}
