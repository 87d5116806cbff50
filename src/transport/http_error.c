/* A failed transfer as one line (src/transport/http_private.h): what failed, the
 * host, and libcurl's own explanation, with the error kind the retry logic reads. */
#include "http_private.h"

/* Copies libcurl's message as one line without trailing blanks. */
static void one_line(char *dst, size_t cap, const char *src) {
  size_t i = 0;
  for (; *src && i + 1 < cap; src++) dst[i++] = ((unsigned char)*src < 0x20 || *src == 0x7f) ? ' ' : *src;
  while (i > 0 && dst[i - 1] == ' ') i--;
  dst[i] = '\0';
}

static al_error_kind classify(CURLcode rc) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      return AL_ERR_TIMEOUT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
#if LIBCURL_VERSION_NUM >= 0x074d00
    case CURLE_SSL_CLIENTCERT:
#endif
      return AL_ERR_TLS;
    case CURLE_URL_MALFORMAT:
      return AL_ERR_CONFIG;
    /* CURLE_UNSUPPORTED_PROTOCOL cannot be our URL (check_url ran): it is the server's
     * answer, such as HTTP/0.9, a network-level failure like any malformed reply */
    default: /* refused, reset, DNS, truncated (CURLE_PARTIAL_FILE), malformed replies... */
      return AL_ERR_NETWORK;
  }
}

/* One line: what failed, the host, and libcurl's own explanation. Never a header, a
 * body, a path or a query string (any of them may carry a secret). */
int al_xfer_error(const xfer *x, CURLcode rc, al_error *err) {
  char detail[CURL_ERROR_SIZE];
  one_line(detail, sizeof detail, x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
  if (x->too_large == 1)
    return al_fail(err, AL_ERR_TOO_LARGE, "", "the response from %s is larger than max_body (%zu bytes)", x->host,
                   x->max_body);
  if (x->too_large == 2)
    return al_fail(err, AL_ERR_TOO_LARGE, "", "the response headers from %s exceed %zu bytes", x->host,
                   MAX_HEADER_BYTES);
  if (x->too_large == 3)
    return al_fail(err, AL_ERR_TOO_LARGE, "", "the response from %s has more than %d distinct header names", x->host,
                   MAX_HEADER_FIELDS);
  if (x->oom) return al_fail(err, AL_ERR_NETWORK, "", "out of memory reading the response from %s", x->host);
  switch (classify(rc)) {
    case AL_ERR_TIMEOUT: {
      curl_off_t connected = 0;
      /* never connected, and connect_timeout was the shorter limit: say which one fired */
      if (x->easy && curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &connected) == CURLE_OK && connected == 0 &&
          x->connect_timeout_ms < x->timeout_ms)
        return al_fail(err, AL_ERR_TIMEOUT, "", "connecting to %s timed out after %ld ms (connect_timeout): %s",
                       x->host, x->connect_timeout_ms, detail);
      return al_fail(err, AL_ERR_TIMEOUT, "", "request to %s timed out after %ld ms: %s", x->host, x->timeout_ms,
                     detail);
    }
    case AL_ERR_TLS:
      if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
        return al_fail(err, AL_ERR_TLS, "",
                       "TLS with %s failed: %s (the certificate is not trusted: set cafile or capath "
                       "to the CA that signed it)",
                       x->host, detail);
      return al_fail(err, AL_ERR_TLS, "", "TLS with %s failed: %s", x->host, detail);
    case AL_ERR_CONFIG:
      return al_fail(err, AL_ERR_CONFIG, "url", "cannot send a request to %s: %s", x->host, detail);
    default:
      return al_fail(err, AL_ERR_NETWORK, "", "request to %s failed: %s", x->host, detail);
  }
}
