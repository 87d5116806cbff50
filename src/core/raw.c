#include "raw.h"

#include <string.h>

#include "date.h"
#include "url.h"

static int eq(const char *s, size_t n, const char *lit) { return strlen(lit) == n && memcmp(s, lit, n) == 0; }

/* s (n bytes) is lit, or starts with lit followed by '/' */
static int under(const char *s, size_t n, const char *lit) {
  size_t k = strlen(lit);
  return n >= k && memcmp(s, lit, k) == 0 && (n == k || s[k] == '/');
}

int al_raw_check_method(const char *m, size_t n, al_error *err) {
  static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
  size_t i;
  for (i = 0; i < sizeof methods / sizeof methods[0]; i++)
    if (eq(m, n, methods[i])) return 0;
  return al_fail(err, AL_ERR_VALIDATION, "method",
                 "method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS (upper case)");
}

al_api al_raw_api_for_path(const char *path, size_t n) {
  if (under(path, n, "/api")) return AL_API_SAAS;
  if (under(path, n, "/v1/analytics")) return AL_API_ANALYTICS;
  return AL_API_GATEWAY;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* RFC 3986 pchar other than pct-encoded, plus the separator "/" */
static int path_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         (c != 0 && strchr("-._~!$&'()*+,;=:@/", c) != NULL);
}

/* A segment (bytes between slashes) that is empty, "." or "..", counting "%2e" as a dot. */
static int bad_segment(const char *s, size_t n) {
  size_t i = 0, dots = 0;
  if (n == 0) return 1;
  while (i < n) {
    if (s[i] == '.') {
      i++;
    } else if (s[i] == '%' && i + 2 < n && s[i + 1] == '2' && (s[i + 2] == 'e' || s[i + 2] == 'E')) {
      i += 3;
    } else {
      return 0;
    }
    dots++;
  }
  return dots <= 2;
}

int al_raw_check_path(const char *path, size_t n, al_error *err) {
  size_t i, seg;
  if (n == 0 || path[0] != '/')
    return al_fail(err, AL_ERR_VALIDATION, "path", "path must start with \"/\" (e.g. /api/v1/agents)");
  if (n > AL_RAW_PATH_MAX)
    return al_fail(err, AL_ERR_VALIDATION, "path", "path is longer than %d bytes", AL_RAW_PATH_MAX);
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)path[i];
    if (c == '?' || c == '#')
      return al_fail(err, AL_ERR_VALIDATION, "path",
                     "path holds '%c' at byte %zu: pass query parameters in opts.query, not in the path", c, i + 1);
    if (c == '%') {
      int hi = i + 2 < n ? hexval(path[i + 1]) : -1, lo = i + 2 < n ? hexval(path[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return al_fail(err, AL_ERR_VALIDATION, "path", "path holds an invalid percent escape at byte %zu", i + 1);
      if (hi * 16 + lo == '/' || hi * 16 + lo == '\\' || hi * 16 + lo < 0x20 || hi * 16 + lo == 0x7f)
        return al_fail(err, AL_ERR_VALIDATION, "path",
                       "path holds an encoded separator or control byte at byte %zu: one segment may not "
                       "reach into another",
                       i + 1);
      i += 2;
      continue;
    }
    if (!path_char(c))
      return al_fail(err, AL_ERR_VALIDATION, "path",
                     "path holds a byte that is not allowed in a URL path at byte %zu (spaces, control "
                     "characters, '\\' and non-ASCII must be percent-encoded)",
                     i + 1);
  }
  /* segments: everything after the leading "/"; a lone "/" has no segment to check */
  if (n == 1) return 0;
  seg = 1;
  for (i = 1; i <= n; i++) {
    if (i == n || path[i] == '/') {
      if (bad_segment(path + seg, i - seg))
        return al_fail(err, AL_ERR_VALIDATION, "path",
                       "path has an empty, \".\" or \"..\" segment: a path may not leave the route it names");
      seg = i + 1;
    }
  }
  return 0;
}

int al_raw_gateway_root(const char *path, size_t n) {
  return under(path, n, "/health") || under(path, n, "/healthz") || under(path, n, "/x402");
}

static const al_kv *find(const al_kv *q, size_t nq, const char *name) {
  size_t i;
  for (i = 0; i < nq; i++)
    if (eq(q[i].k, q[i].kn, name)) return &q[i];
  return NULL;
}

int al_raw_check_query(al_api api, const char *path, size_t n, const al_kv *q, size_t nq, al_error *err) {
  const al_kv *from, *to;
  size_t i;
  int seen_from = 0, seen_to = 0;
  if (api != AL_API_SAAS || !under(path, n, "/api/v1/analytics")) return 0;
  for (i = 0; i < nq; i++) {
    seen_from += eq(q[i].k, q[i].kn, "dateFrom");
    seen_to += eq(q[i].k, q[i].kn, "dateTo");
  }
  if (seen_from > 1 || seen_to > 1)
    return al_fail(err, AL_ERR_VALIDATION, seen_from > 1 ? "dateFrom" : "dateTo", "%s is given more than once",
                   seen_from > 1 ? "dateFrom" : "dateTo");
  from = find(q, nq, "dateFrom");
  to = find(q, nq, "dateTo");
  return al_check_date_range(from ? from->v : NULL, from ? from->vn : 0, to ? to->v : NULL, to ? to->vn : 0,
                             "dateFrom", "dateTo", err);
}

/* An output cursor that counts past the end, snprintf-style. */
typedef struct {
  char *p;
  size_t cap, len;
} sink;

static void put(sink *k, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++, k->len++)
    if (k->len < k->cap) k->p[k->len] = s[i];
}

static void put_encoded(sink *k, const char *s, size_t n) {
  size_t room = k->len < k->cap ? k->cap - k->len : 0;
  k->len += al_percent_encode(s, n, k->p ? k->p + (k->len < k->cap ? k->len : k->cap) : NULL, room);
}

/* "?a=1&b=2" (first) or "&a=1&b=2" */
static void put_pairs(sink *k, int first, const al_kv *q, size_t nq) {
  size_t i;
  for (i = 0; i < nq; i++) {
    put(k, first && i == 0 ? "?" : "&", 1);
    put_encoded(k, q[i].k, q[i].kn);
    put(k, "=", 1);
    put_encoded(k, q[i].v, q[i].vn);
  }
}

size_t al_build_raw_url(char *out, size_t cap, al_api api, const char *base, size_t base_n, const char *path,
                        size_t path_n, const al_kv *q, size_t nq) {
  sink k;
  k.p = out;
  k.cap = cap ? cap - 1 : 0;
  k.len = 0;
  while (base_n > 0 && base[base_n - 1] == '/') base_n--;
  if (api == AL_API_GATEWAY && al_raw_gateway_root(path, path_n) && base_n >= 3 &&
      memcmp(base + base_n - 3, "/v1", 3) == 0)
    base_n -= 3;
  put(&k, base, base_n);
  put(&k, path, path_n);
  put_pairs(&k, 1, q, nq);
  if (cap) out[k.len < cap ? k.len : cap - 1] = '\0';
  return k.len;
}

size_t al_append_query(char *out, size_t cap, const char *url, size_t url_n, const al_kv *q, size_t nq) {
  sink k;
  k.p = out;
  k.cap = cap ? cap - 1 : 0;
  k.len = 0;
  put(&k, url, url_n);
  put_pairs(&k, memchr(url, '?', url_n) == NULL, q, nq);
  if (cap) out[k.len < cap ? k.len : cap - 1] = '\0';
  return k.len;
}
