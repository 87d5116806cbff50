/* A fast generator of unpredictable bytes: ChaCha20 (RFC 8439's block function) run
 * as a keystream over a 256-bit key that the caller draws from the OS. Pure C, no
 * I/O, no global state: one al_rng per Lua VM (the binding seeds it and seeds it
 * again in a forked child, so that two processes never share a stream).
 * Used for request ids (UUID v4) and retry jitter: a getrandom() system call per
 * id cost more than the rest of building a request. */
#ifndef ALEPHANT_CORE_RNG_H
#define ALEPHANT_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t in[16];          /* constants, key, 64-bit block counter, nonce */
  unsigned char out[64];    /* the current keystream block */
  size_t used;              /* bytes of out already handed out */
} al_rng;

/* Starts the keystream from a 32-byte key (and forgets any earlier state). */
void al_rng_seed(al_rng *r, const unsigned char key[32]);

/* n bytes of keystream. */
void al_rng_bytes(al_rng *r, unsigned char *buf, size_t n);

/* A random UUID version 4, RFC 4122 variant, lower-case: 36 characters, no NUL. */
void al_rng_uuid4(al_rng *r, char out[36]);

#endif
