/* The request headers of one easy handle from one request to the next: the transport
 * keeps libcurl's header list and, when only values change with their lengths kept
 * (an SDK call's x-request-id), writes them into the list's lines in place. Against a
 * real loopback server (a forked process, one keep-alive connection at a time) that
 * answers each request with "n=<its number on the connection>\n" and the request's
 * header lines: every request must carry its own values, a refused value must send
 * nothing, and a value written before another header of the same request was refused
 * must not stay behind. The transport's User-Agent line travels in the list too, where
 * libcurl writes its own. */
#define _GNU_SOURCE
#include <stdlib.h>

#include "check.h"
#include "http.h"
#include "loopback.h"

/* the n-th request of a connection: its number and header lines */
static int reply(int n, const char *head, size_t hlen, char *out, size_t cap) {
  const char *lines = memchr(head, '\n', hlen); /* after the request line */
  return snprintf(out, cap, "n=%d\n%.*s", n, (int)(head + hlen - 2 - (lines + 1)), lines + 1);
}

static void serve_connection(int c) { loopback_serve_heads(c, reply); }

/* one keep-alive connection at a time */
static void serve(int ls) {
  loopback_serve_each(ls, serve_connection);
}

static char url[64];
static al_http *h;

/* Sends GET with the headers (name, value pairs, NULL-ended); the answer's body in
 * body (NUL-terminated), or "" when refused (err then holds why). Returns rc. */
static int send_headers(const char *const *pairs, char *body, size_t cap, al_error *err) {
  al_http_header hd[8];
  al_http_request req;
  al_http_response res;
  size_t n = 0;
  int rc;
  for (; pairs[2 * n]; n++) {
    hd[n].name = pairs[2 * n];
    hd[n].name_len = strlen(pairs[2 * n]);
    hd[n].value = pairs[2 * n + 1];
    hd[n].value_len = strlen(pairs[2 * n + 1]);
  }
  memset(&req, 0, sizeof req);
  req.url = url;
  req.headers = hd;
  req.nheaders = n;
  body[0] = '\0';
  rc = al_http_perform(h, &req, &res, err);
  if (rc == 0) {
    size_t m = res.body_len < cap - 1 ? res.body_len : cap - 1;
    memcpy(body, res.body, m);
    body[m] = '\0';
    al_http_response_free(&res);
  }
  return rc;
}

#define HAS(body, line) (strstr(body, line "\r\n") != NULL)

int main(void) {
  pid_t server;
  al_http_options o;
  al_error err;
  char body[4096];
  static const char id1[] = "7f1c2a3b-0d4e-4f5a-8b6c-9d0e1f2a3b4c", id2[] = "0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d";

  server = loopback_server(serve, url, sizeof url);
  if (server < 0) return 1;
  strcat(url, "/h"); /* 24 bytes at most */
  memset(&o, 0, sizeof o);
  o.timeout_ms = 10000;
  h = al_http_new(&o, &err);
  CHECK(h != NULL);
  if (h == NULL) return check_done("test_http_headers");

  { /* 1. a new request id each time, the other headers (an empty one among them) kept */
    const char *first[] = {"X-A", "1", "x-request-id", id1, "X-E", "", NULL};
    const char *second[] = {"X-A", "1", "x-request-id", id2, "X-E", "", NULL};
    CHECK(send_headers(first, body, sizeof body, &err) == 0);
    CHECK(strncmp(body, "n=1\n", 4) == 0);
    CHECK(HAS(body, "X-A: 1") && HAS(body, "x-request-id: 7f1c2a3b-0d4e-4f5a-8b6c-9d0e1f2a3b4c") && HAS(body, "X-E:"));
    CHECK(send_headers(second, body, sizeof body, &err) == 0);
    CHECK(strncmp(body, "n=2\n", 4) == 0);
    CHECK(HAS(body, "x-request-id: 0a9b8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d") && !strstr(body, id1));
    CHECK(HAS(body, "X-A: 1") && HAS(body, "X-E:"));
    CHECK(send_headers(first, body, sizeof body, &err) == 0);
    CHECK(strncmp(body, "n=3\n", 4) == 0 && HAS(body, "x-request-id: 7f1c2a3b-0d4e-4f5a-8b6c-9d0e1f2a3b4c"));
  }
  { /* 2. a refused value, after and before a changed one of the same request: nothing
     * is sent, and the next request sends its own values, not the written one */
    const char *good[] = {"X-A", "1", "X-B", "2", NULL};
    const char *bad_second[] = {"X-A", "7", "X-B", "\n", NULL};
    const char *bad_first[] = {"X-A", "\r", "X-B", "8", NULL};
    const char *other[] = {"X-A", "3", "X-B", "4", NULL};
    CHECK(send_headers(good, body, sizeof body, &err) == 0);
    CHECK(strncmp(body, "n=4\n", 4) == 0);
    CHECK(send_headers(bad_second, body, sizeof body, &err) == -1);
    CHECK(err.kind == AL_ERR_VALIDATION && body[0] == '\0');
    CHECK_STR(err.field, "headers");
    CHECK(send_headers(good, body, sizeof body, &err) == 0);
    CHECK(strncmp(body, "n=5\n", 4) == 0); /* the refused request never reached the server */
    CHECK(HAS(body, "X-A: 1") && HAS(body, "X-B: 2") && !strstr(body, "X-A: 7"));
    CHECK(send_headers(bad_first, body, sizeof body, &err) == -1);
    CHECK(err.kind == AL_ERR_VALIDATION);
    CHECK(send_headers(good, body, sizeof body, &err) == 0);
    CHECK(strncmp(body, "n=6\n", 4) == 0 && HAS(body, "X-A: 1") && HAS(body, "X-B: 2") && !strstr(body, "X-B: 8"));
    CHECK(send_headers(other, body, sizeof body, &err) == 0);
    CHECK(strncmp(body, "n=7\n", 4) == 0 && HAS(body, "X-A: 3") && HAS(body, "X-B: 4"));
  }
  { /* 3. another length or another name: a list of its own */
    const char *longer[] = {"X-A", "33", "X-B", "4", NULL};
    const char *renamed[] = {"X-C", "33", "X-B", "4", NULL};
    CHECK(send_headers(longer, body, sizeof body, &err) == 0);
    CHECK(HAS(body, "X-A: 33") && HAS(body, "X-B: 4"));
    CHECK(send_headers(renamed, body, sizeof body, &err) == 0);
    CHECK(HAS(body, "X-C: 33") && !strstr(body, "X-A:"));
  }

  { /* 4. the transport's User-Agent goes in the header list (libcurl formats
     * CURLOPT_USERAGENT byte by byte): the same lines in the same order as libcurl's own,
     * after Host, then libcurl's Accept, then the request's own; a request's own
     * User-Agent (or Accept) in its place instead */
    const char *plain[] = {"X-A", "1", "x-request-id", id1, NULL};
    const char *plain2[] = {"X-A", "1", "x-request-id", id2, NULL};
    const char *accept[] = {"X-A", "1", "accept", "application/json", NULL};
    const char *own[] = {"X-A", "1", "User-Agent", "me/1", NULL};
    char want[512];
    const char *host = url + strlen("http://");
    int hn = (int)strcspn(host, "/");
    CHECK(send_headers(plain, body, sizeof body, &err) == 0);
    snprintf(want, sizeof want, "Host: %.*s\r\nUser-Agent: alephant-lua/" ALEPHANT_VERSION
             "\r\nAccept: */*\r\nX-A: 1\r\nx-request-id: %s\r\n", hn, host, id1);
    CHECK(strstr(body, want) == strchr(body, '\n') + 1);
    CHECK(send_headers(plain2, body, sizeof body, &err) == 0); /* the id written in place */
    snprintf(want, sizeof want, "Host: %.*s\r\nUser-Agent: alephant-lua/" ALEPHANT_VERSION
             "\r\nAccept: */*\r\nX-A: 1\r\nx-request-id: %s\r\n", hn, host, id2);
    CHECK(strstr(body, want) == strchr(body, '\n') + 1);
    CHECK(send_headers(accept, body, sizeof body, &err) == 0);
    snprintf(want, sizeof want, "Host: %.*s\r\nUser-Agent: alephant-lua/" ALEPHANT_VERSION
             "\r\nX-A: 1\r\naccept: application/json\r\n", hn, host);
    CHECK(strstr(body, want) == strchr(body, '\n') + 1);
    CHECK(send_headers(own, body, sizeof body, &err) == 0);
    snprintf(want, sizeof want, "Host: %.*s\r\nAccept: */*\r\nX-A: 1\r\nUser-Agent: me/1\r\n", hn, host);
    CHECK(strstr(body, want) == strchr(body, '\n') + 1);
    CHECK(!strstr(body, "alephant-lua"));
  }

  al_http_free(h);

  { /* 5. a blank user_agent: libcurl sends it from CURLOPT_USERAGENT, a list line with a
     * blank value it would drop (a new transport: the server takes one connection at a time) */
    const char *plain[] = {"X-A", "1", NULL};
    o.user_agent = "  ";
    h = al_http_new(&o, &err);
    CHECK(h != NULL);
    if (h) {
      CHECK(send_headers(plain, body, sizeof body, &err) == 0);
      CHECK(HAS(body, "User-Agent:   ") && HAS(body, "X-A: 1"));
      al_http_free(h);
    }
  }
  { /* 6. an agent longer than libcurl's 8,000,000-byte limit for an option: refused as
     * libcurl refuses CURLOPT_USERAGENT, also when the request has its own, and nothing
     * is sent (not sent as a list line libcurl does not check) */
    const char *plain[] = {"X-A", "1", NULL};
    const char *own[] = {"X-A", "1", "User-Agent", "me/1", NULL};
    char *ua = malloc(8000002);
    CHECK(ua != NULL);
    if (ua) {
      memset(ua, 'u', 8000001);
      ua[8000001] = '\0';
      o.user_agent = ua;
      h = al_http_new(&o, &err);
      CHECK(h != NULL);
      if (h) {
        CHECK(send_headers(plain, body, sizeof body, &err) == -1);
        CHECK(err.kind == AL_ERR_CONFIG);
        CHECK_STR(err.message, "libcurl refused an option for the request to 127.0.0.1");
        CHECK(send_headers(own, body, sizeof body, &err) == -1);
        CHECK_STR(err.message, "libcurl refused an option for the request to 127.0.0.1");
        al_http_free(h);
      }
      free(ua);
      o.user_agent = NULL;
    }
    h = al_http_new(&o, &err); /* the server still answers: the refused requests sent nothing */
    CHECK(h != NULL);
    if (h) {
      CHECK(send_headers(plain, body, sizeof body, &err) == 0);
      CHECK(strncmp(body, "n=1\n", 4) == 0 && HAS(body, "X-A: 1"));
      al_http_free(h);
    }
  }
  loopback_stop(server);
  return check_done("test_http_headers");
}
