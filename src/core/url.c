#include "url.h"

#include <stdio.h>
#include <string.h>

static int unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
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
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (unreserved(c)) {
      put(k, (const char *)&s[i], 1);
    } else {
      char esc[3];
      esc[0] = '%';
      esc[1] = hex[c >> 4];
      esc[2] = hex[c & 15];
      put(k, esc, 3);
    }
  }
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

size_t al_build_url(char *out, size_t cap, const char *base, size_t base_n, const al_endpoint *e,
                    const al_value *values) {
  sink k;
  const char *p = e->path;
  unsigned i;
  int first = 1;
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
    for (i = 0; i < e->nparams; i++) {
      const al_param *prm = e->params[i];
      if (prm->in == AL_IN_PATH && strlen(prm->wire) == (size_t)(close - open - 1) &&
          memcmp(prm->wire, open + 1, (size_t)(close - open - 1)) == 0) {
        put_value(&k, &values[i]);
        break;
      }
    }
    p = close + 1;
  }
  for (i = 0; i < e->nparams; i++) {
    const al_param *prm = e->params[i];
    if (prm->in != AL_IN_QUERY || values[i].type == AL_V_ABSENT) continue;
    put(&k, first ? "?" : "&", 1);
    first = 0;
    put_encoded(&k, prm->wire, strlen(prm->wire));
    put(&k, "=", 1);
    put_value(&k, &values[i]);
  }
  if (cap) out[k.len < k.cap ? k.len : k.cap] = '\0';
  return k.len;
}
