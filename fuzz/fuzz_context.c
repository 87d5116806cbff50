/* libFuzzer harness for context resolution (src/core/context.c): the input is split
 * on 0xFF into the scope answer's fields. Checked: an accepted scope has a UUID
 * workspace id and header-safe identifiers; a refused one leaves the context as it was. */

#include "fuzz.h"
#include "context.h"
#include "text.h"
#include "uuid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *f[5] = {NULL, NULL, NULL, NULL, NULL}, *field;
  size_t n[5] = {0, 0, 0, 0, 0}, pos = 0, len, k;
  char *copy = fuzz_copy(data, size);
  al_context c, before;
  al_error err;
  if (!copy) return 0;
  for (k = 0; k < 5 && fuzz_field(copy, size, &pos, &field, &len); k++) {
    if (len > 0 || k == 0) { /* an empty field is an absent member, but the workspace id is given */
      f[k] = field;
      n[k] = len;
    }
  }
  al_context_init(&c);
  al_context_accept(&c, "123e4567-e89b-12d3-a456-426614174000", 36, NULL, 0, NULL, 0, NULL, 0, NULL, 0, 0, 60, NULL);
  before = c;
  if (al_context_accept(&c, f[0], n[0], f[1], n[1], f[2], n[2], f[3], n[3], f[4], n[4], 10, 60, &err) == 0) {
    REQUIRE(al_is_uuid(c.workspace_id, strlen(c.workspace_id)));
    REQUIRE(al_check_header_value(c.virtual_key_id, strlen(c.virtual_key_id), "id", NULL) == 0);
    REQUIRE(al_check_header_value(c.entity_id, strlen(c.entity_id), "id", NULL) == 0);
    REQUIRE(!al_context_needs_scope(&c, 69) && al_context_needs_scope(&c, 70));
  } else {
    REQUIRE(memcmp(&before, &c, sizeof c) == 0);
  }
  free(copy);
  return 0;
}
