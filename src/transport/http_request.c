/* One transfer's set-up (src/transport/http_private.h): the request checked (URL
 * policy, method, headers, timeout), an easy handle taken and set up for it (only what
 * changed since its last request: see easy_state), the proxy options for its route,
 * the header list and the parsed URL; then the handle goes on the transport's multi. */
#include "http_private.h"

#include <stdio.h>

#include "../core/text.h"
#include "../core/url.h"
#include "proxy.h"
#include "urlcheck.h"

static int ieq(const char *a, size_t n, const char *lit) { return strlen(lit) == n && al_ascii_ieq(a, lit, n); }

/* A blocking request starts with the buffers the previous one left (see SPARE_MAX). */
static void xfer_take_spares(al_http *h, xfer *x) {
  size_t bytes;
  x->body = spare_take((void **)&h->spare_body, &h->spare_body_cap, &x->cap);
  x->ha = spare_take((void **)&h->spare_ha, &h->spare_ha_cap, &x->ha_cap);
  x->hn = spare_take((void **)&h->spare_hn, &h->spare_hn_cap, &bytes);
  x->caphn = bytes / sizeof *x->hn;
}

int al_http_check_header(const al_http_header *hdr, al_error *err) {
  char label[80];
  if (al_check_header_name(hdr->name, hdr->name_len, "headers", err)) return -1;
  if (al_check_header_value(hdr->value, hdr->value_len, "headers", err) == 0) return 0;
  /* refused: the message names the header (the name is a token, safe to show; the value
   * never is, it may be a secret), so check again with that label */
  snprintf(label, sizeof label, "header %.*s", (int)(hdr->name_len > 64 ? 64 : hdr->name_len), hdr->name);
  if (al_check_header_value(hdr->value, hdr->value_len, label, err)) {
    snprintf(err->field, sizeof err->field, "headers");
    return -1;
  }
  return 0;
}

/* The URL policy (src/transport/urlcheck.h); x->host gets the host for messages, and
 * *plain, *loopback and target (the host libcurl connects to) what the proxy rules need. */
/* The length of url's scheme://authority, or 0 when it has none. */
static size_t origin_length(const char *url) {
  const char *sep = strstr(url, "://");
  if (sep == NULL || sep == url) return 0;
  return (size_t)(sep + 3 - url) + strcspn(sep + 3, "/?#");
}

static int check_url(al_http *h, const char *url, xfer *x, int *plain, int *loopback, char *target, size_t cap,
                     al_error *err) {
  url_origin *o = &h->last;
  size_t on = origin_length(url);
  if (o->origin && on == o->origin_n && memcmp(url, o->origin, on) == 0) {
    copy_str(x->host, sizeof x->host, o->host);
    copy_str(target, cap, o->target);
    *plain = o->plain;
    *loopback = o->loopback;
    return 0;
  }
  if (al_url_check(url, strlen(url), h->allow_insecure_http ? AL_URL_ALLOW_INSECURE : 0, "url", x->host,
                   sizeof x->host, NULL, err))
    return -1;
  if (al_url_route(url, plain, loopback, target, cap))
    return al_fail(err, AL_ERR_CONFIG, "url", "url must be an absolute http:// or https:// URL");
  free(o->origin); /* remember this origin's decision (out of memory: nothing cached) */
  o->origin = on ? malloc(on) : NULL;
  if (o->origin) {
    memcpy(o->origin, url, on);
    o->origin_n = on;
    copy_str(o->host, sizeof o->host, x->host);
    copy_str(o->target, sizeof o->target, target);
    o->plain = *plain;
    o->loopback = *loopback;
  }
  return 0;
}

/* ---- proxies (src/transport/proxy.h) -------------------------------------------- */

int al_http_check_proxy(const char *proxy, al_error *err) { return al_proxy_check(proxy, err); }

/* Sets the proxy options of one transfer; refuses plain http through a proxy unless
 * the transport allows it. -2 when libcurl refuses an option. */
static int set_proxy(al_http *h, xfer *x, CURL *e, int plain, int loopback, const char *target, al_error *err) {
  al_proxy_env env;
  al_proxy_plan plan;
  al_proxy_env_read(&env);
  if (al_proxy_decide(h->proxy, h->allow_http_through_proxy, &env, plain, loopback, target, x->host, &plan, err))
    return -1;
  if (plan.no_proxy_at_all && curl_easy_setopt(e, CURLOPT_NOPROXY, "*") != CURLE_OK) return -2;
  if (plan.proxy && curl_easy_setopt(e, CURLOPT_PROXY, plan.proxy) != CURLE_OK) return -2;
  return 0;
}

static int add_header(struct curl_slist **list, const char *line) {
  struct curl_slist *l = curl_slist_append(*list, line);
  if (l == NULL) return -1;
  *list = l;
  return 0;
}

/* Whether st's list serves the request's headers (hsrc: name_len, value_len as size_t,
 * then the bytes, per header; headers found there were checked when they went in).
 * 1: it does, as it is or after writing the values that changed into its lines in
 * place (an SDK call's x-request-id is new each time, of the same length); 0: build a
 * new list (another count, name or value length); -1: a changed value is refused
 * (err; the list and hsrc still describe each other). The list's lines are ours to
 * write: curl_slist_append copied them, and libcurl reads them only while a request
 * is sent, never keeps them. */
static int headers_fit(easy_state *st, const al_http_request *req, al_error *err) {
  char *p = st->hsrc;
  struct curl_slist *line = st->hdrs;
  size_t i, nl, vl;
  if (line == NULL || st->hcount != req->nheaders) return 0;
  for (i = 0; i < st->hlead; i++) line = line->next; /* set by the request's header names */
  for (i = 0; i < req->nheaders; i++, line = line->next) {
    const al_http_header *hd = &req->headers[i];
    memcpy(&nl, p, sizeof nl);
    memcpy(&vl, p + sizeof nl, sizeof vl);
    p += 2 * sizeof nl;
    if (nl != hd->name_len || vl != hd->value_len || memcmp(p, hd->name, nl)) return 0;
    if (memcmp(p + nl, hd->value, vl)) { /* vl > 0: the line is "Name: value" */
      if (al_http_check_header(hd, err)) return -1;
      memcpy(line->data + nl + 2, hd->value, vl);
      memcpy(p + nl, hd->value, vl);
    }
    p += nl + vl;
  }
  return 1;
}

/* Remembers the headers st's list was built from; 0, or -1 out of memory. */
static int headers_remember(easy_state *st, const al_http_request *req) {
  size_t i, need = 0;
  char *p;
  for (i = 0; i < req->nheaders; i++) need += 2 * sizeof(size_t) + req->headers[i].name_len + req->headers[i].value_len;
  if (need > st->hsrc_cap) {
    p = realloc(st->hsrc, need);
    if (p == NULL) return -1;
    st->hsrc = p;
    st->hsrc_cap = need;
  }
  p = st->hsrc;
  for (i = 0; i < req->nheaders; i++) {
    const al_http_header *hd = &req->headers[i];
    memcpy(p, &hd->name_len, sizeof hd->name_len);
    memcpy(p + sizeof(size_t), &hd->value_len, sizeof hd->value_len);
    p += 2 * sizeof(size_t);
    memcpy(p, hd->name, hd->name_len);
    memcpy(p + hd->name_len, hd->value, hd->value_len);
    p += hd->name_len + hd->value_len;
  }
  st->hsrc_len = need;
  st->hcount = req->nheaders;
  return 0;
}

/* Checks the request's headers and builds libcurl's list of them into *out. with_body:
 * the request sends a body (REQ_BODY), the only kind libcurl adds Expect or a form
 * Content-Type to; the list is rebuilt when the kind changes (the handle is reset).
 * ua_line (NULL: none): the User-Agent line, first, where libcurl writes its own, and
 * libcurl's Accept line (any media type) after it (none when the list has an Accept);
 * *lead gets the number of these lines, before the request's own. */
static int build_headers(struct curl_slist **out, const al_http_request *req, int with_body, const char *accept_line,
                         const char *ua_line, size_t *lead, al_error *err) {
  size_t i, total = 0;
  int has_expect = 0, has_ctype = 0, has_accept_encoding = 0, has_user_agent = 0, has_accept = 0;
  *lead = 0;
  if (ua_line) { /* as libcurl checks its list: a name in any case, with or without a value */
    for (i = 0; i < req->nheaders; i++) {
      if (ieq(req->headers[i].name, req->headers[i].name_len, "user-agent")) has_user_agent = 1;
      if (ieq(req->headers[i].name, req->headers[i].name_len, "accept")) has_accept = 1;
    }
    /* the caller's own User-Agent replaces the transport's, as it replaces libcurl's
     * CURLOPT_USERAGENT (and libcurl's Accept then stays where it writes it) */
    if (!has_user_agent) {
      if (add_header(out, ua_line) || (!has_accept && add_header(out, "Accept: */*")))
        return al_fail(err, AL_ERR_NETWORK, "", "out of memory building the request");
      *lead = has_accept ? 1 : 2;
    }
  }
  for (i = 0; i < req->nheaders; i++) {
    const al_http_header *hd = &req->headers[i];
    char *line;
    size_t n;
    if (al_http_check_header(hd, err)) return -1;
    total += hd->name_len + hd->value_len + 4; /* "Name: value\r\n" */
    if (total > AL_HTTP_MAX_REQUEST_HEADER_BYTES)
      return al_fail(err, AL_ERR_VALIDATION, "headers",
                     "the request headers exceed %zu bytes (servers refuse larger ones): not sent",
                     AL_HTTP_MAX_REQUEST_HEADER_BYTES);
    if (ieq(hd->name, hd->name_len, "expect")) has_expect = 1;
    if (ieq(hd->name, hd->name_len, "content-type")) has_ctype = 1;
    if (ieq(hd->name, hd->name_len, "accept-encoding")) has_accept_encoding = 1;
    n = hd->name_len + 2 + hd->value_len + 1;
    line = malloc(n);
    if (line == NULL) return al_fail(err, AL_ERR_NETWORK, "", "out of memory building the request");
    memcpy(line, hd->name, hd->name_len);
    if (hd->value_len == 0) { /* "Name;" is libcurl's spelling of an empty header */
      line[hd->name_len] = ';';
      line[hd->name_len + 1] = '\0';
    } else {
      line[hd->name_len] = ':';
      line[hd->name_len + 1] = ' ';
      memcpy(line + hd->name_len + 2, hd->value, hd->value_len);
      line[n - 1] = '\0';
    }
    if (add_header(out, line)) {
      free(line);
      return al_fail(err, AL_ERR_NETWORK, "", "out of memory building the request");
    }
    free(line);
  }
  /* Compression, unless the caller asked otherwise (libcurl, too, sends none then). */
  if (!has_accept_encoding && accept_line[0] && add_header(out, accept_line))
    return al_fail(err, AL_ERR_NETWORK, "", "out of memory building the request");
  /* No "Expect: 100-continue" wait for large bodies, and no invented form Content-Type.
   * Without a body libcurl adds neither: two entries fewer for it to scan per request. */
  if (!with_body) return 0;
  if ((!has_expect && add_header(out, "Expect:")) || (!has_ctype && add_header(out, "Content-Type:")))
    return al_fail(err, AL_ERR_NETWORK, "", "out of memory building the request");
  return 0;
}

/* The URL parsed into st->uh as libcurl parses CURLOPT_URL (the same flags: see
 * parseurlandfillconn in libcurl's url.c): 1, or 0 when it cannot be (out of memory,
 * or a URL libcurl refuses: CURLOPT_URL then, and libcurl's own error).
 * Why: with CURLOPT_URL, libcurl parses the URL and formats it back on every transfer
 * (libcurl 7.88: about 17k instructions, 6k the parse, 11k its printf, per character); with
 * CURLOPT_CURLU it copies the parsed parts (curl_url_dup), and with CURLOPT_URL set to
 * NULL it formats the URL (state.url: CURLINFO_EFFECTIVE_URL, a retry on a closed
 * connection) only on the first transfer after the URL changed (Curl_pretransfer). */
static int url_parse(easy_state *st, const char *url) {
  if (st->uh == NULL && (st->uh = curl_url()) == NULL) return 0;
  return curl_url_set(st->uh, CURLUPART_URL, url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK;
}

/* A route that never sends the request to a proxy without a tunnel: https (through a
 * proxy always a CONNECT tunnel, PROTOPT_SSL in libcurl's url.c) or loopback (never
 * through a proxy). Plain http beyond loopback may go to a proxy as is, which needs the
 * absolute URL and reads the proxy headers too. */
static int direct_route(int plain, int loopback) { return !plain || loopback; }

/* The longest URL split into a request target (see url_split_target and its caller). */
#define SPLIT_URL_MAX ((size_t)1024 * 1024)

/* The request target ("/path?query") of the URL parsed into st->uh, with the query then
 * taken out of st->uh: malloc'd, or NULL to send the URL as it is (no query, or out of
 * memory). Why: libcurl 7.88 formats a URL's query byte by byte twice per transfer,
 * "%s?%s" for its authentication code and "?%s" into the request line (about 10k
 * instructions for the SDK's usual 40-byte query); a CURLOPT_REQUEST_TARGET is copied
 * once. The target is made of what libcurl itself would send: the path as it reads it
 * for the request (CURLU_URLENCODE, url.c's parseurlandfillconn), "?" and the query.
 * Only for a direct_route: a proxy without a tunnel would be sent the target too. */
static char *url_split_target(easy_state *st) {
  char *path = NULL, *query = NULL, *target = NULL;
  if (curl_url_get(st->uh, CURLUPART_QUERY, &query, 0) == CURLUE_OK &&
      curl_url_get(st->uh, CURLUPART_PATH, &path, CURLU_URLENCODE) == CURLUE_OK) {
    size_t pn = strlen(path), qn = strlen(query);
    target = malloc(pn + qn + 2);
    if (target) {
      memcpy(target, path, pn);
      target[pn] = '?';
      memcpy(target + pn + 1, query, qn + 1);
      if (curl_url_set(st->uh, CURLUPART_QUERY, NULL, 0) != CURLUE_OK) { /* the query stays */
        free(target);
        target = NULL;
      }
    }
  }
  curl_free(path);
  curl_free(query);
  return target;
}

#define SET(opt, val)                                                \
  do {                                                               \
    if (curl_easy_setopt(e, opt, val) != CURLE_OK) goto setopt_fail; \
  } while (0)

/* Checks the request, prepares an easy handle for it and adds it to the multi. */
int al_xfer_start(al_http *h, xfer *x, const al_http_request *req, int streaming, al_error *err) {
  const char *method = req->method ? req->method : "GET";
  size_t mlen = strlen(method);
  long timeout = req->timeout_ms ? req->timeout_ms : h->timeout_ms;
  int head = strcmp(method, "HEAD") == 0, plain = 0, loopback = 0, prc, kind, set_headers = 0;
  char target[256];
  int with_body = req->body_len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                  strcmp(method, "PATCH") == 0;
  CURL *e;
  x->http = h;
  x->streaming = streaming;
  x->max_body = h->max_body;
  x->timeout_ms = timeout;
  x->connect_timeout_ms = h->connect_timeout_ms;
  copy_str(x->host, sizeof x->host, "(unknown host)");
  if (req->url == NULL) {
    al_fail(err, AL_ERR_CONFIG, "url", "url is required");
    goto fail;
  }
  if (check_url(h, req->url, x, &plain, &loopback, target, sizeof target, err)) goto fail;
  if (!al_is_http_token(method, mlen) || mlen > 32) {
    al_fail(err, AL_ERR_VALIDATION, "method", "method must be an HTTP token such as GET or POST");
    goto fail;
  }
  if (timeout < 0 || timeout > AL_HTTP_MAX_TIMEOUT_MS) {
    al_fail(err, AL_ERR_CONFIG, "timeout", "timeout must be between 1 ms and %ld ms", AL_HTTP_MAX_TIMEOUT_MS);
    goto fail;
  }
  if (head && req->body_len > 0) {
    al_fail(err, AL_ERR_VALIDATION, "body", "a HEAD request has no body");
    goto fail;
  }
  if (req->body_len > 0 && req->body == NULL) {
    al_fail(err, AL_ERR_CONFIG, "body", "body is NULL");
    goto fail;
  }
  if (al_http_ensure_ready(h, err)) goto fail;

  e = h->idle;
  if (e) { /* the handle and what it was set up with */
    x->st = h->idle_st;
    memset(&h->idle_st, 0, sizeof h->idle_st);
    h->idle = NULL;
  } else {
    e = curl_easy_init();
  }
  if (e == NULL) {
    al_fail(err, AL_ERR_NETWORK, "", "libcurl could not create a handle");
    goto fail;
  }
  x->easy = e;
  kind = head ? REQ_HEAD : with_body ? REQ_BODY : REQ_GET;
  if (x->st.configured && (x->st.kind != kind || strcmp(x->st.method, method) != 0 || x->st.plain != plain ||
                           x->st.loopback != loopback || x->st.multiplex != x->multiplex)) {
    curl_easy_reset(e); /* another method, route or protocol: start from libcurl's defaults */
    x->st.configured = 0;
    /* the reset cleared CURLOPT_HTTPHEADER: forget the list and the headers it was built
     * from now, so a failure below cannot leave them looking set for the next request */
    curl_slist_free_all(x->st.hdrs);
    x->st.hdrs = NULL;
    x->st.hcount = 0;
    x->st.hsrc_len = 0;
    x->st.hlead = 0;
  }
  if (!x->st.configured) { /* options that stay set from one request to the next */
    free(x->st.url);
    x->st.url = NULL;
    x->st.url_cap = 0;
    x->st.timeout_ms = -1;
    set_headers = 1;
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SET(CURLOPT_NOSIGNAL, 1L); /* no SIGALRM for DNS timeouts: we run in threads */
    SET(CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (h->cafile) SET(CURLOPT_CAINFO, h->cafile);
    if (h->capath) SET(CURLOPT_CAPATH, h->capath);
    if (h->ua_line && direct_route(plain, loopback)) { /* the User-Agent line is in the header list */
      SET(CURLOPT_PROXYHEADER, h->proxy_headers); /* a CONNECT's own (HEADEROPT is separate) */
    } else {
      SET(CURLOPT_USERAGENT, h->user_agent);
    }
    SET(CURLOPT_ACCEPT_ENCODING, ""); /* every encoding this libcurl can decode */
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    /* HTTP/1.1 keeps connection reuse predictable and avoids libcurl 7.x's HTTP/2
     * pause corner cases; the SDK issues one request at a time per transport. */
    SET(CURLOPT_HTTP_VERSION, (long)(x->multiplex ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1));
    if (x->multiplex) SET(CURLOPT_PIPEWAIT, 1L); /* wait for a connection that can multiplex */
    SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L); /* a proxy's CONNECT reply is not the response */
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_HEADERFUNCTION, al_xfer_on_header);
    SET(CURLOPT_WRITEFUNCTION, al_xfer_on_body);
    SET(CURLOPT_OPENSOCKETFUNCTION, al_http_open_socket);
    SET(CURLOPT_OPENSOCKETDATA, (void *)h);
    SET(CURLOPT_CLOSESOCKETFUNCTION, al_http_close_socket);
    SET(CURLOPT_CLOSESOCKETDATA, (void *)h);
    if (head) {
      SET(CURLOPT_NOBODY, 1L);
    } else if (with_body) {
      if (strcmp(method, "POST") != 0) SET(CURLOPT_CUSTOMREQUEST, method);
    } else {
      SET(CURLOPT_HTTPGET, 1L);
      if (strcmp(method, "GET") != 0) SET(CURLOPT_CUSTOMREQUEST, method);
    }
    if (!plain || loopback) { /* the same options for every request on this route */
      prc = set_proxy(h, x, e, plain, loopback, target, err);
      if (prc == -2) goto setopt_fail;
      if (prc) goto fail; /* not configured: set up again next time */
    }
    x->st.kind = kind;
    memcpy(x->st.method, method, mlen + 1);
    x->st.plain = plain;
    x->st.loopback = loopback;
    x->st.multiplex = x->multiplex;
    x->st.configured = 1;
  }
  /* plain http beyond loopback: whether it may go and through which proxy depends on
   * the environment, read for every request (set_proxy sets both options each time);
   * loopback and https routes were set with the handle (options that do not depend on
   * the environment: https without the proxy option leaves it to libcurl, per transfer) */
  if (plain && !loopback) {
    prc = set_proxy(h, x, e, plain, loopback, target, err);
    if (prc == -2) goto setopt_fail;
    if (prc) goto fail;
  }
  /* what may change from one request to the next, set only when it does */
  prc = headers_fit(&x->st, req, err);
  if (prc < 0) goto fail;
  if (prc == 0) {
    struct curl_slist *list = NULL;
    size_t lead;
    if (build_headers(&list, req, kind == REQ_BODY, h->accept_encoding,
                      direct_route(plain, loopback) ? h->ua_line : NULL, &lead, err)) {
      curl_slist_free_all(list);
      goto fail;
    }
    if (curl_easy_setopt(e, CURLOPT_HTTPHEADER, list) != CURLE_OK) {
      curl_slist_free_all(list);
      goto setopt_fail;
    }
    curl_slist_free_all(x->st.hdrs); /* libcurl now holds the new list */
    x->st.hdrs = list;
    x->st.hlead = lead;
    set_headers = 0;
    /* no room to remember them: this request still sends its list (taking it away would
     * send it without its headers: Authorization, an Idempotency-Key), and a count no
     * request has makes the next one build its own */
    if (headers_remember(&x->st, req)) x->st.hcount = (size_t)-1;
  }
  if (set_headers) SET(CURLOPT_HTTPHEADER, x->st.hdrs);
  if (x->st.url == NULL || strcmp(x->st.url, req->url) != 0) {
    size_t ulen = strlen(req->url);
    if (url_parse(&x->st, req->url)) {
      /* Not for a URL of 1 MiB or more: libcurl 7.88 cannot send it (its request buffer
       * is 1 MiB), and refuses it with another error when it formats the whole URL (its
       * 8,000,000-byte limit) than when it builds the request line from a target. */
      char *rt = direct_route(plain, loopback) && ulen < SPLIT_URL_MAX ? url_split_target(&x->st) : NULL;
      CURLcode rc = curl_easy_setopt(e, CURLOPT_REQUEST_TARGET, rt); /* libcurl copies it; NULL: none */
      free(rt);
      if (rc != CURLE_OK) goto setopt_fail;
      SET(CURLOPT_CURLU, x->st.uh);
      SET(CURLOPT_URL, (char *)NULL); /* libcurl takes its own copy from the CURLU, once */
    } else { /* libcurl parses it (and refuses it with its own message) */
      SET(CURLOPT_REQUEST_TARGET, (char *)NULL);
      SET(CURLOPT_CURLU, (CURLU *)NULL);
      SET(CURLOPT_URL, req->url); /* libcurl keeps its own copy */
    }
    if (ulen + 1 > x->st.url_cap) {
      char *p = realloc(x->st.url, ulen + 1);
      if (p == NULL) { /* not remembered: set again next time */
        free(x->st.url);
        x->st.url = NULL;
        x->st.url_cap = 0;
      } else {
        x->st.url = p;
        x->st.url_cap = ulen + 1;
      }
    }
    if (x->st.url) memcpy(x->st.url, req->url, ulen + 1);
  }
  if (x->st.timeout_ms != timeout) {
    SET(CURLOPT_TIMEOUT_MS, timeout);
    x->st.timeout_ms = timeout;
  }
  /* this transfer's own pointers */
  x->errbuf[0] = '\0';
  SET(CURLOPT_ERRORBUFFER, x->errbuf);
  SET(CURLOPT_PRIVATE, (void *)x);
  SET(CURLOPT_HEADERDATA, (void *)x);
  SET(CURLOPT_WRITEDATA, (void *)x);
  if (kind == REQ_BODY) {
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    if (streaming || x->copy_body) /* the body may still be sending after stream_open/start returns */
      SET(CURLOPT_COPYPOSTFIELDS, req->body_len ? req->body : "");
    else
      SET(CURLOPT_POSTFIELDS, req->body_len ? req->body : "");
  }
  if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
    al_fail(err, AL_ERR_NETWORK, "", "libcurl could not start the request to %s", x->host);
    goto fail;
  }
  x->attached = 1;
  x->deadline = now_ms() + timeout + DEADLINE_GRACE_MS;
  if (!streaming) xfer_take_spares(h, x); /* a stream keeps its buffers while it is open */
  return 0;
setopt_fail:
  al_fail(err, AL_ERR_CONFIG, "", "libcurl refused an option for the request to %s", x->host);
  x->st.configured = 0; /* half set up: not kept for reuse */
fail:
  al_xfer_release(h, x);
  return -1;
}

#undef SET
