/* Streams (al_http_stream_*) and pending requests (al_http_start, al_http_pending_*)
 * (src/transport/http_private.h). Both sit in the transport's list of open streams, so
 * that al_http_free and a fork detach them; a pending request is a stream that buffers
 * its whole answer and was driven only until its request was written. */
#include "http_private.h"

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
  if (s->x.http) al_xfer_release(s->x.http, &s->x);
  s->x.http = NULL;
  return -1;
}

int al_http_stream_open(al_http *h, const al_http_request *req, al_http_stream **out, al_error *err) {
  al_http_stream *s = calloc(1, sizeof *s);
  int rc;
  *out = NULL;
  if (s == NULL) return al_fail(err, AL_ERR_NETWORK, "", "out of memory opening a stream");
  if (al_xfer_start(h, &s->x, req, 1, err)) {
    free(s);
    return -1;
  }
  stream_link(h, s);
  rc = drive(h, &s->x, headers_known, err);
  if (rc == 0 && !s->x.headers_done) /* ended before a response began */
    rc = al_xfer_error(&s->x, s->x.result != CURLE_OK ? s->x.result : CURLE_GOT_NOTHING, err);
  if (rc == 0 && al_xfer_fields_build(h, &s->x))
    rc = al_fail(err, AL_ERR_NETWORK, "", "out of memory reading the response from %s", s->x.host);
  if (rc) {
    stream_unlink(s);
    al_xfer_release(h, &s->x);
    al_xfer_free_buffers(h, &s->x);
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
    (void)al_http_ensure_ready(x->http, err); /* detaches this stream with the others */
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
    al_xfer_error(x, x->result, err);
    return stream_fail(s, err);
  }
  s->state = S_END;
  stream_unlink(s);
  al_xfer_release(x->http, x);
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
    (void)al_http_ensure_ready(s->x.http, &ignored); /* the parent's transfer: abandoned with care */
  }
  if (s->x.http) {
    stream_unlink(s);
    al_xfer_release(s->x.http, &s->x); /* removing a running transfer aborts it */
  }
  easy_state_free(&s->x.st);
  al_xfer_free_buffers(NULL, &s->x);
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
  if (al_xfer_start(h, &s->x, req, 0, err)) {
    free(p);
    return -1;
  }
  stream_link(h, s);
  if (drive(h, &s->x, request_sent, err)) { /* libcurl itself failed: nothing to finish later */
    stream_unlink(s);
    al_xfer_release(h, &s->x);
    al_xfer_free_buffers(h, &s->x);
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
  if (s->state == S_OPEN && forked(h)) (void)al_http_ensure_ready(h, err); /* detaches it with the others */
  if (s->state == S_DETACHED)
    return al_fail(err, AL_ERR_NETWORK, "", s->forked_away ? "request was started in another process (fork)"
                                                           : "transport is closed");
  stream_unlink(s);
  s->state = S_END;
  s->x.http = NULL;
  if (!s->x.done && drive(h, &s->x, NULL, err)) {
    al_xfer_release(h, &s->x);
    al_xfer_free_buffers(h, &s->x);
    return -1;
  }
  return al_xfer_finish(h, &s->x, res, err);
}

void al_http_pending_free(al_http_pending *p) {
  xfer *x;
  if (p == NULL) return;
  x = &p->s.x;
  if (x->http && forked(x->http)) {
    al_error ignored;
    (void)al_http_ensure_ready(x->http, &ignored); /* the parent's transfer: abandoned with care */
  }
  if (x->http) {
    stream_unlink(&p->s);
    if (!x->done) x->st.configured = 0; /* cancelled half-way: the handle is not reused */
    al_xfer_release(x->http, x); /* removing a running transfer aborts it */
  }
  easy_state_free(&x->st);
  al_xfer_free_buffers(NULL, x);
  free(p);
}
