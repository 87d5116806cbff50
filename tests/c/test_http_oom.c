/* The transport under an allocation failure, against a real loopback socket: a failure
 * to remember a request's headers (the cache that spares rebuilding libcurl's list) must
 * not send that request without them; a failure to make a URL's request target (see
 * url_split_target) must send the URL whole, query included. realloc and malloc are
 * interposed here (the executable's definitions win for the whole process, libcurl
 * included): each fails once, for the one size asked. A forked child is the server: it
 * answers each request with its bytes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>

#include "check.h"
#include "http.h"
#include "loopback.h"

static size_t fail_size; /* the next realloc of exactly this size fails; 0 = none */
static int failed_once;
static size_t fail_malloc_size; /* the same for malloc */
static int malloc_failed;

void *malloc(size_t n) {
  static void *(*real)(size_t);
  if (fail_malloc_size && n == fail_malloc_size) {
    fail_malloc_size = 0;
    malloc_failed = 1;
    return NULL;
  }
  if (real == NULL) real = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
  return real(n);
}

void *realloc(void *p, size_t n) {
  static void *(*real)(void *, size_t);
  if (fail_size && n == fail_size) {
    fail_size = 0;
    failed_once = 1;
    return NULL;
  }
  if (real == NULL) real = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
  return real(p, n);
}

/* Answers four requests (one per connection), each with its own header block as body. */
static void serve(int ls) {
  int i;
  for (i = 0; i < 4; i++) {
    char buf[8192], head[256];
    size_t len = 0;
    int c = accept(ls, NULL, NULL);
    if (c < 0) _exit(1);
    while (len < sizeof buf - 1) {
      ssize_t r = read(c, buf + len, sizeof buf - 1 - len);
      if (r <= 0) break;
      len += (size_t)r;
      buf[len] = '\0';
      if (strstr(buf, "\r\n\r\n")) break;
    }
    snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", len);
    if (write(c, head, strlen(head)) < 0 || write(c, buf, len) < 0) _exit(1);
    close(c);
  }
  _exit(0);
}

int main(void) {
  pid_t server;
  char url[64], value[1000];
  al_http_options o;
  al_http_header hd;
  al_http_request req;
  al_http_response res;
  al_error err;
  al_http *h;

  server = loopback_server(serve, url, sizeof url);
  if (server < 0) return 1;
  strcat(url, "/x"); /* 24 bytes at most */

  memset(&o, 0, sizeof o);
  o.timeout_ms = 5000;
  h = al_http_new(&o, &err);
  CHECK(h != NULL);
  memset(value, 'k', sizeof value);
  hd.name = "Idempotency-Key";
  hd.name_len = strlen(hd.name);
  hd.value = value;
  hd.value_len = sizeof value;
  memset(&req, 0, sizeof req);
  req.url = url;
  req.headers = &hd;
  req.nheaders = 1;

  /* the size headers_remember asks for: two lengths, then the name and the value */
  fail_size = 2 * sizeof(size_t) + hd.name_len + hd.value_len;
  CHECK(h && al_http_perform(h, &req, &res, &err) == 0);
  CHECK(failed_once);
  CHECK(res.status == 200 && res.body && memmem(res.body, res.body_len, "\r\nIdempotency-Key: kkkk", 23) != NULL);
  al_http_response_free(&res);
  /* and the next request (its headers not remembered) sends them too */
  CHECK(h && al_http_perform(h, &req, &res, &err) == 0);
  CHECK(res.status == 200 && res.body && memmem(res.body, res.body_len, "\r\nIdempotency-Key: kkkk", 23) != NULL);
  al_http_response_free(&res);

  /* the request target of a URL with a query cannot be made: the URL goes whole, and
   * the request line is the same; the next request with that URL sends it again */
  {
    char qurl[1100], line[1100];
    size_t qn = 900;
    snprintf(qurl, sizeof qurl, "%s?", url);
    memset(qurl + strlen(qurl), 'q', qn);
    qurl[strlen(url) + 1 + qn] = '\0';
    snprintf(line, sizeof line, "GET %s HTTP/1.1\r\n", qurl + strcspn(qurl + 7, "/") + 7);
    req.url = qurl;
    req.nheaders = 0;
    fail_malloc_size = strlen("/x") + qn + 2; /* url_split_target's "/x?q..." and its NUL */
    CHECK(h && al_http_perform(h, &req, &res, &err) == 0);
    CHECK(malloc_failed);
    CHECK(res.status == 200 && res.body && res.body_len > strlen(line) && memcmp(res.body, line, strlen(line)) == 0);
    al_http_response_free(&res);
    CHECK(h && al_http_perform(h, &req, &res, &err) == 0);
    CHECK(res.status == 200 && res.body && res.body_len > strlen(line) && memcmp(res.body, line, strlen(line)) == 0);
    al_http_response_free(&res);
  }

  al_http_free(h);
  loopback_stop(server);
  return check_done("test_http_oom");
}
