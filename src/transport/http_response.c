/* A transfer's answer as it arrives (src/transport/http_private.h): libcurl's header
 * callback collects each distinct name once with its value pieces, the body callback
 * appends (or, for a stream, pauses at STREAM_HIGH_WATER); al_xfer_fields_build joins
 * the headers into one block. Also the response's buffers freed or given back to the
 * transport (al_http_response_free, al_http_response_recycle). */
#include "http_private.h"

#include "../core/text.h"

/* ---- response headers ------------------------------------------------------------ */

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

static int field_add(xfer *x, const char *name, size_t nn, const char *v, size_t vn) {
  size_t i;
  hname *f;
  char *dst;
  for (i = 0; i < x->nhn; i++)
    if (x->hn[i].name_len == nn && al_ascii_ieq(x->ha + x->hn[i].name_off, name, nn)) return piece_add(x, i, v, vn, 0);
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
int al_xfer_fields_build(al_http *h, xfer *x) {
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
size_t al_xfer_on_header(char *p, size_t size, size_t nitems, void *ud) {
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

size_t al_xfer_on_body(char *p, size_t size, size_t nitems, void *ud) {
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

/* ---- the response's buffers ------------------------------------------------------ */

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
