/* The transport under an allocation failure, against a real loopback socket: a failure
 * to remember a request's headers (the cache that spares rebuilding libcurl's list) must
 * not send that request without them. realloc is interposed here (the executable's
 * definition wins for the whole process, libcurl included): it fails once, for the one
 * size asked. A forked child is the server: it answers each request with its bytes. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>

#include "check.h"
#include "http.h"
#include "loopback.h"

static size_t fail_size; /* the next realloc of exactly this size fails; 0 = none */
static int failed_once;

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

/* Answers two requests (one per connection), each with its own header block as body. */
static void serve(int ls) {
  int i;
  for (i = 0; i < 2; i++) {
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

  al_http_free(h);
  loopback_stop(server);
  return check_done("test_http_oom");
}
