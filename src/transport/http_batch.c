/* Several requests at once on the transport's multi (al_http_perform_many): at most
 * max_concurrency in flight, HTTP/2 multiplexed over TLS when the server offers it. */
#include "http_private.h"

#include <stdio.h>

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
      if (al_xfer_start(h, &xs[next], &reqs[next], 0, &errs[next])) {
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
        rcs[i] = al_xfer_finish(h, x, &res[i], &errs[i]);
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
