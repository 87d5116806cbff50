/* Text shown to people (a terminal, a log line): control characters escaped and the
 * client's secrets found so that they can be replaced by their redacted form. */
#ifndef ALEPHANT_CORE_DISPLAY_H
#define ALEPHANT_CORE_DISPLAY_H

#include <stddef.h>

typedef enum {
  AL_SHOW_ESCAPED = 0, /* every control character escaped, \n and \t included */
  AL_SHOW_LINE,        /* one line: CR, LF and TAB become a space, the rest escaped */
  AL_SHOW_LINES        /* LF and TAB kept, the rest escaped (a table, a report) */
} al_show_mode;

/* Looks at the text at s (n bytes left) and says how to show its first character.
 * Sets *len to the bytes it covers. Returns 0 when those bytes can be shown as they
 * are, else the length of their replacement, written (NUL-terminated) into out:
 * C0 controls and DEL as \xHH (\n \r \t by name), C1 controls (U+0080..U+009F)
 * as \u0080, a byte that does not start valid UTF-8 as \xHH. */
size_t al_show_char(const char *s, size_t n, al_show_mode mode, size_t *len, char out[8]);

/* The first occurrence of needle[0..nn) in hay[0..hn), or NULL (nn > 0). */
const char *al_find(const char *hay, size_t hn, const char *needle, size_t nn);

#endif
