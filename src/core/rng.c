#include "rng.h"

#include <string.h>

#define ROTL(v, k) (((v) << (k)) | ((v) >> (32 - (k))))
#define QR(a, b, c, d)                                     \
  do {                                                     \
    a += b, d ^= a, d = ROTL(d, 16), c += d, b ^= c, b = ROTL(b, 12); \
    a += b, d ^= a, d = ROTL(d, 8), c += d, b ^= c, b = ROTL(b, 7);   \
  } while (0)

static void block(al_rng *r) {
  uint32_t x[16];
  int i;
  memcpy(x, r->in, sizeof x);
  for (i = 0; i < 10; i++) { /* 20 rounds: 10 column + diagonal pairs */
    QR(x[0], x[4], x[8], x[12]);
    QR(x[1], x[5], x[9], x[13]);
    QR(x[2], x[6], x[10], x[14]);
    QR(x[3], x[7], x[11], x[15]);
    QR(x[0], x[5], x[10], x[15]);
    QR(x[1], x[6], x[11], x[12]);
    QR(x[2], x[7], x[8], x[13]);
    QR(x[3], x[4], x[9], x[14]);
  }
  for (i = 0; i < 16; i++) {
    uint32_t v = x[i] + r->in[i];
    r->out[4 * i] = (unsigned char)v;
    r->out[4 * i + 1] = (unsigned char)(v >> 8);
    r->out[4 * i + 2] = (unsigned char)(v >> 16);
    r->out[4 * i + 3] = (unsigned char)(v >> 24);
  }
  if (++r->in[12] == 0) ++r->in[13]; /* 2^64 blocks: never wraps in practice */
  r->used = 0;
}

void al_rng_seed(al_rng *r, const unsigned char key[32]) {
  int i;
  r->in[0] = 0x61707865; /* "expand 32-byte k" */
  r->in[1] = 0x3320646e;
  r->in[2] = 0x79622d32;
  r->in[3] = 0x6b206574;
  for (i = 0; i < 8; i++)
    r->in[4 + i] = (uint32_t)key[4 * i] | (uint32_t)key[4 * i + 1] << 8 | (uint32_t)key[4 * i + 2] << 16 |
                   (uint32_t)key[4 * i + 3] << 24;
  r->in[12] = r->in[13] = r->in[14] = r->in[15] = 0;
  memset(r->out, 0, sizeof r->out);
  r->used = sizeof r->out; /* the first use computes a block */
}

void al_rng_bytes(al_rng *r, unsigned char *buf, size_t n) {
  while (n > 0) {
    size_t k;
    if (r->used == sizeof r->out) block(r);
    k = sizeof r->out - r->used;
    if (k > n) k = n;
    memcpy(buf, r->out + r->used, k);
    memset(r->out + r->used, 0, k); /* handed out: not kept where a later dump could find it */
    r->used += k;
    buf += k;
    n -= k;
  }
}

void al_rng_uuid4(al_rng *r, char out[36]) {
  static const char hex[] = "0123456789abcdef";
  unsigned char b[16];
  int i, o = 0;
  al_rng_bytes(r, b, sizeof b);
  b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
  b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
  for (i = 0; i < 16; i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
    out[o++] = hex[b[i] >> 4];
    out[o++] = hex[b[i] & 15];
  }
}
