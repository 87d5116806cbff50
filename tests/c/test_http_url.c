/* The URL of one easy handle from one request to the next: the transport hands libcurl
 * the URL parsed (CURLOPT_CURLU) and keeps it while the URL stays the same. Against a
 * real loopback server (a forked process, one keep-alive connection at a time) that
 * answers each request with "n=<its number on the connection>\n<request line>": every
 * request must send its own path and query, as libcurl normalises them; a URL libcurl
 * refuses must be refused with libcurl's own message and send nothing; and libcurl's
 * retry on a kept-alive connection the server closed must resend the same URL (libcurl
 * takes that URL from its state, which the CURLU path must keep right). */
#define _GNU_SOURCE
#include <stdlib.h>

#include "check.h"
#include "http.h"
#include "loopback.h"

/* the n-th request of a connection: its number and request line, or no answer */
static int reply(int n, const char *head, size_t hlen, char *out, size_t cap) {
  const char *eol = memchr(head, '\r', hlen);
  /* a kept-alive connection the server closes as the request arrives: no answer */
  if (n > 1 && strncmp(head, "GET /drop", 9) == 0) return -1;
  return snprintf(out, cap, "n=%d\n%.*s", n, (int)(eol - head), head);
}

static void serve_connection(int c) { loopback_serve_heads(c, reply); }

/* one keep-alive connection at a time */
static void serve(int ls) {
  loopback_serve_each(ls, serve_connection);
}

static char base[64];
static al_http *h;

/* GETs base + path; the answer's body in body (NUL-terminated, "" on failure: err then
 * holds why) and the new connections it made in *conns. Returns rc. */
static int get(const char *path, char *body, size_t cap, long *conns, al_error *err) {
  char url[256];
  al_http_request req;
  al_http_response res;
  int rc;
  snprintf(url, sizeof url, "%s%s", base, path);
  memset(&req, 0, sizeof req);
  req.url = url;
  body[0] = '\0';
  *conns = -1;
  rc = al_http_perform(h, &req, &res, err);
  if (rc == 0) {
    size_t m = res.body_len < cap - 1 ? res.body_len : cap - 1;
    memcpy(body, res.body, m);
    body[m] = '\0';
    *conns = res.new_connections;
    al_http_response_free(&res);
  }
  return rc;
}

int main(void) {
  pid_t server;
  al_http_options o;
  al_error err;
  char body[2048];
  long conns;

  server = loopback_server(serve, base, sizeof base);
  if (server < 0) return 1;
  memset(&o, 0, sizeof o);
  o.timeout_ms = 10000;
  h = al_http_new(&o, &err);
  CHECK(h != NULL);
  if (h == NULL) return check_done("test_http_url");

  /* 1. each request its own URL, as libcurl normalises it (dot segments, no fragment) */
  CHECK(get("/a?x=1", body, sizeof body, &conns, &err) == 0);
  CHECK_STR(body, "n=1\nGET /a?x=1 HTTP/1.1");
  CHECK(conns == 1);
  CHECK(get("/a?x=1", body, sizeof body, &conns, &err) == 0);
  CHECK_STR(body, "n=2\nGET /a?x=1 HTTP/1.1");
  CHECK(conns == 0);
  CHECK(get("/b/./c/../d?y=2#frag", body, sizeof body, &conns, &err) == 0);
  CHECK_STR(body, "n=3\nGET /b/d?y=2 HTTP/1.1");
  CHECK(get("/a?x=1", body, sizeof body, &conns, &err) == 0);
  CHECK_STR(body, "n=4\nGET /a?x=1 HTTP/1.1");
  CHECK(get("", body, sizeof body, &conns, &err) == 0);
  CHECK_STR(body, "n=5\nGET / HTTP/1.1");
  /* the query goes to libcurl as the request target, the rest as the parsed URL (see
   * url_split_target): each is sent as libcurl sends it from a whole URL */
  CHECK(get("/e?", body, sizeof body, &conns, &err) == 0);
  CHECK_STR(body, "n=6\nGET /e? HTTP/1.1");
  CHECK(get("/f/../p%20q?a=1?b=/c&d=%2F%3F", body, sizeof body, &conns, &err) == 0);
  CHECK_STR(body, "n=7\nGET /p%20q?a=1?b=/c&d=%2F%3F HTTP/1.1");
  CHECK(get("/p%20q", body, sizeof body, &conns, &err) == 0);
  CHECK_STR(body, "n=8\nGET /p%20q HTTP/1.1");
  CHECK(get("?only=query", body, sizeof body, &conns, &err) == 0);
  CHECK_STR(body, "n=9\nGET /?only=query HTTP/1.1");

  /* 2. a URL libcurl refuses (our checks let a space in the path pass): libcurl's own
   * message, nothing sent, and the next request goes out with its own URL */
  CHECK(get("/sp ace", body, sizeof body, &conns, &err) == -1);
  CHECK(err.kind == AL_ERR_CONFIG);
  CHECK_STR(err.field, "url");
  CHECK_STR(err.message, "cannot send a request to 127.0.0.1: URL using bad/illegal format or missing URL");
  CHECK(get("/a?x=2", body, sizeof body, &conns, &err) == 0);
  CHECK_STR(body, "n=10\nGET /a?x=2 HTTP/1.1");
  CHECK(conns == 0);

  /* 3. the server closes the kept-alive connection as the request arrives: libcurl
   * retries on a new connection with the same URL; the next requests send their own */
  CHECK(get("/drop?z=3", body, sizeof body, &conns, &err) == 0);
  CHECK_STR(body, "n=1\nGET /drop?z=3 HTTP/1.1");
  CHECK(conns == 1);
  CHECK(get("/a?x=3", body, sizeof body, &conns, &err) == 0);
  CHECK_STR(body, "n=2\nGET /a?x=3 HTTP/1.1");
  CHECK(get("/drop?z=4", body, sizeof body, &conns, &err) == 0);
  CHECK_STR(body, "n=1\nGET /drop?z=4 HTTP/1.1");
  CHECK(get("/drop?z=4", body, sizeof body, &conns, &err) == 0);
  CHECK_STR(body, "n=1\nGET /drop?z=4 HTTP/1.1");
  CHECK(get("/a?x=3", body, sizeof body, &conns, &err) == 0);
  CHECK_STR(body, "n=2\nGET /a?x=3 HTTP/1.1");

  { /* 4. a URL too long to send (libcurl 7.88: a request is at most 1 MiB) is refused
     * with the error libcurl gives for it whole: one of 8,000,000 bytes, libcurl's limit
     * for a URL it formats, says "No URL set" (split into a request target it would have
     * failed building the request instead); nothing sent, and the next one goes out */
    size_t n = 8000000, bn = strlen(base);
    char *url = malloc(n + 1);
    al_http_request req;
    al_http_response res;
    CHECK(url != NULL);
    if (url) {
      memcpy(url, base, bn);
      memcpy(url + bn, "/q?", 3);
      memset(url + bn + 3, 'q', n - bn - 3);
      url[n] = '\0';
      memset(&req, 0, sizeof req);
      req.url = url;
      CHECK(al_http_perform(h, &req, &res, &err) == -1);
      CHECK(err.kind == AL_ERR_CONFIG);
      CHECK_STR(err.field, "url");
      CHECK_STR(err.message, "cannot send a request to 127.0.0.1: No URL set");
      free(url);
    }
    CHECK(get("/a?x=4", body, sizeof body, &conns, &err) == 0);
    CHECK_STR(body, "n=3\nGET /a?x=4 HTTP/1.1");
  }

  al_http_free(h);
  loopback_stop(server);
  return check_done("test_http_url");
}
