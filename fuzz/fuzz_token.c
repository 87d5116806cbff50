/* libFuzzer harness for token classification, JWT decoding and redaction
 * (src/core/token.c). Checked for every input:
 * - parsing never reads past the input and either classifies or fails with a message;
 * - a classified token never contains a control character (it becomes a header);
 * - a virtual key starts with "vk-", a PAT with "pat_", a JWT has exactly two dots;
 * - base64url decoding is consistent with its own length rule;
 * - redaction is bounded and never reveals more than prefix + 2 + 4 characters. */

#include "fuzz.h"
#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = fuzz_copy(data, size);
  al_token t;
  al_error err;
  unsigned char out[256];
  char red[64];
  long n;
  size_t i, rlen;
  double v;
  if (!s) return 0;

  if (al_token_parse(s, size, &t, &err) == 0) {
    for (i = 0; i < size; i++) REQUIRE((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] != 0x7f);
    if (t.kind == AL_TOKEN_VK) REQUIRE(size > 3 && memcmp(s, "vk-", 3) == 0);
    else if (t.kind == AL_TOKEN_PAT) REQUIRE(size > 4 && memcmp(s, "pat_", 4) == 0);
    else {
      size_t dots = 0;
      REQUIRE(t.kind == AL_TOKEN_JWT);
      for (i = 0; i < size; i++) dots += s[i] == '.';
      REQUIRE(dots == 2);
    }
    (void)al_token_check_fresh(&t, 1700000000, AL_JWT_LEEWAY, &err);
  } else {
    REQUIRE(err.message[0] != '\0');
    REQUIRE(strlen(err.message) < sizeof err.message);
  }

  n = al_base64url_decode(s, size, out, sizeof out);
  if (n >= 0) REQUIRE((size_t)n == size * 6 / 8 && (size_t)n <= sizeof out);

  (void)al_json_top_number(s, size, "exp", &v);

  rlen = al_redact(s, size, red, sizeof red);
  REQUIRE(rlen < sizeof red && strlen(red) == rlen);
  /* prefix (at most "pat_") + 2 + the 3-byte ellipsis + 4 */
  REQUIRE(rlen <= 4 + 2 + 3 + 4);
  free(s);
  return 0;
}
