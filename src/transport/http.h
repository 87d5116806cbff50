/* The libcurl transport: the only C in alephant that does network I/O. Plain C, no Lua.
 *
 * One al_http per client. It owns a curl multi handle (its connection cache gives
 * keep-alive across requests and streams) and keeps one easy handle for reuse.
 * Nothing here ever calls back into Lua: libcurl's callbacks only append to C buffers,
 * so a Lua error can never unwind through libcurl frames.
 *
 * Threads: an al_http is used by one thread at a time (one Lua VM); different al_http
 * objects may be used from different threads at once. The only process-wide state is
 * the pthread_once flag around curl_global_init.
 *
 * fork: an al_http remembers the pid that created its handles. Used in another process,
 * it first abandons the inherited connections (their sockets are replaced by /dev/null
 * so libcurl's cleanup cannot read from or write to the parent's connections) and then
 * starts afresh. Open streams of the parent are then reported as closed, and its pending
 * requests as started in another process.
 */
#ifndef ALEPHANT_TRANSPORT_HTTP_H
#define ALEPHANT_TRANSPORT_HTTP_H

#include <stddef.h>

#include "../core/error.h"

#define AL_HTTP_DEFAULT_TIMEOUT_MS 30000L
#define AL_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define AL_HTTP_DEFAULT_MAX_BODY ((size_t)32 * 1024 * 1024)
/* Longest timeout accepted, in ms: fits a 32-bit long (about 24.8 days). */
#define AL_HTTP_MAX_TIMEOUT_MS 2147483647L
/* All request header lines together, in bytes. Larger requests are refused before
 * sending (validation): servers answer them with 431/494 or just close (nginx takes
 * 8 KB per line by default). Leaves room for a 16 KB token (AL_TOKEN_MAX_LEN). */
#define AL_HTTP_MAX_REQUEST_HEADER_BYTES ((size_t)64 * 1024)

typedef struct al_http al_http;
typedef struct al_http_stream al_http_stream;
typedef struct al_http_pending al_http_pending;

typedef struct {
  long timeout_ms;          /* whole request; 0 = AL_HTTP_DEFAULT_TIMEOUT_MS */
  long connect_timeout_ms;  /* 0 = AL_HTTP_DEFAULT_CONNECT_TIMEOUT_MS */
  const char *cafile;       /* NULL = libcurl's built-in bundle */
  const char *capath;       /* NULL = libcurl's built-in */
  size_t max_body;          /* decoded response bytes; 0 = AL_HTTP_DEFAULT_MAX_BODY */
  const char *user_agent;   /* NULL = "alephant-lua/" ALEPHANT_VERSION */
  int allow_insecure_http;  /* plain http:// to a host other than loopback */
  const char *proxy;        /* NULL = environment (https_proxy, all_proxy, no_proxy...),
                               "" = never a proxy, else the proxy URL (see al_http_check_proxy) */
  int allow_http_through_proxy; /* plain http:// (non-loopback) may go through a proxy */
} al_http_options;

/* A request header. Names are HTTP tokens; values hold no control characters. */
typedef struct {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} al_http_header;

typedef struct {
  const char *method;            /* NULL = "GET" */
  const char *url;               /* http:// or https:// */
  const al_http_header *headers;
  size_t nheaders;
  const char *body;              /* may be NULL when body_len is 0 */
  size_t body_len;
  long timeout_ms;               /* 0 = the transport's timeout */
} al_http_request;

/* A response header: name lower-cased, repeated headers joined with ", " (a folded
 * line continues the previous line's value after one space). name and value are
 * NUL-terminated; all of a response's fields and their strings live in one allocation
 * that starts at the field array. */
typedef struct {
  char *name;
  size_t name_len;
  char *value;
  size_t value_len;
} al_http_field;

typedef struct {
  long status;
  al_http_field *headers;  /* of the final response only (no 1xx, no proxy CONNECT) */
  size_t nheaders;
  char *body;              /* decoded (gzip/deflate/br); NULL when empty */
  size_t body_len;
  long new_connections;    /* connections this request had to open (0 = reused one) */
  long local_port;         /* local port of the connection used, 0 if unknown */
  size_t headers_cap, body_cap; /* the two allocations' sizes (al_http_response_recycle) */
} al_http_response;

/* Library facts for diagnostics; strings are static. */
typedef struct {
  const char *curl_version;
  const char *ssl_version;  /* NULL without TLS */
  int threadsafe;           /* CURL_VERSION_THREADSAFE: curl_global_init is thread-safe */
  int async_dns;            /* resolver timeouts work without signals */
} al_http_info;

/* Initialises libcurl once per process and fills *info. */
void al_http_library_info(al_http_info *info);

/* NULL with *err filled (config: bad options; network: libcurl could not start). */
al_http *al_http_new(const al_http_options *opts, al_error *err);

/* Releases everything; open streams and pending requests are detached (their next() /
 * finish says the transport is closed) but stay owned by whoever opened them. NULL is
 * fine. */
void al_http_free(al_http *h);

/* Open streams plus started requests not yet finished or freed: the transfers that
 * al_http_free would detach. */
size_t al_http_open_transfers(const al_http *h);

/* Proxies (src/transport/proxy.h): loopback URLs never go through one; https uses the
 * `proxy` option, else libcurl's environment variables, through a CONNECT tunnel; plain
 * http to another host through a proxy is refused (config) unless
 * allow_http_through_proxy. This checks a `proxy` option (al_proxy_check). */
int al_http_check_proxy(const char *proxy, al_error *err);

/* Checks a header before anything is sent: the name is an HTTP token, the value
 * has no control characters. The message never echoes the value. */
int al_http_check_header(const al_http_header *hdr, al_error *err);

/* 0 with *res filled (free it with al_http_response_free), or -1 with *err:
 * timeout, tls, too_large, network; config for a URL or header that cannot be sent. */
int al_http_perform(al_http *h, const al_http_request *req, al_http_response *res, al_error *err);

/* A batch: n requests at once on this transport (libcurl's multi interface), at most
 * max_concurrency in flight; over TLS they share one HTTP/2 connection when the server
 * offers it, else each in-flight request has its own HTTP/1.1 keep-alive connection.
 * For each i: rcs[i] is 0 with res[i] filled (free it with al_http_response_free) or -1
 * with errs[i], exactly as al_http_perform would say for reqs[i] alone. Returns 0, or -1
 * when nothing could start (out of memory; every rcs[i] is -1 then). */
int al_http_perform_many(al_http *h, const al_http_request *reqs, size_t n, size_t max_concurrency,
                         al_http_response *res, al_error *errs, int *rcs);

void al_http_response_free(al_http_response *res);

/* Like al_http_response_free, but hands the response's buffers back to h for its next
 * request (small ones only; the rest is freed), so that the steady path allocates
 * nothing for them. h may be NULL (then it frees). */
void al_http_response_recycle(al_http *h, al_http_response *res);

/* Streaming: opens the request and returns once the final response's status and
 * headers are known (or on failure). The body then arrives through next().
 * The request body is copied; req need not outlive this call. */
int al_http_stream_open(al_http *h, const al_http_request *req, al_http_stream **out, al_error *err);

/* 1: data and len hold every byte that arrived and was not returned yet (valid until
 * the next call on this stream); 0: the response ended; -1: *err. Waits for data
 * when none is buffered. The buffer stays bounded: libcurl is paused while the
 * caller has not taken what is there. */
int al_http_stream_next(al_http_stream *s, const char **data, size_t *len, al_error *err);

long al_http_stream_status(const al_http_stream *s);
const al_http_field *al_http_stream_headers(const al_http_stream *s, size_t *n);
long al_http_stream_new_connections(const al_http_stream *s);

/* Aborts the transfer if still running and frees the stream. NULL is fine. */
void al_http_stream_free(al_http_stream *s);

/* A pending request: al_http_perform in two halves, so that the server's time overlaps
 * the caller's (pagination's prefetch). al_http_start checks and sends the request like
 * al_http_perform and returns once libcurl has written the request (its headers) to
 * the connection, or the transfer ended (a failure, or an answer already complete);
 * it never waits for the answer. 0 with *out set, or -1 with *err (and nothing sent)
 * for what al_http_perform refuses before sending. The request body is copied; req
 * need not outlive this call.
 *
 * While it is pending, the transport takes other requests, streams and batches: they
 * run on other easy handles of the same multi (so another connection), and driving
 * them also moves the pending transfer, whose bytes only ever reach its own buffers
 * (max_body applies). al_http_free and a fork detach a pending request like a stream. */
int al_http_start(al_http *h, const al_http_request *req, al_http_pending **out, al_error *err);

/* Drives the pending request until it is done, then exactly what al_http_perform
 * returns: 0 with *res filled (free it with al_http_response_free), or -1 with *err.
 * A detached request fails (network): "transport is closed", or "request was started
 * in another process (fork)". A second finish fails (config). Free p afterwards. */
int al_http_pending_finish(al_http_pending *p, al_http_response *res, al_error *err);

/* Frees p; an unfinished request is cancelled: its easy handle is taken off the multi
 * and not reused (libcurl closes the connection of a transfer removed half-way).
 * NULL is fine. */
void al_http_pending_free(al_http_pending *p);

#endif
