/* What every libFuzzer harness of fuzz/ shares (built by scripts/fuzz.sh against
 * src/core): the REQUIRE check, an exact-size copy of the input and the 0xFF field
 * splitter. A harness defines LLVMFuzzerTestOneInput and includes this first. */
#ifndef ALEPHANT_FUZZ_H
#define ALEPHANT_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A property of the code under test: on failure, say which and abort (a finding). */
#define REQUIRE(c)                                                             \
  do {                                                                         \
    if (!(c)) {                                                                \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #c); \
      abort();                                                                 \
    }                                                                          \
  } while (0)

/* The input in a heap block of exactly its size, so ASan catches a read one past its
 * end (libFuzzer's own buffer may be larger). NULL when out of memory; free() it. */
static inline char *fuzz_copy(const uint8_t *data, size_t size) {
  char *s = (char *)malloc(size ? size : 1);
  if (s && size) memcpy(s, data, size);
  return s;
}

/* The next field of s[*pos, size): the bytes up to a 0xFF separator or the end. *pos
 * moves past the separator. 0 when the input is used up (*pos > size): an input that
 * ends with 0xFF has an empty last field. */
static inline int fuzz_field(const char *s, size_t size, size_t *pos, const char **field, size_t *len) {
  size_t start = *pos;
  if (start > size) return 0;
  while (*pos < size && (unsigned char)s[*pos] != 0xFF) (*pos)++;
  *field = s + start;
  *len = *pos - start;
  (*pos)++;
  return 1;
}

#endif
