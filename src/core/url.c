#include "url.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "token.h"

/* RFC 3986 unreserved characters: letters, digits and -._~ (one load per byte). */
static const unsigned char unreserved[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* An output cursor that counts past the end, snprintf-style. */
typedef struct {
  char *p;
  size_t cap, len;
} sink;

/* memcpy of a URL's piece: most (names, dates) are short, copied as two words without
 * memcpy's call */
static void copy(char *d, const char *s, size_t n) {
  if (n >= 8 && n <= 16) { /* two overlapping words */
    uint64_t a, b;
    memcpy(&a, s, 8);
    memcpy(&b, s + n - 8, 8);
    memcpy(d, &a, 8);
    memcpy(d + n - 8, &b, 8);
  } else if (n >= 4 && n < 8) {
    uint32_t a, b;
    memcpy(&a, s, 4);
    memcpy(&b, s + n - 4, 4);
    memcpy(d, &a, 4);
    memcpy(d + n - 4, &b, 4);
  } else {
    memcpy(d, s, n);
  }
}

static void put(sink *k, const char *s, size_t n) {
  size_t w = k->len < k->cap ? k->cap - k->len : 0; /* what fits */
  if (n < w) w = n;
  if (w) copy(k->p + k->len, s, w);
  k->len += n;
}

/* put of one byte, without memcpy */
static void put_char(sink *k, char c) {
  if (k->len < k->cap) k->p[k->len] = c;
  k->len++;
}

/* Runs of unreserved bytes are copied as they are, everything else as %XX. */
static void put_encoded(sink *k, const char *s, size_t n) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i = 0;
  while (i < n) {
    size_t run = i;
    while (run < n && unreserved[(unsigned char)s[run]]) run++;
    if (run > i) put(k, s + i, run - i);
    if (run < n) {
      unsigned char c = (unsigned char)s[run++];
      char esc[3];
      esc[0] = '%';
      esc[1] = hex[c >> 4];
      esc[2] = hex[c & 15];
      put(k, esc, 3);
    }
    i = run;
  }
}

/* put_encoded of a NUL-terminated name: one pass finds its length when it needs no
 * escape (the catalog's wire names), since NUL is not unreserved. */
/* The length of s's first run of unreserved bytes. */
static size_t unreserved_run(const char *s) {
  const char *end = s;
  while (unreserved[(unsigned char)*end]) end++;
  return (size_t)(end - s);
}

static void put_encoded_name(sink *k, const char *s) {
  size_t n = unreserved_run(s);
  if (s[n] == '\0') put(k, s, n);
  else put_encoded(k, s, strlen(s));
}

size_t al_percent_encode(const char *s, size_t n, char *out, size_t cap) {
  sink k;
  k.p = out;
  k.cap = cap;
  k.len = 0;
  put_encoded(&k, s, n);
  return k.len;
}

/* Integers without printf's locale and without a sign surprise. */
static void put_integer(sink *k, int64_t v) {
  char buf[24];
  size_t i = sizeof buf;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do {
    buf[--i] = (char)('0' + (u % 10));
    u /= 10;
  } while (u);
  if (v < 0) buf[--i] = '-';
  put(k, buf + i, sizeof buf - i);
}

static void put_value(sink *k, const al_value *v) {
  switch (v->type) {
    case AL_V_STRING: put_encoded(k, v->s, v->n); break;
    case AL_V_INTEGER: put_integer(k, v->i); break;
    case AL_V_BOOLEAN: put(k, v->b ? "true" : "false", v->b ? 4 : 5); break;
    case AL_V_NUMBER: {
      /* only reachable for a non-integral query number; %.17g keeps it exact and "."
       * is ASCII in the C locale the core is built for */
      char buf[40];
      int w = snprintf(buf, sizeof buf, "%.17g", v->d);
      if (w > 0) put_encoded(k, buf, (size_t)w < sizeof buf ? (size_t)w : sizeof buf - 1);
      break;
    }
    default: break;
  }
}

/* A parameter's value: UUIDs and dates passed al_endpoint_validate, so they hold only
 * hex digits, digits and "-" (all unreserved) and are copied without the scan. */
static void put_param(sink *k, const al_param *prm, const al_value *v) {
  if (v->type == AL_V_STRING && (prm->type == AL_T_UUID || prm->type == AL_T_DATE)) put(k, v->s, v->n);
  else put_value(k, v);
}

size_t al_build_url(char *out, size_t cap, const char *base, size_t base_n, const al_endpoint *e,
                    const al_value *values) {
  sink k;
  const char *p = e->path;
  const al_param *const *params = e->params; /* in locals: the writes to out may alias e */
  unsigned i, nparams = e->nparams;
  char sep = '?';
  k.p = out;
  k.cap = cap ? cap - 1 : 0; /* keep room for the NUL */
  k.len = 0;
  while (base_n > 0 && base[base_n - 1] == '/') base_n--;
  put(&k, base, base_n);
  while (*p) {
    const char *open = strchr(p, '{'), *close;
    if (!open) {
      put(&k, p, strlen(p));
      break;
    }
    close = strchr(open, '}');
    put(&k, p, (size_t)(open - p));
    for (i = 0; i < nparams; i++) {
      const al_param *prm = params[i];
      if (prm->in == AL_IN_PATH && strlen(prm->wire) == (size_t)(close - open - 1) &&
          memcmp(prm->wire, open + 1, (size_t)(close - open - 1)) == 0) {
        put_param(&k, prm, &values[i]);
        break;
      }
    }
    p = close + 1;
  }
  for (i = 0; i < nparams; i++) {
    const al_param *prm = params[i];
    const al_value *v = &values[i];
    if (prm->in != AL_IN_QUERY || v->type == AL_V_ABSENT) continue;
    if (v->type == AL_V_STRING && (prm->type == AL_T_UUID || prm->type == AL_T_DATE) && k.len < k.cap) {
      /* the usual pair, a name without escapes and a value copied as it is (put_param):
       * written at once when all of it fits */
      size_t wn = unreserved_run(prm->wire);
      if (prm->wire[wn] == '\0' && k.cap - k.len >= wn + v->n + 2) {
        char *d = k.p + k.len;
        d[0] = sep;
        copy(d + 1, prm->wire, wn);
        d[1 + wn] = '=';
        copy(d + 2 + wn, v->s, v->n);
        k.len += wn + v->n + 2;
        sep = '&';
        continue;
      }
    }
    put_char(&k, sep);
    sep = '&';
    put_encoded_name(&k, prm->wire);
    put_char(&k, '=');
    put_param(&k, prm, v);
  }
  if (cap) out[k.len < k.cap ? k.len : k.cap] = '\0';
  return k.len;
}

/* ---- the URL policy ------------------------------------------------------------------ */

int al_host_is_loopback(const char *host) {
  if (host == NULL) return 0;
  if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0) return 1;
  if (strncmp(host, "127.", 4) != 0) return 0;
  return strspn(host, "0123456789.") == strlen(host); /* not a name such as 127.example.com */
}

void al_url_show(const char *s, size_t n, char *out, size_t cap) {
  size_t i, limit, keep;
  if (cap == 0) return;
  if (al_looks_like_token(s, n)) { /* the redacted form keeps a few raw bytes: one line still */
    size_t len = al_redact(s, n, out, cap);
    for (i = 0; i < len; i++)
      if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f) out[i] = '?';
    return;
  }
  limit = cap - 1 < 64 ? cap - 1 : 64;
  keep = n <= limit ? n : (limit >= 3 ? limit - 3 : 0); /* room for "..." when cut */
  for (i = 0; i < keep; i++) {
    unsigned char c = (unsigned char)s[i];
    out[i] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
  }
  if (n > limit && limit >= 3) {
    memcpy(out + i, "...", 3);
    i += 3;
  }
  out[i] = '\0';
}

const char *al_quote(const char *s, size_t n, char out[AL_QUOTE_CAP]) {
  al_url_show(s, n, out, AL_QUOTE_CAP);
  return out;
}

int al_url_policy(const char *scheme, const char *host, int allow_insecure_http, const char *field, al_error *err) {
  char shown_scheme[72], shown_host[72] = "";
  if (host) al_url_show(host, strlen(host), shown_host, sizeof shown_host);
  if (scheme == NULL || (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
    if (scheme == NULL) return al_fail(err, AL_ERR_CONFIG, field, "%s must be an absolute http:// or https:// URL", field);
    al_url_show(scheme, strlen(scheme), shown_scheme, sizeof shown_scheme);
    return al_fail(err, AL_ERR_CONFIG, field, "%s must use http:// or https://, got %s://%s", field, shown_scheme,
                   shown_host);
  }
  if (host == NULL || host[0] == '\0')
    return al_fail(err, AL_ERR_CONFIG, field, "%s must be an absolute http:// or https:// URL with a host", field);
  if (strcmp(scheme, "http") == 0 && !allow_insecure_http && !al_host_is_loopback(host))
    return al_fail(err, AL_ERR_CONFIG, field,
                   "%s uses plain http:// to %s: the token would travel in clear; use https:// or set "
                   "allow_insecure_http = true",
                   field, shown_host);
  return 0;
}
