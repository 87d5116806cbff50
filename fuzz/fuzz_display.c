/* libFuzzer harness for text shown to people (src/core/display.c, closest.c). Checked
 * for every input, in each mode:
 * - the escaped text has no C0 control (but LF and TAB where kept), no DEL, no C1
 *   control as UTF-8, and is valid UTF-8 (bytes that are not become \xHH);
 * - text without anything to escape comes back unchanged;
 * - al_find agrees with a naive search; the edit distance of the two halves is
 *   symmetric and bounded by the longer length. */
#include "fuzz.h"

#include "closest.h"
#include "display.h"
#include "text.h"

static void check_mode(const char *s, size_t n, al_show_mode mode) {
  char *out = malloc(n * 6 + 1), rep[8];
  size_t i = 0, o = 0, len, k;
  int changed = 0;
  if (!out) return;
  while (i < n) {
    size_t w = al_show_char(s + i, n - i, mode, &len, rep);
    REQUIRE(len >= 1 && len <= 4 && i + len <= n && w < 8);
    if (w) {
      REQUIRE(strlen(rep) == w);
      memcpy(out + o, rep, w), o += w, changed = 1;
    } else {
      memcpy(out + o, s + i, len), o += len;
    }
    i += len;
  }
  REQUIRE(al_utf8_length(out, o) >= 0);
  for (k = 0; k < o; k++) {
    unsigned char c = (unsigned char)out[k];
    int kept = mode == AL_SHOW_LINES && (c == '\n' || c == '\t');
    REQUIRE(kept || (c >= 0x20 && c != 0x7f));
    if (c == 0xC2 && k + 1 < o) REQUIRE((unsigned char)out[k + 1] > 0x9F);
  }
  if (!changed) REQUIRE(o == n && memcmp(out, s, n) == 0);
  free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = fuzz_copy(data, size);
  size_t half = size / 2, i;
  const char *hit, *naive = NULL;
  if (!s) return 0;
  check_mode(s, size, AL_SHOW_ESCAPED);
  check_mode(s, size, AL_SHOW_LINE);
  check_mode(s, size, AL_SHOW_LINES);

  /* needle: the first up to 8 bytes of the second half */
  if (half > 0) {
    size_t nn = size - half < 8 ? size - half : 8;
    hit = al_find(s, half, s + half, nn);
    for (i = 0; nn && i + nn <= half; i++)
      if (memcmp(s + i, s + half, nn) == 0) {
        naive = s + i;
        break;
      }
    REQUIRE(hit == naive);
  }
  {
    size_t a = half, b = size - half, d1 = al_edit_distance(s, a, s + half, b), d2 = al_edit_distance(s + half, b, s, a);
    REQUIRE(d1 == d2);
    if (a <= AL_CLOSEST_MAX_LEN && b <= AL_CLOSEST_MAX_LEN) REQUIRE(d1 <= (a > b ? a : b));
  }
  free(s);
  return 0;
}
