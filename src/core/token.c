#include "token.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text.h"

#define ACCEPTED_FORMS \
  "a virtual key (vk-...), a personal access token (pat_...) or a JWT (three base64url segments)"

const char *al_token_kind_name(al_token_kind kind) {
  switch (kind) {
    case AL_TOKEN_JWT: return "jwt";
    case AL_TOKEN_PAT: return "pat";
    case AL_TOKEN_VK: return "virtual_key";
    case AL_TOKEN_NONE: break;
  }
  return "none";
}

void al_token_kinds_describe(unsigned mask, char *buf, size_t cap) {
  static const struct { unsigned bit; const char *text; } kinds[] = {
      {AL_TOKEN_JWT, "a JWT"}, {AL_TOKEN_PAT, "a personal access token (pat_...)"},
      {AL_TOKEN_VK, "a virtual key (vk-...)"}};
  size_t i, used = 0, total = 0, seen = 0;
  if (cap == 0) return;
  buf[0] = '\0';
  for (i = 0; i < 3; i++) total += (mask & kinds[i].bit) != 0;
  for (i = 0; i < 3 && used < cap; i++) {
    int w;
    if (!(mask & kinds[i].bit)) continue;
    seen++;
    w = snprintf(buf + used, cap - used, "%s%s", seen == 1 ? "" : seen == total ? " or " : ", ", kinds[i].text);
    if (w < 0) return;
    used += (size_t)w;
  }
  if (total == 0) snprintf(buf, cap, "no token");
}

static int b64url_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

long al_base64url_decode(const char *s, size_t n, unsigned char *out, size_t cap) {
  size_t i, o = 0;
  unsigned long acc = 0;
  int bits = 0;
  if (n % 4 == 1) return -1; /* one leftover symbol cannot encode a byte */
  for (i = 0; i < n; i++) {
    int v = b64url_value((unsigned char)s[i]);
    if (v < 0) return -1;
    acc = (acc << 6) | (unsigned long)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (o >= cap) return -1;
      out[o++] = (unsigned char)((acc >> bits) & 0xFF);
    }
  }
  /* the unused low bits of the last symbol must be zero (canonical encoding) */
  if (bits > 0 && (acc & ((1UL << bits) - 1)) != 0) return -1;
  return (long)o;
}

/* A small JSON reader: just enough to walk an object's top level and skip values. */
typedef struct {
  const char *p, *end;
} jreader;

static void jws(jreader *r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

/* Reads a string; copies up to cap-1 decoded ASCII bytes into key (for key comparison).
 * *exact says whether the copy is the whole string. */
static int jstring(jreader *r, char *key, size_t cap, int *exact) {
  size_t k = 0;
  *exact = 1;
  if (r->p >= r->end || *r->p != '"') return -1;
  r->p++;
  while (r->p < r->end) {
    unsigned char c = (unsigned char)*r->p++;
    int ch = c;
    if (c == '"') {
      if (cap) key[k < cap ? k : cap - 1] = '\0';
      return 0;
    }
    if (c < 0x20) return -1;
    if (c == '\\') {
      if (r->p >= r->end) return -1;
      c = (unsigned char)*r->p++;
      switch (c) {
        case '"': case '\\': case '/': ch = c; break;
        case 'b': ch = '\b'; break;
        case 'f': ch = '\f'; break;
        case 'n': ch = '\n'; break;
        case 'r': ch = '\r'; break;
        case 't': ch = '\t'; break;
        case 'u': {
          int i, v = 0;
          if (r->end - r->p < 4) return -1;
          for (i = 0; i < 4; i++) {
            char h = r->p[i];
            int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                    : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
            if (d < 0) return -1; /* stop at once: accumulating a bad digit overflowed (fuzz finding) */
            v = v * 16 + d;
          }
          r->p += 4;
          ch = v < 0x80 ? v : -1; /* non-ASCII never matches an ASCII key */
          break;
        }
        default: return -1;
      }
    }
    if (ch < 0 || k + 1 >= cap) *exact = 0;
    else key[k++] = (char)ch;
  }
  return -1;
}

/* The value of an already-checked JSON number. Not strtod: it follows LC_NUMERIC,
 * which a host (os.setlocale) may have changed. */
static double number_value(const char *s, size_t n) {
  double mant = 0, sign = 1, scale = 1;
  long exp10 = 0, frac_digits = 0;
  int esign = 1, in_frac = 0;
  size_t i = 0;
  if (s[i] == '-') { sign = -1; i++; }
  for (; i < n && s[i] != 'e' && s[i] != 'E'; i++) {
    if (s[i] == '.') { in_frac = 1; continue; }
    mant = mant * 10 + (s[i] - '0');
    frac_digits += in_frac;
  }
  if (i < n) {
    i++;
    if (s[i] == '+' || s[i] == '-') esign = s[i++] == '-' ? -1 : 1;
    for (; i < n && exp10 < 100000; i++) exp10 = exp10 * 10 + (s[i] - '0');
  }
  exp10 = esign * exp10 - frac_digits;
  if (exp10 > 400) return sign * HUGE_VAL;
  if (exp10 < -400) return sign * 0.0;
  scale = pow(10.0, (double)(exp10 < 0 ? -exp10 : exp10));
  return sign * (exp10 < 0 ? mant / scale : mant * scale);
}

static int jnumber(jreader *r, double *out) {
  const char *start = r->p;
  size_t len;
  if (r->p < r->end && *r->p == '-') r->p++;
  if (r->p >= r->end || *r->p < '0' || *r->p > '9') return -1;
  if (*r->p == '0') r->p++;
  else while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
  if (r->p < r->end && *r->p == '.') {
    r->p++;
    if (r->p >= r->end || *r->p < '0' || *r->p > '9') return -1;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
  }
  if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
    r->p++;
    if (r->p < r->end && (*r->p == '+' || *r->p == '-')) r->p++;
    if (r->p >= r->end || *r->p < '0' || *r->p > '9') return -1;
    while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
  }
  len = (size_t)(r->p - start);
  if (out) *out = number_value(start, len);
  return 0;
}

static int jliteral(jreader *r, const char *lit) {
  size_t n = strlen(lit);
  if ((size_t)(r->end - r->p) < n || memcmp(r->p, lit, n) != 0) return -1;
  r->p += n;
  return 0;
}

static int jskip(jreader *r, int depth) {
  char scratch[1];
  int exact;
  if (depth > 64) return -1;
  jws(r);
  if (r->p >= r->end) return -1;
  switch (*r->p) {
    case '"': return jstring(r, scratch, 0, &exact);
    case 't': return jliteral(r, "true");
    case 'f': return jliteral(r, "false");
    case 'n': return jliteral(r, "null");
    case '{': case '[': {
      char close = *r->p == '{' ? '}' : ']';
      int object = close == '}';
      r->p++;
      jws(r);
      if (r->p < r->end && *r->p == close) { r->p++; return 0; }
      for (;;) {
        if (object) {
          jws(r);
          if (jstring(r, scratch, 0, &exact)) return -1;
          jws(r);
          if (r->p >= r->end || *r->p++ != ':') return -1;
        }
        if (jskip(r, depth + 1)) return -1;
        jws(r);
        if (r->p >= r->end) return -1;
        if (*r->p == ',') { r->p++; continue; }
        if (*r->p == close) { r->p++; return 0; }
        return -1;
      }
    }
    default: return jnumber(r, NULL);
  }
}

int al_json_top_number(const char *json, size_t n, const char *key, double *value) {
  jreader r;
  int found = 0;
  r.p = json;
  r.end = json + n;
  jws(&r);
  if (r.p >= r.end || *r.p != '{') return -1;
  r.p++;
  jws(&r);
  if (r.p < r.end && *r.p == '}') { r.p++; goto tail; }
  for (;;) {
    char name[32];
    int exact;
    jws(&r);
    if (jstring(&r, name, sizeof name, &exact)) return -1;
    jws(&r);
    if (r.p >= r.end || *r.p++ != ':') return -1;
    jws(&r);
    if (exact && strcmp(name, key) == 0) {
      double v;
      if (r.p >= r.end || !(*r.p == '-' || (*r.p >= '0' && *r.p <= '9')) || jnumber(&r, &v)) return -1;
      *value = v;
      found = 1;
    } else if (jskip(&r, 1)) {
      return -1;
    }
    jws(&r);
    if (r.p >= r.end) return -1;
    if (*r.p == ',') { r.p++; continue; }
    if (*r.p == '}') { r.p++; break; }
    return -1;
  }
tail:
  jws(&r);
  return r.p == r.end ? found : -1;
}

static int has_prefix(const char *s, size_t n, const char *prefix) {
  size_t k = strlen(prefix);
  return n >= k && memcmp(s, prefix, k) == 0;
}

/* The characters of a vk-/pat_ body: visible ASCII, no spaces or quotes. */
static int opaque_body_ok(const char *s, size_t n) {
  size_t i;
  if (n == 0) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') return 0;
  }
  return 1;
}

static int parse_jwt(const char *s, size_t n, al_token *out, al_error *err) {
  const char *dot1 = memchr(s, '.', n), *dot2;
  unsigned char *payload;
  size_t cap;
  long plen;
  double exp;
  int found;
  size_t i;
  if (!dot1) goto not_jwt;
  dot2 = memchr(dot1 + 1, '.', n - (size_t)(dot1 + 1 - s));
  if (!dot2 || memchr(dot2 + 1, '.', n - (size_t)(dot2 + 1 - s))) goto not_jwt;
  if (dot1 == s || dot2 == dot1 + 1 || dot2 + 1 == s + n) goto not_jwt;
  for (i = 0; i < n; i++)
    if (s[i] != '.' && b64url_value((unsigned char)s[i]) < 0) goto not_jwt;
  /* 3 bytes per 4 symbols: the payload's own size, bounded by AL_TOKEN_MAX_LEN */
  cap = (size_t)(dot2 - dot1 - 1) / 4 * 3 + 3;
  payload = malloc(cap);
  if (payload == NULL) return al_fail(err, AL_ERR_CONFIG, "token", "out of memory decoding the JWT payload");
  plen = al_base64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), payload, cap);
  if (plen < 0) {
    free(payload);
    return al_fail(err, AL_ERR_CONFIG, "token", "token looks like a JWT but its payload is not valid base64url");
  }
  found = al_json_top_number((const char *)payload, (size_t)plen, "exp", &exp);
  free(payload);
  if (found < 0)
    return al_fail(err, AL_ERR_CONFIG, "token",
                   "token looks like a JWT but its payload is not a JSON object with a numeric exp claim");
  out->kind = AL_TOKEN_JWT;
  out->has_exp = found;
  out->exp = 0;
  if (found) {
    if (!isfinite(exp) || exp > 9.2e18 || exp < -9.2e18)
      return al_fail(err, AL_ERR_CONFIG, "token", "the JWT exp claim is out of range");
    out->exp = (int64_t)floor(exp);
  }
  return 0;
not_jwt:
  return al_fail(err, AL_ERR_CONFIG, "token", "token is not recognised: expected " ACCEPTED_FORMS);
}

int al_token_parse(const char *s, size_t n, al_token *out, al_error *err) {
  if (n == 0) return al_fail(err, AL_ERR_CONFIG, "token", "token is empty: expected " ACCEPTED_FORMS);
  if (n > AL_TOKEN_MAX_LEN)
    return al_fail(err, AL_ERR_CONFIG, "token", "token is too long (%zu bytes; at most %d)", n, AL_TOKEN_MAX_LEN);
  if (al_check_header_value(s, n, "token", err)) {
    err->kind = AL_ERR_CONFIG;
    return -1;
  }
  if (n > 7 && (s[0] == 'B' || s[0] == 'b') && memcmp(s + 1, "earer ", 6) == 0)
    return al_fail(err, AL_ERR_CONFIG, "token",
                   "token starts with 'Bearer ': pass the token alone, the client adds the Bearer scheme itself");
  memset(out, 0, sizeof *out);
  if (has_prefix(s, n, "vk-")) {
    if (!opaque_body_ok(s + 3, n - 3))
      return al_fail(err, AL_ERR_CONFIG, "token", "virtual key must be vk- followed by visible characters");
    out->kind = AL_TOKEN_VK;
    return 0;
  }
  if (has_prefix(s, n, "pat_")) {
    if (!opaque_body_ok(s + 4, n - 4))
      return al_fail(err, AL_ERR_CONFIG, "token",
                     "personal access token must be pat_ followed by visible characters");
    out->kind = AL_TOKEN_PAT;
    return 0;
  }
  return parse_jwt(s, n, out, err);
}

int al_token_check_fresh(const al_token *t, int64_t now, int64_t leeway, al_error *err) {
  char when[32];
  time_t tt;
  struct tm tm;
  if (t->kind != AL_TOKEN_JWT || !t->has_exp || now <= t->exp + leeway) return 0;
  when[0] = '?'; /* filled here: every request asks, and is fresh */
  when[1] = '\0';
  tt = (time_t)t->exp;
  if (gmtime_r(&tt, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return al_fail(err, AL_ERR_AUTH, "token", "the JWT expired at %s (%lld s leeway): sign in again for a new token",
                 when, (long long)leeway);
}

size_t al_redact(const char *s, size_t n, char *out, size_t cap) {
  static const char ellipsis[] = "\xE2\x80\xA6"; /* U+2026 */
  size_t keep = 0, rest, used;
  if (cap == 0) return 0;
  if (has_prefix(s, n, "vk-")) keep = 3;
  else if (has_prefix(s, n, "pat_")) keep = 4;
  rest = n - keep;
  /* show 2 + 4 characters of the secret part only when at least 10 stay hidden */
  if (rest >= 16)
    used = (size_t)snprintf(out, cap, "%.*s%s%.*s", (int)(keep + 2), s, ellipsis, 4, s + n - 4);
  else
    used = (size_t)snprintf(out, cap, "%.*s%s", (int)keep, s, ellipsis);
  return used < cap ? used : cap - 1;
}

int al_looks_like_token(const char *s, size_t n) {
  static const char *const marks[] = {"vk-", "pat_", "eyJ", "Bearer"};
  size_t i, j, m;
  for (i = 0; i < sizeof marks / sizeof marks[0]; i++) {
    m = strlen(marks[i]);
    for (j = 0; j + m <= n; j++)
      if (memcmp(s + j, marks[i], m) == 0) return 1;
  }
  return 0;
}
