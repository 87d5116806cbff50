#include "urlcheck.h"

#include <curl/curl.h>
#include <string.h>

#include "../core/text.h"
#include "../core/url.h"

int al_url_check(const char *url, size_t n, unsigned flags, const char *field, char *host_out, size_t host_cap,
                 size_t *used_n, al_error *err) {
  CURLU *u;
  char *scheme = NULL, *host = NULL;
  int rc;
  if (host_out && host_cap) host_out[0] = '\0';
  if ((flags & AL_URL_BASE) && al_check_header_value(url, n, field, err)) {
    err->kind = AL_ERR_CONFIG;
    return -1;
  }
  if (strlen(url) != n) return al_fail(err, AL_ERR_CONFIG, field, "%s must not contain NUL bytes", field);
  u = curl_url();
  if (u == NULL) return al_fail(err, AL_ERR_NETWORK, "", "out of memory parsing the URL");
  /* any scheme parses, so that a wrong one can be named */
  if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
    rc = al_fail(err, AL_ERR_CONFIG, field, "%s must be an absolute http:// or https:// URL", field);
    goto done;
  }
  if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) host = NULL;
  if (host && host_out) al_url_show(host, strlen(host), host_out, host_cap);
  rc = al_url_policy(scheme, host, (flags & AL_URL_ALLOW_INSECURE) != 0, field, err);
  if (rc == 0 && (flags & AL_URL_BASE) && strpbrk(url, "?#")) {
    char shown[72];
    al_url_show(host, strlen(host), shown, sizeof shown);
    rc = al_fail(err, AL_ERR_CONFIG, field,
                 "%s must be an http:// or https:// URL without query or fragment, got %s://%s/... (the rest is not "
                 "shown)",
                 field, scheme, shown);
  }
  if (rc == 0 && (flags & AL_URL_BASE)) {
    /* user:password@ in a base URL would go to every request (and into logs); the token is
       the credential */
    char *user = NULL, *password = NULL;
    int has_user = curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK;
    int has_password = curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK;
    curl_free(user);
    curl_free(password);
    if (has_user || has_password) {
      char shown[72];
      al_url_show(host ? host : "", host ? strlen(host) : 0, shown, sizeof shown);
      rc = al_fail(err, AL_ERR_CONFIG, field,
                   "%s must not contain user information (user:password@), got %s://...@%s: the client's token is "
                   "its credential",
                   field, scheme, shown);
    }
  }
done:
  if (rc == 0 && used_n) {
    size_t k = n;
    if (flags & AL_URL_BASE)
      while (k > 0 && url[k - 1] == '/') k--;
    *used_n = k;
  }
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return rc;
}

int al_url_shown_host(const char *url, char *out, size_t cap) {
  CURLU *u = curl_url();
  char *host = NULL;
  int rc = -1;
  if (cap) out[0] = '\0';
  if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] != '\0') {
    al_url_show(host, strlen(host), out, cap);
    rc = 0;
  }
  curl_free(host);
  curl_url_cleanup(u);
  return rc;
}

int al_url_route(const char *url, int *plain, int *loopback, char *host_out, size_t cap) {
  CURLU *u = curl_url();
  char *scheme = NULL, *host = NULL;
  int rc = -1;
  *plain = *loopback = 0;
  if (cap) host_out[0] = '\0';
  if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
    size_t n = strlen(host);
    *plain = strcmp(scheme, "http") == 0;
    *loopback = n < cap && al_host_is_loopback(host);
    if (cap) {
      size_t k = n < cap ? n : cap - 1;
      memcpy(host_out, host, k);
      host_out[k] = '\0';
    }
    rc = 0;
  }
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return rc;
}
