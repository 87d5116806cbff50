#ifndef ALEPHANT_CORE_UUID_H
#define ALEPHANT_CORE_UUID_H

#include <stddef.h>

#include "error.h"

/* 8-4-4-4-12 hexadecimal digits, either case (RFC 9562 text form). */
int al_is_uuid(const char *s, size_t n);
int al_check_uuid(const char *s, size_t n, const char *field, al_error *err);

#endif
