/* The libcurl transport. See http.h for the contract. This file: process-wide set-up,
 * the sockets tracked for fork, the transport object, and a buffered request's end
 * (al_xfer_finish, al_http_perform); the other parts are in the files http_private.h
 * names.
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
#include "http_private.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#ifndef ALEPHANT_VERSION
#define ALEPHANT_VERSION "scm"
#endif

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

curl_socket_t al_http_open_socket(void *clientp, curlsocktype purpose, struct curl_sockaddr *a) {
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

int al_http_close_socket(void *clientp, curl_socket_t fd) {
  track_forget(clientp, fd);
  return close(fd);
}

/* ---- the transport --------------------------------------------------------------- */

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
  /* Only where the list sends what CURLOPT_USERAGENT would (see ua_line): libcurl drops
   * a list line whose value is blank, and without our Accept-Encoding line libcurl's own
   * would follow its Accept, before the list. Nor for an agent of 1 MiB or more, which
   * no request can carry (libcurl's request buffer): libcurl refuses it with its own
   * errors (an option over 8,000,000 bytes, its line formatted for every transfer even
   * when the request has its own User-Agent) that a list line would not have. */
  if (h->user_agent && h->user_agent[strspn(h->user_agent, " ")] && h->accept_encoding[0] &&
      strlen(h->user_agent) < (size_t)1024 * 1024) {
    size_t n = strlen(h->user_agent);
    h->ua_line = malloc(n + sizeof "User-Agent: ");
    if (h->ua_line) {
      struct curl_slist *l;
      memcpy(h->ua_line, "User-Agent: ", sizeof "User-Agent: " - 1);
      memcpy(h->ua_line + sizeof "User-Agent: " - 1, h->user_agent, n + 1);
      h->proxy_headers = curl_slist_append(NULL, h->ua_line);
      /* libcurl writes its own Proxy-Connection line after the User-Agent, before the list */
      l = h->proxy_headers ? curl_slist_append(h->proxy_headers, "Proxy-Connection: Keep-Alive") : NULL;
      if (l == NULL) {
        curl_slist_free_all(h->proxy_headers);
        h->proxy_headers = NULL;
      }
    }
    if (h->ua_line == NULL || h->proxy_headers == NULL) oom = 1;
  }
  /* The multi handle and the fork marker are made by the first request (al_http_ensure_ready):
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

/* Takes the transfer out of the multi and hands its easy handle, options still set,
 * back for reuse. */
void al_xfer_release(al_http *h, xfer *x) {
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
void al_xfer_free_buffers(al_http *h, xfer *x) {
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

/* Stream whose transport went away: its transfer is gone, the struct stays with its owner. */
static void stream_detach(al_http_stream *s, int curl_ok, int by_fork) {
  al_http *h = s->x.http;
  if (curl_ok) {
    al_xfer_release(h, &s->x);
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
int al_http_ensure_ready(al_http *h, al_error *err) {
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
  if (h->multi) curl_multi_cleanup(h->multi); /* closes its connections through al_http_close_socket */
  curl_slist_free_all(h->proxy_headers); /* after the handles that pointed at it */
  if (h->this_process) munmap((void *)h->this_process, h->page);
  free(h->socks);
  free(h->cafile);
  free(h->capath);
  free(h->proxy);
  free(h->user_agent);
  free(h->ua_line);
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

/* ---- a buffered request: finished (al_xfer_finish), and al_http_perform ------------ */

/* Moves x's headers (joined now) and body into res. */
static int response_take(al_http *h, xfer *x, al_http_response *res, al_error *err) {
  if (al_xfer_fields_build(h, x))
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
int al_xfer_finish(al_http *h, xfer *x, al_http_response *res, al_error *err) {
  int rc = x->result != CURLE_OK ? al_xfer_error(x, x->result, err) : 0;
  if (rc == 0) {
    res->status = info_long(x->easy, CURLINFO_RESPONSE_CODE);
    if (res->status == 0) res->status = x->status;
    res->new_connections = info_long(x->easy, CURLINFO_NUM_CONNECTS);
    res->local_port = info_long(x->easy, CURLINFO_LOCAL_PORT);
    rc = response_take(h, x, res, err);
  }
  al_xfer_release(h, x);
  al_xfer_free_buffers(h, x);
  return rc;
}

int al_http_perform(al_http *h, const al_http_request *req, al_http_response *res, al_error *err) {
  xfer x;
  memset(res, 0, sizeof *res);
  memset(&x, 0, sizeof x);
  if (al_xfer_start(h, &x, req, 0, err)) return -1;
  if (drive(h, &x, NULL, err)) {
    al_xfer_release(h, &x);
    al_xfer_free_buffers(h, &x);
    return -1;
  }
  return al_xfer_finish(h, &x, res, err);
}
