/* Pending requests (al_http_start / al_http_pending_finish / al_http_pending_free)
 * against a real loopback server: a forked process that serves each connection in a
 * process of its own (keep-alive), tells the test through a pipe which request it
 * received, and answers "/hold/K" only once the test writes to pipe K: so "the request
 * reached the server before the caller finished it" and "start did not wait for the
 * answer" are orderings, never timings. Each answer's body is "path|request body". */
#define _GNU_SOURCE
#include <poll.h>
#include <stdlib.h>

#include "check.h"
#include "http.h"
#include "loopback.h"

#define HOLDS 4
static int seen[2];        /* server -> test: "path\n" per request received */
static int go[HOLDS][2];   /* test -> server: answer /hold/K now */

static void serve_connection(int c) {
  char buf[16384];
  size_t len = 0;
  for (;;) {
    char *end, *p, head[256], path[128];
    size_t hlen, clen = 0, want;
    ssize_t r;
    hlen = loopback_read_head(c, buf, sizeof buf, &len);
    if (hlen == 0) _exit(0); /* the client closed (or cancelled) */
    end = buf + hlen - 4;
    if (sscanf(buf, "%*s %127s", path) != 1) _exit(1);
    p = strcasestr(buf, "\r\nContent-Length:");
    if (p && p < end) clen = strtoul(p + 17, NULL, 10);
    want = hlen + clen;
    if (want > sizeof buf) _exit(1);
    while (len < want) {
      r = read(c, buf + len, sizeof buf - len);
      if (r <= 0) _exit(0);
      len += (size_t)r;
    }
    {
      char line[160];
      int n = snprintf(line, sizeof line, "%s\n", path);
      if (write(seen[1], line, (size_t)n) != n) _exit(1);
    }
    if (strncmp(path, "/hold/", 6) == 0) {
      int k = atoi(path + 6);
      char b;
      if (k < 0 || k >= HOLDS || read(go[k][0], &b, 1) != 1) _exit(1);
    }
    snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", strlen(path) + 1 + clen);
    if (write(c, head, strlen(head)) < 0 || write(c, path, strlen(path)) < 0 || write(c, "|", 1) < 0 ||
        (clen && write(c, buf + hlen, clen) < 0))
      _exit(1);
    loopback_consume(buf, &len, want);
  }
}

static void serve(int ls) {
  signal(SIGCHLD, SIG_IGN);
  for (;;) {
    int c = accept(ls, NULL, NULL);
    if (c < 0) _exit(1);
    if (fork() == 0) {
      close(ls);
      serve_connection(c);
    }
    close(c);
  }
}

/* The next path the server reports, waiting at most 5 s ("" when none came). */
static const char *next_seen(void) {
  static char line[160];
  size_t n = 0;
  struct pollfd pf;
  pf.fd = seen[0];
  pf.events = POLLIN;
  while (n + 1 < sizeof line) {
    char ch;
    if (poll(&pf, 1, 5000) != 1 || read(seen[0], &ch, 1) != 1) break;
    if (ch == '\n') break;
    line[n++] = ch;
  }
  line[n] = '\0';
  return line;
}

/* Nothing more reported within 200 ms. */
static int nothing_seen(void) {
  struct pollfd pf;
  pf.fd = seen[0];
  pf.events = POLLIN;
  return poll(&pf, 1, 200) == 0;
}

static void release(int k) { CHECK(write(go[k][1], "g", 1) == 1); }

static char base[64];

static al_http_request get(const char *path) {
  static char url[HOLDS * 4][128];
  static int i;
  al_http_request req;
  memset(&req, 0, sizeof req);
  i = (i + 1) % (HOLDS * 4);
  snprintf(url[i], sizeof url[i], "%s%s", base, path);
  req.url = url[i];
  return req;
}

static int body_is(const al_http_response *res, const char *want) {
  return res->status == 200 && res->body_len == strlen(want) && memcmp(res->body, want, res->body_len) == 0;
}

int main(void) {
  int i, status = 0;
  pid_t server, child;
  al_http_options o;
  al_http_request req;
  al_http_response res;
  al_error err;
  al_http_pending *p, *q;
  al_http *h;

  if (pipe(seen)) return 1;
  for (i = 0; i < HOLDS; i++)
    if (pipe(go[i])) return 1;
  server = loopback_server(serve, base, sizeof base);
  if (server < 0) return 1;
  memset(&o, 0, sizeof o);
  o.timeout_ms = 10000;
  h = al_http_new(&o, &err);
  CHECK(h != NULL);
  if (h == NULL) return check_done("test_http_pending");

  /* 1. start sends and returns before the answer; another request on the same
   * transport works meanwhile and sees only its own bytes; finish gets the held answer */
  req = get("/hold/0");
  CHECK(al_http_start(h, &req, &p, &err) == 0);
  CHECK_STR(next_seen(), "/hold/0"); /* received before anyone finished it */
  CHECK(al_http_open_transfers(h) == 1);
  req = get("/now/1");
  CHECK(al_http_perform(h, &req, &res, &err) == 0);
  CHECK(body_is(&res, "/now/1|"));
  al_http_response_free(&res);
  CHECK_STR(next_seen(), "/now/1");
  release(0);
  CHECK(al_http_pending_finish(p, &res, &err) == 0);
  CHECK(body_is(&res, "/hold/0|"));
  CHECK(al_http_open_transfers(h) == 0);
  al_http_response_free(&res);
  CHECK(al_http_pending_finish(p, &res, &err) == -1); /* twice */
  CHECK(err.kind == AL_ERR_CONFIG);
  CHECK_STR(err.message, "the request was finished already");
  al_http_pending_free(p);

  /* 2. two pending at once, finished in the other order; a POST body is copied */
  {
    char body[8] = "abc";
    req = get("/now/2");
    req.method = "POST";
    req.body = body;
    req.body_len = 3;
    CHECK(al_http_start(h, &req, &p, &err) == 0);
    memcpy(body, "XYZ", 3); /* the caller's buffer may change once start returned (a small body
                             * leaves with the headers: this shows the contract, not the copy) */
  }
  req = get("/now/3");
  CHECK(al_http_start(h, &req, &q, &err) == 0);
  CHECK(al_http_open_transfers(h) == 2);
  CHECK(al_http_pending_finish(q, &res, &err) == 0);
  CHECK(body_is(&res, "/now/3|"));
  al_http_response_free(&res);
  CHECK(al_http_pending_finish(p, &res, &err) == 0);
  CHECK(body_is(&res, "/now/2|abc"));
  al_http_response_free(&res);
  al_http_pending_free(q);
  al_http_pending_free(p);
  next_seen();
  next_seen();

  /* 3. cancel: freed unfinished, nothing left open, the transport goes on */
  req = get("/hold/1");
  CHECK(al_http_start(h, &req, &p, &err) == 0);
  CHECK_STR(next_seen(), "/hold/1");
  al_http_pending_free(p);
  CHECK(al_http_open_transfers(h) == 0);
  req = get("/now/4");
  CHECK(al_http_perform(h, &req, &res, &err) == 0);
  CHECK(body_is(&res, "/now/4|"));
  al_http_response_free(&res);
  CHECK_STR(next_seen(), "/now/4");

  /* 4. refused before sending: the same error as al_http_perform, nothing sent */
  req = get("/now/5");
  req.url = "ftp://127.0.0.1/x";
  p = (al_http_pending *)&req; /* must be reset to NULL */
  CHECK(al_http_start(h, &req, &p, &err) == -1);
  CHECK(p == NULL);
  CHECK(err.kind == AL_ERR_CONFIG);
  {
    al_error perr;
    CHECK(al_http_perform(h, &req, &res, &perr) == -1);
    CHECK_STR(err.message, perr.message);
  }
  CHECK(nothing_seen());

  /* 5. a request that fails after start: finish reports it as al_http_perform would */
  {
    al_http_options small = o;
    al_http *h2;
    small.max_body = 4;
    h2 = al_http_new(&small, &err);
    req = get("/now/6");
    CHECK(h2 && al_http_start(h2, &req, &p, &err) == 0);
    CHECK(h2 && al_http_pending_finish(p, &res, &err) == -1);
    CHECK(err.kind == AL_ERR_TOO_LARGE);
    CHECK_CONTAINS(err.message, "larger than max_body (4 bytes)");
    al_http_pending_free(p);
    al_http_free(h2);
    next_seen();
  }

  /* 6. closing the transport detaches a pending request */
  {
    al_http *h2 = al_http_new(&o, &err);
    req = get("/hold/2");
    CHECK(h2 && al_http_start(h2, &req, &p, &err) == 0);
    CHECK_STR(next_seen(), "/hold/2");
    al_http_free(h2);
    CHECK(al_http_pending_finish(p, &res, &err) == -1);
    CHECK(err.kind == AL_ERR_NETWORK);
    CHECK_STR(err.message, "transport is closed");
    al_http_pending_free(p);
  }

  /* 7. fork: the child cannot finish the parent's request (and leaves its connection
   * alone); the parent finishes it and goes on on the same transport */
  req = get("/hold/3");
  CHECK(al_http_start(h, &req, &p, &err) == 0);
  CHECK_STR(next_seen(), "/hold/3");
  child = fork();
  if (child == 0) {
    int ok = al_http_pending_finish(p, &res, &err) == -1 &&
             strcmp(err.message, "request was started in another process (fork)") == 0 &&
             al_http_open_transfers(h) == 0;
    al_http_pending_free(p);
    al_http_free(h);
    _exit(ok ? 0 : 1);
  }
  CHECK(child > 0 && waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  release(3);
  CHECK(al_http_pending_finish(p, &res, &err) == 0);
  CHECK(body_is(&res, "/hold/3|"));
  al_http_response_free(&res);
  al_http_pending_free(p);
  req = get("/now/7");
  CHECK(al_http_perform(h, &req, &res, &err) == 0);
  CHECK(body_is(&res, "/now/7|"));
  al_http_response_free(&res);
  CHECK(al_http_open_transfers(h) == 0);

  al_http_free(h);
  loopback_stop(server);
  return check_done("test_http_pending");
}
