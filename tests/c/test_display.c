#include <string.h>

#include "check.h"
#include "closest.h"
#include "display.h"

static size_t dist(const char *a, const char *b) { return al_edit_distance(a, strlen(a), b, strlen(b)); }

/* The text as al_show_char would show it, into out. */
static void show(const char *s, size_t n, al_show_mode mode, char *out, size_t cap) {
  size_t i = 0, o = 0, len;
  char rep[8];
  while (i < n && o + 8 < cap) {
    size_t w = al_show_char(s + i, n - i, mode, &len, rep);
    if (w) memcpy(out + o, rep, w), o += w;
    else memcpy(out + o, s + i, len), o += len;
    i += len;
  }
  out[o] = '\0';
}

int main(void) {
  char out[128];
  const char *hay = "xx vk-secret yy vk-secret";

  CHECK(dist("usage", "usage") == 0);
  CHECK(dist("usgae", "usage") == 1); /* a swap is one edit */
  CHECK(dist("Usage", "usage") == 0); /* case folded */
  CHECK(dist("", "abc") == 3);
  CHECK(dist("virtual_key", "virtual_keys") == 1);
  CHECK(al_edit_distance("a", 1, "b", (size_t)AL_CLOSEST_MAX_LEN + 1) == AL_FAR);
  CHECK(al_close_enough(1, 5, 3));
  CHECK(!al_close_enough(1, 2, 3)); /* half of a two-letter word is not a typo */
  CHECK(!al_close_enough(4, 20, 3));

  show("plain é text", strlen("plain é text"), AL_SHOW_ESCAPED, out, sizeof out);
  CHECK_STR(out, "plain é text");
  show("\x1b]0;title\x07", 10, AL_SHOW_ESCAPED, out, sizeof out);
  CHECK_STR(out, "\\x1B]0;title\\x07");
  show("a\r\nb\tc", 6, AL_SHOW_LINE, out, sizeof out);
  CHECK_STR(out, "a  b c");
  show("a\r\nb\tc", 6, AL_SHOW_LINES, out, sizeof out);
  CHECK_STR(out, "a\\r\nb\tc");
  show("a\nb", 3, AL_SHOW_ESCAPED, out, sizeof out);
  CHECK_STR(out, "a\\nb");
  show("\xc2\x9b" "31m\x7f", 6, AL_SHOW_ESCAPED, out, sizeof out); /* C1 CSI as UTF-8, DEL */
  CHECK_STR(out, "\\u009B31m\\x7F");
  show("\x9b\xff", 2, AL_SHOW_ESCAPED, out, sizeof out); /* not UTF-8 */
  CHECK_STR(out, "\\x9B\\xFF");
  show("\0z", 2, AL_SHOW_ESCAPED, out, sizeof out);
  CHECK_STR(out, "\\x00z");

  CHECK(al_find(hay, strlen(hay), "vk-secret", 9) == hay + 3);
  CHECK(al_find(hay + 4, strlen(hay) - 4, "vk-secret", 9) == hay + 16);
  CHECK(al_find(hay, 5, "vk-secret", 9) == NULL);
  CHECK(al_find(hay, strlen(hay), "", 0) == NULL);
  return check_done("test_display");
}
