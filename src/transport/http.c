/* The libcurl transport. See http.h for the contract.
 *
 * Design notes (why, not what):
 * - Every transfer, blocking or streamed, runs on the transport's multi handle and is
 *   driven one step at a time (curl_multi_perform + curl_multi_poll). The multi's
 *   connection cache is what keeps connections alive between requests and streams;
 *   a blocking request is simply a transfer driven until it is done.
 * - libcurl's callbacks only copy bytes into C buffers and return. No Lua runs inside
 *   libcurl, so no longjmp can cross its frames and no stale lua_State is ever used.
 * - A stream's buffer holds only what the caller has not taken yet: once it reaches
 *   STREAM_HIGH_WATER the write callback pauses the transfer, and next() resumes it.
 * - A pending request (al_http_start) is a stream that buffers its whole answer and was
 *   driven only until its request was written: it lives in the list of open streams, so
 *   close and fork detach it, and any drive of the multi moves it along.
 * - curl_global_init runs once per process under pthread_once and curl_global_cleanup
 *   never runs (other Lua VMs and threads, or the host, may still be using libcurl).
 *   With the CURL_VERSION_THREADSAFE feature bit (libcurl >= 7.84 built with atomics;
 *   Debian 12's 7.88.1 has it) curl_global_init is also safe against other libraries
 *   calling it at the same time; without it only our own calls are serialised.
 *   al_http_library_info reports the bit.
 * - Apart from the once-flag there is no process-wide mutable state: nginx loads the
 *   module into many VMs and threads.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MADV_WIPEONFORK */
#endif
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "../core/text.h"
#include "../core/url.h"
#include "proxy.h"
#include "urlcheck.h"

#if !defined(LIBCURL_VERSION_NUM) || LIBCURL_VERSION_NUM < 0x074200
#error "alephant needs libcurl 7.66.0 or newer (curl_multi_poll)"
#endif

#ifndef ALEPHANT_VERSION
#define ALEPHANT_VERSION "scm"
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
   * as a chain of pieces, all in one arena; fields_build joins them into one block */
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

/* ---- process-wide initialisation ------------------------------------------------- */

static pthread_once_t al_curl_once = PTHREAD_ONCE_INIT;
/* The Accept-Encoding line of the libcurl this process runs (accept_encoding_line):
 * written once under al_curl_once, read-only after. A property of the library, not of
 * a client: curl_version_info formats its version strings on every call (~20k
 * instructions), too much for each alephant.new. */
static char al_accept_encoding[64];

static void accept_encoding_line(char *out, size_t cap);

static void curl_init_once(void) {
  /* The result is not kept (that would be more global state): should it fail,
   * curl_multi_init/curl_easy_init return NULL later and that is reported. */
  (void)curl_global_init(CURL_GLOBAL_DEFAULT);
  /* libcurl fills its static version data on the first call: do it while alone. */
  accept_encoding_line(al_accept_encoding, sizeof al_accept_encoding);
}

static void library_init(void) { (void)pthread_once(&al_curl_once, curl_init_once); }

/* The Accept-Encoding line libcurl would send for CURLOPT_ACCEPT_ENCODING "" (every
 * encoding it can decode, in its order), or "" to let libcurl send it. libcurl 7.x
 * formats its own line byte by byte, twice, on every request (about 4k instructions);
 * from the header list it is copied once. CURLOPT_ACCEPT_ENCODING stays set: it is what
 * turns decoding on, and libcurl adds no second line when the list has one. */
static void accept_encoding_line(char *out, size_t cap) {
  const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
  out[0] = '\0';
  if (!(v->features & CURL_VERSION_LIBZ)) return; /* unusual builds: libcurl's own line */
  snprintf(out, cap, "Accept-Encoding: deflate, gzip%s%s",
#ifdef CURL_VERSION_BROTLI
           (v->features & CURL_VERSION_BROTLI) ? ", br" : "",
#else
           "",
#endif
#ifdef CURL_VERSION_ZSTD
           (v->features & CURL_VERSION_ZSTD) ? ", zstd" : ""
#else
           ""
#endif
  );
}

void al_http_library_info(al_http_info *info) {
  const curl_version_info_data *v;
  library_init();
  v = curl_version_info(CURLVERSION_NOW);
  info->curl_version = v->version;
  info->ssl_version = v->ssl_version;
#ifdef CURL_VERSION_THREADSAFE
  info->threadsafe = (v->features & CURL_VERSION_THREADSAFE) != 0;
#else
  info->threadsafe = 0;
#endif
  info->async_dns = (v->features & CURL_VERSION_ASYNCHDNS) != 0;
}

/* ---- small helpers --------------------------------------------------------------- */

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *dup_opt(const char *s, int *oom) {
  char *d;
  if (s == NULL) return NULL;
  d = malloc(strlen(s) + 1);
  if (d == NULL) {
    *oom = 1;
    return NULL;
  }
  return strcpy(d, s);
}

static int ieq(const char *a, size_t n, const char *lit) {
  size_t i;
  if (strlen(lit) != n) return 0;
  for (i = 0; i < n; i++) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != lit[i]) return 0;
  }
  return 1;
}

/* snprintf(dst, cap, "%s", src) without the formatting machinery (cap > 0). */
static void copy_str(char *dst, size_t cap, const char *src) {
  size_t n = strlen(src);
  if (n >= cap) n = cap - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* Copies libcurl's message as one line without trailing blanks. */
static void one_line(char *dst, size_t cap, const char *src) {
  size_t i = 0;
  for (; *src && i + 1 < cap; src++) dst[i++] = ((unsigned char)*src < 0x20 || *src == 0x7f) ? ' ' : *src;
  while (i > 0 && dst[i - 1] == ' ') i--;
  dst[i] = '\0';
}

/* ---- sockets: tracked for fork -------------------------------------------------- */

static void track_forget(al_http *h, int fd) {
  size_t i;
  for (i = 0; i < h->nsocks; i++) {
    if (h->socks[i].fd == fd) {
      h->socks[i] = h->socks[--h->nsocks];
      return;
    }
  }
}

static int track_add(al_http *h, int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return -1;
  track_forget(h, fd); /* libcurl closes losing happy-eyeballs sockets itself: the number may be stale */
  if (h->nsocks == h->capsocks) {
    size_t cap = h->capsocks ? h->capsocks * 2 : 8;
    tracked_socket *p = realloc(h->socks, cap * sizeof *p);
    if (p == NULL) return -1;
    h->socks = p;
    h->capsocks = cap;
  }
  h->socks[h->nsocks].fd = fd;
  h->socks[h->nsocks].dev = st.st_dev;
  h->socks[h->nsocks].ino = st.st_ino;
  h->nsocks++;
  return 0;
}

static curl_socket_t open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a) {
  al_http *h = clientp;
  int type = a->socktype;
  curl_socket_t fd;
  (void)purpose;
#ifdef SOCK_CLOEXEC
  type |= SOCK_CLOEXEC; /* a kept-alive socket must not leak into programs we exec */
#endif
  fd = socket(a->family, type, a->protocol);
  if (fd == CURL_SOCKET_BAD) return fd;
  if (track_add(h, fd) != 0) {
    close(fd);
    return CURL_SOCKET_BAD;
  }
  return fd;
}

static int close_socket(void *clientp, curl_socket_t fd) {
  track_forget(clientp, fd);
  return close(fd);
}

/* ---- response headers ------------------------------------------------------------ */

/* A buffer back to its spare slot when that is empty and the buffer small, else freed. */
static void spare_put(void **slot, size_t *slot_cap, void *p, size_t cap) {
  if (p == NULL) return;
  if (*slot == NULL && cap <= SPARE_MAX) {
    *slot = p;
    *slot_cap = cap;
  } else {
    free(p);
  }
}

static void *spare_take(void **slot, size_t *slot_cap, size_t *cap) {
  void *p = *slot;
  *cap = p ? *slot_cap : 0;
  *slot = NULL;
  *slot_cap = 0;
  return p;
}

/* Forgets the headers collected so far (a new response begins, after a 1xx). */
static void fields_clear(xfer *x) {
  x->nhn = 0;
  x->ha_len = 0;
  x->fold_to = 0;
  if (x->fields) { /* built already (a stream): not valid any more */
    free(x->fields);
    x->fields = NULL;
    x->nfields = x->fields_cap = 0;
  }
}

static void trim(const char **s, size_t *n) {
  while (*n && (**s == ' ' || **s == '\t')) (*s)++, (*n)--;
  while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

static int arena_reserve(xfer *x, size_t extra) {
  size_t want = x->ha_len + extra, cap;
  char *p;
  if (want <= x->ha_cap) return 0;
  cap = x->ha_cap ? x->ha_cap : 1024;
  while (cap < want) cap *= 2; /* bounded: MAX_HEADER_BYTES of lines */
  p = realloc(x->ha, cap);
  if (p == NULL) return -1;
  x->ha = p;
  x->ha_cap = cap;
  return 0;
}

/* Appends a value piece to name f; fold: joined with " " (line folding), else ", ". */
static int piece_add(xfer *x, size_t fi, const char *v, size_t vn, int fold) {
  hname *f;
  uint32_t off, next = 0, lenf = (uint32_t)vn | (fold ? FOLD_BIT : 0);
  if (arena_reserve(x, 8 + vn)) return -1;
  off = (uint32_t)x->ha_len;
  memcpy(x->ha + off, &next, 4);
  memcpy(x->ha + off + 4, &lenf, 4);
  if (vn) memcpy(x->ha + off + 8, v, vn);
  x->ha_len += 8 + vn;
  f = &x->hn[fi];
  if (f->first == 0) {
    f->first = f->last = off;
    f->value_len = vn;
  } else {
    memcpy(x->ha + f->last, &off, 4);
    f->last = off;
    f->value_len += (fold ? 1 : 2) + vn;
  }
  x->fold_to = fi + 1;
  return 0;
}

static int lower_eq(const char *lower, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (c != lower[i]) return 0;
  }
  return 1;
}

static int field_add(xfer *x, const char *name, size_t nn, const char *v, size_t vn) {
  size_t i;
  hname *f;
  char *dst;
  for (i = 0; i < x->nhn; i++)
    if (x->hn[i].name_len == nn && lower_eq(x->ha + x->hn[i].name_off, name, nn)) return piece_add(x, i, v, vn, 0);
  if (x->nhn == MAX_HEADER_FIELDS) {
    x->too_large = 3;
    return -1;
  }
  if (x->nhn == x->caphn) {
    size_t cap = x->caphn ? x->caphn * 2 : 16;
    hname *p = realloc(x->hn, cap * sizeof *p);
    if (p == NULL) return -1;
    x->hn = p;
    x->caphn = cap;
  }
  if (arena_reserve(x, nn)) return -1;
  dst = x->ha + x->ha_len;
  for (i = 0; i < nn; i++) dst[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] - 'A' + 'a') : name[i];
  f = &x->hn[x->nhn++];
  f->name_off = (uint32_t)x->ha_len;
  f->name_len = (uint32_t)nn;
  f->first = f->last = 0;
  f->value_len = 0;
  x->ha_len += nn;
  return piece_add(x, x->nhn - 1, v, vn, 0);
}

/* Joins the collected headers into x->fields: one block, the field array first, then
 * each "name\0value\0". 0, or -1 out of memory. */
static int fields_build(al_http *h, xfer *x) {
  size_t i, size = x->nhn * sizeof(al_http_field), cap;
  char *block, *p;
  if (x->fields) return 0;
  if (x->nhn == 0) return 0;
  for (i = 0; i < x->nhn; i++) size += x->hn[i].name_len + 1 + x->hn[i].value_len + 1;
  block = h ? spare_take((void **)&h->spare_fields, &h->spare_fields_cap, &cap) : NULL;
  if (block == NULL || cap < size) {
    free(block);
    block = malloc(size);
    if (block == NULL) return -1;
    cap = size;
  }
  x->fields = (al_http_field *)(void *)block;
  x->fields_cap = cap;
  x->nfields = x->nhn;
  p = block + x->nhn * sizeof(al_http_field);
  for (i = 0; i < x->nhn; i++) {
    const hname *n = &x->hn[i];
    al_http_field *f = &x->fields[i];
    uint32_t off = n->first;
    f->name = p;
    f->name_len = n->name_len;
    memcpy(p, x->ha + n->name_off, n->name_len);
    p += n->name_len;
    *p++ = '\0';
    f->value = p;
    f->value_len = n->value_len;
    while (off) {
      uint32_t next, lenf, len;
      memcpy(&next, x->ha + off, 4);
      memcpy(&lenf, x->ha + off + 4, 4);
      len = lenf & ~FOLD_BIT;
      if (off != n->first) {
        if (lenf & FOLD_BIT) {
          *p++ = ' ';
        } else {
          *p++ = ',';
          *p++ = ' ';
        }
      }
      memcpy(p, x->ha + off + 8, len);
      p += len;
      off = next;
    }
    *p++ = '\0';
  }
  return 0;
}

static long parse_status(const char *p, size_t n) {
  const char *sp = memchr(p, ' ', n);
  size_t off;
  if (sp == NULL) return 0;
  off = (size_t)(sp - p) + 1;
  if (n - off < 3) return 0;
  if (p[off] < '1' || p[off] > '9' || p[off + 1] < '0' || p[off + 1] > '9' || p[off + 2] < '0' || p[off + 2] > '9')
    return 0;
  return (p[off] - '0') * 100 + (p[off + 1] - '0') * 10 + (p[off + 2] - '0');
}

/* One header line per call, status lines included. Each "HTTP/" line starts a new
 * response (after 1xx): only the final response's headers are kept. */
static size_t on_header(char *p, size_t size, size_t nitems, void *ud) {
  xfer *x = ud;
  size_t total = size * nitems, n = total;
  const char *colon, *name, *value;
  size_t nn, vn;
  if (n > MAX_HEADER_BYTES - x->header_bytes) {
    x->too_large = 2;
    return 0;
  }
  x->header_bytes += n;
  while (n && (p[n - 1] == '\r' || p[n - 1] == '\n')) n--;
  if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
    fields_clear(x);
    x->status = parse_status(p, n);
    x->headers_done = 0;
    return total;
  }
  if (x->headers_done) return total; /* chunked trailers are not kept */
  if (n == 0) {
    if (x->status < 100 || x->status >= 200) x->headers_done = 1;
    return total;
  }
  if ((p[0] == ' ' || p[0] == '\t') && x->fold_to) { /* obsolete line folding */
    value = p;
    vn = n;
    trim(&value, &vn);
    if (piece_add(x, x->fold_to - 1, value, vn, 1)) goto oom; /* to the previous line's value */
    return total;
  }
  colon = memchr(p, ':', n);
  if (colon == NULL) return total;
  name = p;
  nn = (size_t)(colon - p);
  trim(&name, &nn);
  if (nn == 0) return total;
  value = colon + 1;
  vn = n - (size_t)(value - p);
  trim(&value, &vn);
  if (field_add(x, name, nn, value, vn)) {
    if (x->too_large) return 0;
    goto oom;
  }
  return total;
oom:
  x->oom = 1;
  return 0;
}

/* ---- response body --------------------------------------------------------------- */

static int body_reserve(xfer *x, size_t extra) {
  size_t want = x->len + extra, cap;
  char *p;
  if (want <= x->cap) return 0;
  cap = x->cap ? x->cap : 16384;
  while (cap < want) cap = cap > SIZE_MAX / 2 ? want : cap * 2;
  if (!x->streaming && cap > x->max_body) cap = x->max_body; /* want <= max_body here */
  p = realloc(x->body, cap);
  if (p == NULL) return -1;
  x->body = p;
  x->cap = cap;
  return 0;
}

static size_t on_body(char *p, size_t size, size_t nitems, void *ud) {
  xfer *x = ud;
  size_t n = size * nitems;
  if (x->streaming) {
    if (x->len >= STREAM_HIGH_WATER) { /* libcurl keeps these bytes and offers them again */
      x->paused = 1;
      return CURL_WRITEFUNC_PAUSE;
    }
  } else if (n > x->max_body - x->len) {
    x->too_large = 1;
    return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
  }
  if (n == 0) return 0;
  if (body_reserve(x, n)) {
    x->oom = 1;
    return 0;
  }
  memcpy(x->body + x->len, p, n);
  x->len += n;
  return n;
}

/* ---- errors ---------------------------------------------------------------------- */

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
static int xfer_error(const xfer *x, CURLcode rc, al_error *err) {
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

/* ---- the transport --------------------------------------------------------------- */

/* The transport is used in another process than the one that made its handles. */
static int forked(const al_http *h) {
  if (h->pid == 0) return 0; /* before the first request: no handles to abandon */
  if (h->this_process) return *h->this_process == 0;
  return h->pid != getpid();
}

static void fork_marker_new(al_http *h) {
#ifdef MADV_WIPEONFORK
  long ps = sysconf(_SC_PAGESIZE);
  size_t page = ps > 0 ? (size_t)ps : 4096;
  void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
  if (madvise(p, page, MADV_WIPEONFORK) != 0) {
    munmap(p, page);
    return;
  }
  h->this_process = p;
  h->page = page;
  *h->this_process = 1;
#else
  (void)h;
#endif
}

al_http *al_http_new(const al_http_options *o, al_error *err) {
  al_http_options dflt;
  al_http *h;
  int oom = 0;
  library_init();
  if (o == NULL) {
    memset(&dflt, 0, sizeof dflt);
    o = &dflt;
  }
  if (o->timeout_ms < 0 || o->timeout_ms > AL_HTTP_MAX_TIMEOUT_MS) {
    al_fail(err, AL_ERR_CONFIG, "timeout", "timeout must be between 1 ms and %ld ms", AL_HTTP_MAX_TIMEOUT_MS);
    return NULL;
  }
  if (o->connect_timeout_ms < 0 || o->connect_timeout_ms > AL_HTTP_MAX_TIMEOUT_MS) {
    al_fail(err, AL_ERR_CONFIG, "connect_timeout", "connect_timeout must be between 1 ms and %ld ms",
            AL_HTTP_MAX_TIMEOUT_MS);
    return NULL;
  }
  if (o->proxy && al_http_check_proxy(o->proxy, err)) return NULL;
  h = calloc(1, sizeof *h);
  if (h == NULL) {
    al_fail(err, AL_ERR_NETWORK, "", "out of memory creating the HTTP transport");
    return NULL;
  }
  h->timeout_ms = o->timeout_ms ? o->timeout_ms : AL_HTTP_DEFAULT_TIMEOUT_MS;
  h->connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms : AL_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
  h->max_body = o->max_body ? o->max_body : AL_HTTP_DEFAULT_MAX_BODY;
  h->allow_insecure_http = o->allow_insecure_http;
  h->allow_http_through_proxy = o->allow_http_through_proxy;
  h->proxy = dup_opt(o->proxy, &oom);
  h->cafile = dup_opt(o->cafile, &oom);
  h->capath = dup_opt(o->capath, &oom);
  h->user_agent = dup_opt(o->user_agent ? o->user_agent : "alephant-lua/" ALEPHANT_VERSION, &oom);
  h->accept_encoding = al_accept_encoding; /* filled by library_init above */
  /* The multi handle and the fork marker are made by the first request (ensure_ready):
   * libcurl's multi holds a wake-up socket pair, two descriptors per transport, the
   * marker a page and two system calls, and a client that never sends (one of many
   * cached per nginx worker) should cost neither them nor the time. */
  if (oom) {
    al_fail(err, AL_ERR_NETWORK, "", "out of memory creating the HTTP transport");
    al_http_free(h);
    return NULL;
  }
  return h;
}

static void easy_state_free(easy_state *st) {
  curl_slist_free_all(st->hdrs);
  curl_url_cleanup(st->uh); /* the handle that pointed at it is cleaned up or never used again */
  free(st->url);
  free(st->hsrc);
  memset(st, 0, sizeof *st);
}

/* Takes the transfer out of the multi and hands its easy handle, options still set,
 * back for reuse. */
static void xfer_release(al_http *h, xfer *x) {
  if (x->easy) {
    if (x->attached) curl_multi_remove_handle(h->multi, x->easy);
    x->attached = 0;
    /* the error buffer is x's: libcurl must not keep it (the callbacks' data is only
     * used during a transfer, and the next one sets it again) */
    (void)curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, (char *)NULL);
    if (h->idle == NULL && x->st.configured) {
      h->idle = x->easy;
      h->idle_st = x->st;
      memset(&x->st, 0, sizeof x->st);
    } else {
      curl_easy_cleanup(x->easy);
    }
    x->easy = NULL;
  }
  easy_state_free(&x->st);
}

/* Frees x's buffers, or keeps them in h's spare slots for the next request (h may be NULL). */
static void xfer_free_buffers(al_http *h, xfer *x) {
  if (h) {
    spare_put((void **)&h->spare_fields, &h->spare_fields_cap, x->fields, x->fields_cap);
    spare_put((void **)&h->spare_hn, &h->spare_hn_cap, x->hn, x->caphn * sizeof *x->hn);
    spare_put((void **)&h->spare_ha, &h->spare_ha_cap, x->ha, x->ha_cap);
    spare_put((void **)&h->spare_body, &h->spare_body_cap, x->body, x->cap);
  } else {
    free(x->fields);
    free(x->hn);
    free(x->ha);
    free(x->body);
  }
  x->fields = NULL;
  x->nfields = x->fields_cap = 0;
  x->hn = NULL;
  x->nhn = x->caphn = 0;
  x->ha = NULL;
  x->ha_len = x->ha_cap = 0;
  x->fold_to = 0;
  x->body = NULL;
  x->len = x->cap = 0;
}

/* A blocking request starts with the buffers the previous one left (see SPARE_MAX). */
static void xfer_take_spares(al_http *h, xfer *x) {
  size_t bytes;
  x->body = spare_take((void **)&h->spare_body, &h->spare_body_cap, &x->cap);
  x->ha = spare_take((void **)&h->spare_ha, &h->spare_ha_cap, &x->ha_cap);
  x->hn = spare_take((void **)&h->spare_hn, &h->spare_hn_cap, &bytes);
  x->caphn = bytes / sizeof *x->hn;
}

/* Stream whose transport went away: its transfer is gone, the struct stays with its owner. */
static void stream_detach(al_http_stream *s, int curl_ok, int by_fork) {
  al_http *h = s->x.http;
  if (curl_ok) {
    xfer_release(h, &s->x);
  } else { /* after fork without /dev/null: leave libcurl's objects alone */
    s->x.easy = NULL;
    easy_state_free(&s->x.st);
  }
  s->x.http = NULL;
  s->state = S_DETACHED;
  s->forked_away = by_fork;
  s->prev = s->next = NULL;
}

static void detach_all_streams(al_http *h, int curl_ok, int by_fork) {
  al_http_stream *s = h->streams, *next;
  h->streams = NULL;
  for (; s; s = next) {
    next = s->next;
    stream_detach(s, curl_ok, by_fork);
  }
}

/* In a forked child: the connections belong to the parent. Point our copies of their
 * descriptors at /dev/null, so that libcurl's cleanup (TLS close_notify, reading a
 * pending alert) cannot touch the parent's streams, then clean up. If /dev/null cannot
 * be opened, leak the handles rather than risk the parent's connections. */
static void abandon_after_fork(al_http *h) {
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  size_t i;
  if (devnull < 0) {
    detach_all_streams(h, 0, 1);
    h->idle = NULL;
    easy_state_free(&h->idle_st);
    h->multi = NULL;
    h->nsocks = 0;
    return;
  }
  for (i = 0; i < h->nsocks; i++) {
    struct stat st;
    const tracked_socket *t = &h->socks[i];
    if (fstat(t->fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == t->dev && st.st_ino == t->ino)
      (void)dup2(devnull, t->fd);
  }
  close(devnull);
  detach_all_streams(h, 1, 1);
  if (h->idle) curl_easy_cleanup(h->idle);
  h->idle = NULL;
  easy_state_free(&h->idle_st);
  if (h->multi) curl_multi_cleanup(h->multi);
  h->multi = NULL;
  h->nsocks = 0;
}

/* Before any use: a new process gets fresh handles; a missing multi is created. */
static int ensure_ready(al_http *h, al_error *err) {
  if (h->pid == 0) { /* the first request: this process makes the handles */
    h->pid = getpid();
    fork_marker_new(h);
  } else if (forked(h)) {
    abandon_after_fork(h);
    h->pid = getpid();
    if (h->this_process) *h->this_process = 1;
  }
  if (h->multi == NULL) {
    h->multi = curl_multi_init();
    if (h->multi == NULL) return al_fail(err, AL_ERR_NETWORK, "", "libcurl could not be initialised");
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, MAX_CONNECTIONS);
  }
  return 0;
}

void al_http_free(al_http *h) {
  if (h == NULL) return;
  if (forked(h))
    abandon_after_fork(h);
  else
    detach_all_streams(h, 1, 0);
  if (h->idle) curl_easy_cleanup(h->idle);
  easy_state_free(&h->idle_st);
  if (h->multi) curl_multi_cleanup(h->multi); /* closes its connections through close_socket */
  if (h->this_process) munmap((void *)h->this_process, h->page);
  free(h->socks);
  free(h->cafile);
  free(h->capath);
  free(h->proxy);
  free(h->user_agent);
  free(h->last.origin);
  free(h->spare_body);
  free(h->spare_ha);
  free(h->spare_hn);
  free(h->spare_fields);
  free(h);
}

size_t al_http_open_transfers(const al_http *h) {
  const al_http_stream *s;
  size_t n = 0;
  if (h == NULL) return 0;
  for (s = h->streams; s; s = s->next) n++;
  return n;
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
 * Content-Type to; the list is rebuilt when the kind changes (the handle is reset). */
static int build_headers(struct curl_slist **out, const al_http_request *req, int with_body, const char *accept_line,
                         al_error *err) {
  size_t i, total = 0;
  int has_expect = 0, has_ctype = 0, has_accept_encoding = 0;
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

#define SET(opt, val)                                                \
  do {                                                               \
    if (curl_easy_setopt(e, opt, val) != CURLE_OK) goto setopt_fail; \
  } while (0)

/* Checks the request, prepares an easy handle for it and adds it to the multi. */
static int xfer_start(al_http *h, xfer *x, const al_http_request *req, int streaming, al_error *err) {
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
  if (ensure_ready(h, err)) goto fail;

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
    SET(CURLOPT_USERAGENT, h->user_agent);
    SET(CURLOPT_ACCEPT_ENCODING, ""); /* every encoding this libcurl can decode */
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    /* HTTP/1.1 keeps connection reuse predictable and avoids libcurl 7.x's HTTP/2
     * pause corner cases; the SDK issues one request at a time per transport. */
    SET(CURLOPT_HTTP_VERSION, (long)(x->multiplex ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1));
    if (x->multiplex) SET(CURLOPT_PIPEWAIT, 1L); /* wait for a connection that can multiplex */
    SET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L); /* a proxy's CONNECT reply is not the response */
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_OPENSOCKETFUNCTION, open_socket);
    SET(CURLOPT_OPENSOCKETDATA, (void *)h);
    SET(CURLOPT_CLOSESOCKETFUNCTION, close_socket);
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
    if (build_headers(&list, req, kind == REQ_BODY, h->accept_encoding, err)) {
      curl_slist_free_all(list);
      goto fail;
    }
    if (curl_easy_setopt(e, CURLOPT_HTTPHEADER, list) != CURLE_OK) {
      curl_slist_free_all(list);
      goto setopt_fail;
    }
    curl_slist_free_all(x->st.hdrs); /* libcurl now holds the new list */
    x->st.hdrs = list;
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
      SET(CURLOPT_CURLU, x->st.uh);
      SET(CURLOPT_URL, (char *)NULL); /* libcurl takes its own copy from the CURLU, once */
    } else { /* libcurl parses it (and refuses it with its own message) */
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
  xfer_release(h, x);
  return -1;
}

#undef SET

/* Marks every finished transfer of this transport, whoever it belongs to. */
static void collect_done(al_http *h) {
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

/* Runs the multi until x is done or ready(x) holds. Other transfers of this transport
 * (streams) move too, but their buffers are capped by pausing. */
static int drive(al_http *h, xfer *x, int (*ready)(const xfer *), al_error *err) {
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

static long info_long(CURL *e, CURLINFO what) {
  long v = 0;
  if (curl_easy_getinfo(e, what, &v) != CURLE_OK) return 0;
  return v;
}

/* Moves x's headers (joined now) and body into res. */
static int response_take(al_http *h, xfer *x, al_http_response *res, al_error *err) {
  if (fields_build(h, x))
    return al_fail(err, AL_ERR_NETWORK, "", "out of memory reading the response from %s", x->host);
  res->headers = x->fields;
  res->nheaders = x->nfields;
  res->headers_cap = x->fields_cap;
  res->body = x->body;
  res->body_len = x->len;
  res->body_cap = x->cap;
  x->fields = NULL;
  x->nfields = x->fields_cap = 0;
  x->body = NULL;
  x->len = x->cap = 0;
  return 0;
}

/* Moves a finished transfer's outcome into *res or *err and gives its handle back: the
 * end of every buffered request (al_http_perform, a batch's, a pending one's). */
static int xfer_finish(al_http *h, xfer *x, al_http_response *res, al_error *err) {
  int rc = x->result != CURLE_OK ? xfer_error(x, x->result, err) : 0;
  if (rc == 0) {
    res->status = info_long(x->easy, CURLINFO_RESPONSE_CODE);
    if (res->status == 0) res->status = x->status;
    res->new_connections = info_long(x->easy, CURLINFO_NUM_CONNECTS);
    res->local_port = info_long(x->easy, CURLINFO_LOCAL_PORT);
    rc = response_take(h, x, res, err);
  }
  xfer_release(h, x);
  xfer_free_buffers(h, x);
  return rc;
}

int al_http_perform(al_http *h, const al_http_request *req, al_http_response *res, al_error *err) {
  xfer x;
  memset(res, 0, sizeof *res);
  memset(&x, 0, sizeof x);
  if (xfer_start(h, &x, req, 0, err)) return -1;
  if (drive(h, &x, NULL, err)) {
    xfer_release(h, &x);
    xfer_free_buffers(h, &x);
    return -1;
  }
  return xfer_finish(h, &x, res, err);
}

/* ---- batches --------------------------------------------------------------------- */

int al_http_perform_many(al_http *h, const al_http_request *reqs, size_t n, size_t max_concurrency,
                         al_http_response *res, al_error *errs, int *rcs) {
  xfer *xs;
  unsigned char *state; /* 0 waiting, 1 running, 2 finished */
  size_t next = 0, active = 0, finished = 0, i;
  if (n == 0) return 0;
  if (max_concurrency == 0) max_concurrency = 1;
  xs = calloc(n, sizeof *xs);
  state = calloc(n, 1);
  if (xs == NULL || state == NULL) {
    free(xs);
    free(state);
    for (i = 0; i < n; i++) {
      memset(&res[i], 0, sizeof res[i]);
      rcs[i] = al_fail(&errs[i], AL_ERR_NETWORK, "", "out of memory starting a batch of %zu requests", n);
    }
    return -1;
  }
  for (i = 0; i < n; i++) {
    memset(&res[i], 0, sizeof res[i]);
    rcs[i] = 0;
  }
  while (finished < n) {
    int running = 0;
    long long wait = POLL_SLICE_MS, now;
    CURLMcode mc;
    while (active < max_concurrency && next < n) {
      xs[next].multiplex = 1;
      if (xfer_start(h, &xs[next], &reqs[next], 0, &errs[next])) {
        rcs[next] = -1;
        state[next] = 2;
        finished++;
      } else {
        state[next] = 1;
        active++;
      }
      next++;
    }
    if (active == 0) continue; /* every started request failed before sending: start more */
    mc = curl_multi_perform(h->multi, &running);
    if (mc == CURLM_OK) collect_done(h);
    now = now_ms();
    for (i = 0; i < next; i++) {
      xfer *x = &xs[i];
      if (state[i] != 1) continue;
      if (mc != CURLM_OK) {
        x->done = 1;
        x->result = CURLE_RECV_ERROR;
        snprintf(x->errbuf, sizeof x->errbuf, "libcurl: %s", curl_multi_strerror(mc));
      } else if (!x->done && x->deadline <= now) { /* our backstop behind libcurl's own timer */
        x->done = 1;
        x->result = CURLE_OPERATION_TIMEDOUT;
        snprintf(x->errbuf, sizeof x->errbuf, "no response within %ld ms", x->timeout_ms);
      }
      if (x->done) {
        rcs[i] = xfer_finish(h, x, &res[i], &errs[i]);
        state[i] = 2;
        active--;
        finished++;
      } else if (x->deadline - now < wait) {
        wait = x->deadline - now;
      }
    }
    if (finished == n || (active < max_concurrency && next < n)) continue;
    mc = curl_multi_poll(h->multi, NULL, 0, (int)(wait > 0 ? wait : 0), NULL);
    (void)mc; /* a failing poll shows again in curl_multi_perform */
  }
  free(xs);
  free(state);
  return 0;
}

void al_http_response_free(al_http_response *res) {
  if (res == NULL) return;
  free(res->headers);
  free(res->body);
  memset(res, 0, sizeof *res);
}

void al_http_response_recycle(al_http *h, al_http_response *res) {
  if (res == NULL) return;
  if (h == NULL) {
    al_http_response_free(res);
    return;
  }
  spare_put((void **)&h->spare_fields, &h->spare_fields_cap, res->headers, res->headers_cap);
  spare_put((void **)&h->spare_body, &h->spare_body_cap, res->body, res->body_cap);
  memset(res, 0, sizeof *res);
}

/* ---- streams --------------------------------------------------------------------- */

static int headers_known(const xfer *x) { return x->headers_done; }
static int has_data(const xfer *x) { return x->len > 0; }

/* Opens s and puts it on the transport's list (streams and pending requests): before it is
 * driven, since collect_done may finish it, and so that close and fork detach it. */
static void stream_link(al_http *h, al_http_stream *s) {
  s->state = S_OPEN;
  s->next = h->streams;
  if (h->streams) h->streams->prev = s;
  h->streams = s;
}

static void stream_unlink(al_http_stream *s) {
  al_http *h = s->x.http;
  if (h == NULL) return;
  if (s->prev)
    s->prev->next = s->next;
  else if (h->streams == s)
    h->streams = s->next;
  if (s->next) s->next->prev = s->prev;
  s->prev = s->next = NULL;
}

/* Ends the transfer with an error kept for later next() calls. */
static int stream_fail(al_http_stream *s, al_error *err) {
  s->state = S_FAILED;
  s->err = *err;
  stream_unlink(s);
  if (s->x.http) xfer_release(s->x.http, &s->x);
  s->x.http = NULL;
  return -1;
}

int al_http_stream_open(al_http *h, const al_http_request *req, al_http_stream **out, al_error *err) {
  al_http_stream *s = calloc(1, sizeof *s);
  int rc;
  *out = NULL;
  if (s == NULL) return al_fail(err, AL_ERR_NETWORK, "", "out of memory opening a stream");
  if (xfer_start(h, &s->x, req, 1, err)) {
    free(s);
    return -1;
  }
  stream_link(h, s);
  rc = drive(h, &s->x, headers_known, err);
  if (rc == 0 && !s->x.headers_done) /* ended before a response began */
    rc = xfer_error(&s->x, s->x.result != CURLE_OK ? s->x.result : CURLE_GOT_NOTHING, err);
  if (rc == 0 && fields_build(h, &s->x))
    rc = al_fail(err, AL_ERR_NETWORK, "", "out of memory reading the response from %s", s->x.host);
  if (rc) {
    stream_unlink(s);
    xfer_release(h, &s->x);
    xfer_free_buffers(h, &s->x);
    free(s);
    return -1;
  }
  s->new_connections = info_long(s->x.easy, CURLINFO_NUM_CONNECTS);
  *out = s;
  return 0;
}

int al_http_stream_next(al_http_stream *s, const char **data, size_t *len, al_error *err) {
  xfer *x = &s->x;
  *data = NULL;
  *len = 0;
  if (s->state == S_FAILED) {
    *err = s->err;
    return -1;
  }
  if (s->state == S_DETACHED)
    return al_fail(err, AL_ERR_NETWORK, "", "transport is closed");
  if (s->state == S_END) return 0;
  if (forked(x->http)) { /* the transfer belongs to the parent process */
    (void)ensure_ready(x->http, err); /* detaches this stream with the others */
    return al_fail(err, AL_ERR_NETWORK, "", "stream was opened in another process (fork)");
  }
  if (x->handed_out) { /* the caller has taken the previous chunk */
    x->len = 0;
    x->handed_out = 0;
  }
  if (x->paused && !x->done) {
    CURLcode rc;
    x->paused = 0;
    rc = curl_easy_pause(x->easy, CURLPAUSE_CONT); /* may deliver held bytes right away */
    if (rc != CURLE_OK && !x->done) {
      x->done = 1;
      x->result = rc;
    }
  }
  if (x->len == 0 && !x->done) {
    if (drive(x->http, x, has_data, err)) return stream_fail(s, err);
  }
  if (x->len > 0) { /* bytes first, even when an error followed them */
    *data = x->body;
    *len = x->len;
    x->handed_out = 1;
    return 1;
  }
  if (x->result != CURLE_OK) {
    xfer_error(x, x->result, err);
    return stream_fail(s, err);
  }
  s->state = S_END;
  stream_unlink(s);
  xfer_release(x->http, x);
  x->http = NULL;
  return 0;
}

long al_http_stream_status(const al_http_stream *s) { return s->x.status; }

const al_http_field *al_http_stream_headers(const al_http_stream *s, size_t *n) {
  *n = s->x.nfields;
  return s->x.fields;
}

long al_http_stream_new_connections(const al_http_stream *s) { return s->new_connections; }

void al_http_stream_free(al_http_stream *s) {
  if (s == NULL) return;
  if (s->x.http && forked(s->x.http)) {
    al_error ignored;
    (void)ensure_ready(s->x.http, &ignored); /* the parent's transfer: abandoned with care */
  }
  if (s->x.http) {
    stream_unlink(s);
    xfer_release(s->x.http, &s->x); /* removing a running transfer aborts it */
  }
  easy_state_free(&s->x.st);
  xfer_free_buffers(NULL, &s->x);
  free(s);
}

/* ---- pending requests -------------------------------------------------------------- */

/* libcurl has written the request's headers to the connection, or an answer has begun.
 * CURLINFO_REQUEST_SIZE counts bytes written, but a proxy's CONNECT too: through a tunnel
 * the request itself is only sent once the transfer is past its pre-transfer phase
 * (CURLINFO_PRETRANSFER_TIME_T set). libcurl zeroes both when a transfer starts, and
 * drive() performs before it asks. */
static int request_sent(const xfer *x) {
  curl_off_t pretransfer = 0;
  if (x->status > 0) return 1;
  if (info_long(x->easy, CURLINFO_REQUEST_SIZE) <= 0) return 0;
  return curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer) == CURLE_OK && pretransfer > 0;
}

int al_http_start(al_http *h, const al_http_request *req, al_http_pending **out, al_error *err) {
  al_http_pending *p = calloc(1, sizeof *p);
  al_http_stream *s;
  *out = NULL;
  if (p == NULL) return al_fail(err, AL_ERR_NETWORK, "", "out of memory starting a request");
  s = &p->s;
  s->x.copy_body = 1;
  if (xfer_start(h, &s->x, req, 0, err)) {
    free(p);
    return -1;
  }
  stream_link(h, s);
  if (drive(h, &s->x, request_sent, err)) { /* libcurl itself failed: nothing to finish later */
    stream_unlink(s);
    xfer_release(h, &s->x);
    xfer_free_buffers(h, &s->x);
    free(p);
    return -1;
  }
  *out = p;
  return 0;
}

int al_http_pending_finish(al_http_pending *p, al_http_response *res, al_error *err) {
  al_http_stream *s = &p->s;
  al_http *h = s->x.http;
  memset(res, 0, sizeof *res);
  if (s->state == S_END) return al_fail(err, AL_ERR_CONFIG, "", "the request was finished already");
  if (s->state == S_OPEN && forked(h)) (void)ensure_ready(h, err); /* detaches it with the others */
  if (s->state == S_DETACHED)
    return al_fail(err, AL_ERR_NETWORK, "", s->forked_away ? "request was started in another process (fork)"
                                                           : "transport is closed");
  stream_unlink(s);
  s->state = S_END;
  s->x.http = NULL;
  if (!s->x.done && drive(h, &s->x, NULL, err)) {
    xfer_release(h, &s->x);
    xfer_free_buffers(h, &s->x);
    return -1;
  }
  return xfer_finish(h, &s->x, res, err);
}

void al_http_pending_free(al_http_pending *p) {
  xfer *x;
  if (p == NULL) return;
  x = &p->s.x;
  if (x->http && forked(x->http)) {
    al_error ignored;
    (void)ensure_ready(x->http, &ignored); /* the parent's transfer: abandoned with care */
  }
  if (x->http) {
    stream_unlink(&p->s);
    if (!x->done) x->st.configured = 0; /* cancelled half-way: the handle is not reused */
    xfer_release(x->http, x); /* removing a running transfer aborts it */
  }
  easy_state_free(&x->st);
  xfer_free_buffers(NULL, x);
  free(p);
}
