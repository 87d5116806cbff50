#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *al_error_kind_name(al_error_kind kind) {
  switch (kind) {
    case AL_ERR_CONFIG: return "config";
    case AL_ERR_VALIDATION: return "validation";
    case AL_ERR_AUTH: return "auth";
    case AL_ERR_NETWORK: return "network";
    case AL_ERR_TIMEOUT: return "timeout";
    case AL_ERR_TLS: return "tls";
    case AL_ERR_TOO_LARGE: return "too_large";
    case AL_ERR_DECODE: return "decode";
    case AL_ERR_NONE: break;
  }
  return "none";
}

int al_fail(al_error *err, al_error_kind kind, const char *field, const char *fmt, ...) {
  va_list ap;
  if (err == NULL) return -1;
  err->kind = kind;
  snprintf(err->field, sizeof err->field, "%s", field ? field : "");
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return -1;
}
