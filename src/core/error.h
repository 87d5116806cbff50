/* Errors of the core: a kind, the offending field and one readable message.
 * Fixed-size so that the core never allocates on an error path. */
#ifndef ALEPHANT_CORE_ERROR_H
#define ALEPHANT_CORE_ERROR_H

#include <stddef.h>

typedef enum {
  AL_ERR_NONE = 0,
  AL_ERR_CONFIG,
  AL_ERR_VALIDATION,
  AL_ERR_AUTH,
  /* transport failures (src/transport) */
  AL_ERR_NETWORK,
  AL_ERR_TIMEOUT,
  AL_ERR_TLS,
  AL_ERR_TOO_LARGE,
  AL_ERR_DECODE /* malformed JSON (src/core/json_token.c, json_scan.c) */
} al_error_kind;

typedef struct {
  al_error_kind kind;
  char field[64];
  char message[384];
} al_error;

/* "config", "validation", "auth", "network", "timeout", "tls", "too_large", "decode"
 * (or "none"). */
const char *al_error_kind_name(al_error_kind kind);

/* Fills *err (when not NULL) and returns -1, so validators can `return al_fail(...)`. */
int al_fail(al_error *err, al_error_kind kind, const char *field, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
