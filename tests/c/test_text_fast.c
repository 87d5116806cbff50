/* The word-at-a-time and table-driven checks against the plain byte rules they replace:
 * al_check_header_value (no byte below 0x20, no 0x7f; the position is reported), al_is_uuid
 * (8-4-4-4-12 hex digits), al_endpoint_param (exact names, embedded NUL included). */
#include <ctype.h>

#include "catalog.h"
#include "check.h"
#include "text.h"
#include "uuid.h"

static int plain_control_at(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f) return (int)i;
  return -1;
}

static int plain_uuid(const char *s, size_t n) {
  size_t i;
  if (n != 36) return 0;
  for (i = 0; i < 36; i++) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return 0;
    } else if (!isxdigit((unsigned char)s[i])) {
      return 0;
    }
  }
  return 1;
}

int main(void) {
  char buf[40], want[64];
  al_error err;
  size_t len, pos;
  int b;

  /* every byte value at every position of values of 1..19 bytes (two words and a tail) */
  for (len = 1; len < 20; len++)
    for (pos = 0; pos < len; pos++)
      for (b = 0; b < 256; b++) {
        int bad, got;
        memset(buf, 'a', sizeof buf);
        buf[pos] = (char)b;
        bad = plain_control_at(buf, len);
        got = al_check_header_value(buf, len, "v", &err);
        if ((bad >= 0) != (got != 0)) {
          CHECK(!"al_check_header_value disagrees with the byte rule");
          fprintf(stderr, "  len %zu pos %zu byte 0x%02X\n", len, pos, (unsigned)b);
        }
        if (bad >= 0 && got != 0) {
          snprintf(want, sizeof want, "at position %d)", bad + 1);
          if (strstr(err.message, want) == NULL) CHECK(!"the position of the first control byte");
        }
      }
  /* two control bytes: the first is reported */
  CHECK(al_check_header_value("abcdefghij\r\n", 12, "v", &err) == -1);
  CHECK_CONTAINS(err.message, "CR (byte 0x0D at position 11)");
  CHECK(al_check_header_value("\xc3\xa9\xe2\x82\xac\xff\x80\x9f", 8, "v", &err) == 0); /* high bytes pass */

  /* uuids: each position with each byte */
  {
    const char *u = "123e4567-e89b-12d3-a456-426614174000";
    CHECK(al_is_uuid(u, 36) && al_is_uuid("ABCDEF01-ABCD-ABCD-ABCD-ABCDEF012345", 36));
    CHECK(!al_is_uuid(u, 35) && !al_is_uuid(u, 0));
    for (pos = 0; pos < 36; pos++)
      for (b = 0; b < 256; b++) {
        memcpy(buf, u, 36);
        buf[pos] = (char)b;
        if (al_is_uuid(buf, 36) != plain_uuid(buf, 36)) {
          CHECK(!"al_is_uuid disagrees with the byte rule");
          fprintf(stderr, "  pos %zu byte 0x%02X\n", pos, (unsigned)b);
        }
      }
  }

  /* parameter names: exact, never a prefix, NUL bytes are not an end */
  {
    const al_endpoint *e = al_catalog_find("analytics.usage", 15);
    CHECK(e != NULL);
    if (e) {
      CHECK(al_endpoint_param(e, "agent_id", 8) >= 0);
      CHECK(al_endpoint_param(e, "agent_id2", 9) == -1);
      CHECK(al_endpoint_param(e, "agent_i", 7) == -1);
      CHECK(al_endpoint_param(e, "agent_id\0", 9) == -1);
      CHECK(al_endpoint_param(e, "from", 4) == al_endpoint_param(e, "from\0x", 4));
      CHECK(al_endpoint_param(e, "", 0) == -1);
      CHECK(al_endpoint_param(e, "fro", 3) == -1);
    }
  }
  return check_done("test_text_fast");
}
