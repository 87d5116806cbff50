/* What the files of the libcurl transport share (http.c: the transport object and
 * driving; http_request.c: one transfer's set-up; http_response.c: collecting the
 * answer; http_error.c: failures as messages; http_stream.c: streams and pending
 * requests; http_batch.c: batches): the transfer and transport structs, the small
 * helpers the per-request path inlines, and the functions one file calls in another.
 * Not part of the API in http.h. */
#ifndef ALEPHANT_TRANSPORT_HTTP_PRIVATE_H
#define ALEPHANT_TRANSPORT_HTTP_PRIVATE_H

#include <curl/curl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

#if !defined(LIBCURL_VERSION_NUM) || LIBCURL_VERSION_NUM < 0x074200
#error "alephant needs libcurl 7.66.0 or newer (curl_multi_poll)"
#endif

#define STREAM_HIGH_WATER ((size_t)64 * 1024) /* unconsumed stream bytes before pausing */
#define MAX_HEADER_BYTES ((size_t)1024 * 1024) /* all response header lines together */
/* distinct response header names: each new one is compared with those stored, so
 * the cap also bounds that work (a hostile server's tens of thousands of names) */
#define MAX_HEADER_FIELDS 512
/* buffers up to this size are kept by the transport for the next request: the steady
 * path then allocates nothing for the body and the response headers */
#define SPARE_MAX ((size_t)64 * 1024)
#define FOLD_BIT 0x80000000u /* a header value piece continued by line folding */
#define MAX_CONNECTIONS 8L                     /* idle connections kept per transport */
#define POLL_SLICE_MS 1000L                    /* longest single curl_multi_poll */
#define DEADLINE_GRACE_MS 1000L                /* our own backstop behind libcurl's timer */

/* ---- one transfer ---------------------------------------------------------------- */

enum { REQ_GET, REQ_HEAD, REQ_BODY };

/* What an easy handle was last set up with. A request like the previous one (the
 * steady path: same method, route and headers) sets only what changed, usually
 * nothing but the transfer's own pointers; another method, route (plain http,
 * loopback: the proxy options) or protocol (a multiplexed batch) resets the handle.
 * The state travels with the handle: into a transfer, and back to the transport
 * when idle. */
typedef struct {
  int configured;          /* the options common to every request are set */
  int kind;                /* REQ_*, with method: what the method options say */
  int plain, loopback;     /* the route the proxy options were set for */
  int multiplex;
  char method[33];
  char *url;               /* the URL as last set, NULL before */
  size_t url_cap;
  CURLU *uh;               /* that URL parsed, set as CURLOPT_CURLU (see url_parse); NULL before */
  long timeout_ms;         /* CURLOPT_TIMEOUT_MS as last set */
  struct curl_slist *hdrs; /* CURLOPT_HTTPHEADER as last set */
  char *hsrc;              /* the request headers it was built from (see headers_fit) */
  size_t hsrc_len, hsrc_cap, hcount;
  size_t hlead;            /* lines of hdrs before the request's own (al_http's ua_line, Accept) */
} easy_state;

/* A distinct response header name: the name in the arena, and its value pieces, each
 * [uint32 next][uint32 length | FOLD_BIT][bytes] in the arena (next 0 = the last one;
 * no piece starts at 0, where the first name is). Offsets fit 32 bits: the arena holds
 * at most MAX_HEADER_BYTES of lines plus 8 bytes per line. */
typedef struct {
  uint32_t name_off, name_len;
  uint32_t first, last; /* 0 = no piece yet */
  size_t value_len;     /* of the joined value */
} hname;

typedef struct {
  al_http *http;
  CURL *easy;
  easy_state st; /* of easy */
  char errbuf[CURL_ERROR_SIZE];
  char host[256]; /* for messages: the host only, never the path, query or headers */
  long timeout_ms;
  long connect_timeout_ms;
  long long deadline; /* monotonic ms */
  int streaming;
  size_t max_body;
  /* response */
  long status;
  int headers_done;
  /* response headers as they arrive: each distinct (lower-cased) name once, its value
   * as a chain of pieces, all in one arena; al_xfer_fields_build joins them into one block */
  hname *hn;
  size_t nhn, caphn;
  char *ha;
  size_t ha_len, ha_cap;
  size_t fold_to; /* 1 + index of the previous header line's name (line folding); 0 = none */
  al_http_field *fields; /* built: names and values in the same block */
  size_t nfields, fields_cap;
  size_t header_bytes;
  char *body;
  size_t len, cap;
  int paused;
  int handed_out; /* stream: body[0..len) was returned by next() */
  int too_large; /* 1: body, 2: headers, 3: header names */
  int oom;
  int attached; /* added to http->multi */
  int multiplex; /* batch: HTTP/2 over TLS when the server offers it, one connection */
  int copy_body; /* a pending request: the body may still be sending after start returns */
  int done;
  CURLcode result;
} xfer;

enum { S_OPEN, S_END, S_FAILED, S_DETACHED };

struct al_http_stream {
  xfer x;
  al_http_stream *prev, *next;
  int state;
  int forked_away; /* S_DETACHED by a fork (not by al_http_free) */
  al_error err; /* kept for S_FAILED: next() repeats it */
  long new_connections;
};

/* A started request (al_http_start) is a stream that buffers its whole body
 * (streaming = 0, max_body applies) and was not driven to its headers: it sits in the
 * transport's list of streams, so close and fork detach it with them. */
struct al_http_pending {
  al_http_stream s;
};

/* A socket libcurl opened for this transport: fd plus identity, so that after fork
 * we only ever touch descriptors that still are those very sockets. */
typedef struct {
  int fd;
  dev_t dev;
  ino_t ino;
} tracked_socket;

/* What the URL checks decided for one origin (scheme://authority): every request to a
 * client's base URL has the same one, so the URL is parsed (twice, with allocations)
 * only when the origin changes. The path and query cannot change scheme or host: the
 * authority ends at the first '/', '?' or '#' (RFC 3986, as libcurl parses it). */
typedef struct {
  char *origin; /* malloc'd; NULL = nothing cached */
  size_t origin_n;
  char host[256]; /* as messages show it (al_url_show) */
  char target[256];
  int plain, loopback;
} url_origin;

struct al_http {
  long timeout_ms, connect_timeout_ms;
  char *cafile, *capath, *user_agent;
  /* "User-Agent: <user_agent>": sent in the header list, and as a proxy header for
   * CONNECT tunnels (proxy_headers), on routes that never go through a proxy without a
   * tunnel (see direct_route in http_request.c). Why: from CURLOPT_USERAGENT libcurl
   * 7.88 formats the line byte by byte twice per transfer; from a list it copies it once
   * (about 2k instructions per call). The same bytes in the same place as libcurl's own
   * line: first in the list, followed by the Accept line (any media type) libcurl
   * writes after its User-Agent (unless the request has an Accept); proxy_headers is the
   * User-Agent and the "Proxy-Connection: Keep-Alive" libcurl writes after it in a
   * CONNECT. NULL (then
   * CURLOPT_USERAGENT, as on other routes) when the list cannot say the same: a blank
   * user_agent (libcurl drops a list line with a blank value, and writes "User-Agent: "
   * into a CONNECT), one of 1 MiB or more (libcurl's own errors for it: see al_http_new),
   * or no Accept-Encoding line of ours (see accept_encoding). */
  char *ua_line;
  struct curl_slist *proxy_headers;
  size_t max_body;
  int allow_insecure_http;
  char *proxy; /* NULL = environment, "" = none, else the proxy URL */
  int allow_http_through_proxy;
  pid_t pid; /* the process that made the handles; 0 before the first request */
  /* a page the kernel zeroes in a forked child (MADV_WIPEONFORK): *this_process is 1
   * in the process that made the handles, 0 in a child; NULL where the kernel lacks
   * it, and then getpid() is compared (a system call per request) */
  volatile unsigned char *this_process;
  size_t page;
  CURLM *multi;
  CURL *idle; /* one easy handle kept for the next transfer */
  easy_state idle_st;
  al_http_stream *streams;
  tracked_socket *socks;
  size_t nsocks, capsocks;
  url_origin last; /* the URL checks of the last accepted scheme://authority */
  /* "Accept-Encoding: ..." naming what CURLOPT_ACCEPT_ENCODING "" asks for, sent in the
   * header list ("" = left to libcurl); see accept_encoding_line */
  const char *accept_encoding;
  /* buffers of finished requests, kept for the next one (at most SPARE_MAX bytes each) */
  char *spare_body, *spare_ha, *spare_fields;
  size_t spare_body_cap, spare_ha_cap, spare_fields_cap;
  hname *spare_hn;
  size_t spare_hn_cap;
};

/* ---- helpers of the per-request path: inline in every file that calls them --------- */

static inline long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* snprintf(dst, cap, "%s", src) without the formatting machinery (cap > 0). */
static inline void copy_str(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap) n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* A buffer back to its spare slot when that is empty and the buffer small, else freed. */
static inline void spare_put(void **slot, size_t *slot_cap, void *p, size_t cap) {
  if (p == NULL) return;
  if (*slot == NULL && cap <= SPARE_MAX) {
    *slot = p;
    *slot_cap = cap;
  } else {
    free(p);
  }
}

static inline void *spare_take(void **slot, size_t *slot_cap, size_t *cap) {
  void *p = *slot;
  *cap = p ? *slot_cap : 0;
  *slot = NULL;
  *slot_cap = 0;
  return p;
}

/* The transport is used in another process than the one that made its handles. */
static inline int forked(const al_http *h) {
  if (h->pid == 0) return 0; /* before the first request: no handles to abandon */
  if (h->this_process) return *h->this_process == 0;
  return h->pid != getpid();
}

static inline void easy_state_free(easy_state *st) {
  curl_slist_free_all(st->hdrs);
  curl_url_cleanup(st->uh); /* the handle that pointed at it is cleaned up or never used again */
  free(st->url);
  free(st->hsrc);
  memset(st, 0, sizeof *st);
}

/* Marks every finished transfer of this transport, whoever it belongs to. */
static inline void collect_done(al_http *h) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
    if (m->msg == CURLMSG_DONE) {
      void *p = NULL;
      curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
      if (p) {
        xfer *x = p;
        x->done = 1;
        x->result = m->data.result;
      }
    }
  }
}

static inline long info_long(CURL *e, CURLINFO what) {
  long v = 0;
  if (curl_easy_getinfo(e, what, &v) != CURLE_OK) return 0;
  return v;
}

/* Runs the multi until x is done or ready(x) holds. Other transfers of this transport
 * (streams) move too, but their buffers are capped by pausing. Inline: a constant ready
 * (a stream's, a pending request's) is then checked without a call. */
static inline int drive(al_http *h, xfer *x, int (*ready)(const xfer *), al_error *err) {
  for (;;) {
    int running = 0;
    long long wait;
    CURLMcode mc = curl_multi_perform(h->multi, &running);
    if (mc != CURLM_OK)
      return al_fail(err, AL_ERR_NETWORK, "", "request to %s failed: libcurl: %s", x->host, curl_multi_strerror(mc));
    collect_done(h);
    if (x->done || (ready && ready(x))) return 0;
    wait = x->deadline - now_ms();
    if (wait <= 0) { /* libcurl's own timer should have fired: never wait past the deadline */
      x->done = 1;
      x->result = CURLE_OPERATION_TIMEDOUT;
      snprintf(x->errbuf, sizeof x->errbuf, "no response within %ld ms", x->timeout_ms);
      return 0;
    }
    mc = curl_multi_poll(h->multi, NULL, 0, (int)(wait < POLL_SLICE_MS ? wait : POLL_SLICE_MS), NULL);
    if (mc != CURLM_OK)
      return al_fail(err, AL_ERR_NETWORK, "", "request to %s failed: libcurl: %s", x->host, curl_multi_strerror(mc));
  }
}

/* ---- across the files ------------------------------------------------------------ */

/* http.c: the transport object and driving */
/* Before any use: a new process gets fresh handles; a missing multi is created. */
int al_http_ensure_ready(al_http *h, al_error *err);
/* Takes the transfer out of the multi and hands its easy handle, options still set,
 * back for reuse. */
void al_xfer_release(al_http *h, xfer *x);
/* Frees x's buffers, or keeps them in h's spare slots for the next request (h may be NULL). */
void al_xfer_free_buffers(al_http *h, xfer *x);
/* Moves a finished transfer's outcome into *res or *err and gives its handle back. */
int al_xfer_finish(al_http *h, xfer *x, al_http_response *res, al_error *err);
/* libcurl's socket callbacks: every socket tracked for fork */
curl_socket_t al_http_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a);
int al_http_close_socket(void *clientp, curl_socket_t fd);

/* http_request.c: checks the request, prepares an easy handle for it and adds it to
 * the multi (streaming: the body is handed out as it arrives) */
int al_xfer_start(al_http *h, xfer *x, const al_http_request *req, int streaming, al_error *err);

/* http_response.c: libcurl's header and body callbacks, and the headers joined into
 * x->fields (0, or -1 out of memory) */
size_t al_xfer_on_header(char *p, size_t size, size_t nitems, void *ud);
size_t al_xfer_on_body(char *p, size_t size, size_t nitems, void *ud);
int al_xfer_fields_build(al_http *h, xfer *x);

/* http_error.c: the transfer's failure as one line in *err; returns -1 */
int al_xfer_error(const xfer *x, CURLcode rc, al_error *err);

#endif
