/* JSON decoding token by token: the scanner's state (al_json_scanner_init,
 * al_json_container), its messages (al_json_fail, al_json_expected), and the
 * grammar as one entry point per place, which al_json_next calls by state: the
 * reference scanner of the C tests and the fuzzer. al_json_scan (json_scan.c) walks
 * the same grammar a batch at a time with these messages and al_json_value. Strings
 * beyond printable ASCII are json_string.c's; numbers are matched by number_at
 * (json_scan_private.h) and converted by json_number.c. See json.h. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "json_scan_private.h"

/* Not a memset of the whole (~1.8 KB): objects[] is written before it is read, err
 * on a failure; a key slot is empty while its len is 0, and only slot 0 can be
 * guessed empty (key_next holds 0 or slots that took a key), so only its pattern
 * must match nothing. */
void al_json_scanner_init(al_json_scanner *sc, const char *s, size_t n) {
  unsigned h;
  sc->s = s;
  sc->n = n;
  sc->pos = 0;
  sc->depth = 0;
  sc->state = ST_VALUE;
  sc->err_offset = 0;
  sc->err[0] = '\0';
  for (h = 0; h < AL_JSON_KEY_SLOTS; h++) sc->keys[h].len = 0;
  memset(sc->keys[0].q, 0, sizeof sc->keys[0].q);
  memset(sc->keys[0].nm, 0, sizeof sc->keys[0].nm);
  memset(sc->key_next, 0, sizeof sc->key_next);
  sc->key_last = 0;
}

int al_json_container(const al_json_scanner *sc) {
  unsigned d;
  if (sc->depth == 0) return 0;
  d = sc->depth - 1;
  return sc->objects[d] ? AL_JSON_OBJECT : AL_JSON_ARRAY;
}

/* What stands at off, for messages: a short word (at most 16 bytes, ASCII only),
 * one character, a byte in hex, or "end of input". Never more of the input. */
static void describe(const al_json_scanner *sc, size_t off, char *buf, size_t cap) {
  const unsigned char *s = (const unsigned char *)sc->s;
  size_t k = 0;
  if (off >= sc->n) {
    snprintf(buf, cap, "end of input");
    return;
  }
  if (s[off] < 0x21 || s[off] > 0x7E) {
    snprintf(buf, cap, "byte 0x%02X", s[off]);
    return;
  }
#define WORDCH(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || ((c) >= '0' && (c) <= '9') || \
                   (c) == '_' || (c) == '+' || (c) == '-' || (c) == '.')
  if (WORDCH(s[off])) {
    while (off + k < sc->n && k < 16 && WORDCH(s[off + k])) k++;
  } else {
    k = 1;
  }
#undef WORDCH
  snprintf(buf, cap, "'%.*s'%s", (int)k, (const char *)s + off,
           off + k < sc->n && k == 16 ? "..." : "");
}

/* The messages of both scanners and of json_string.c (through al_json_fail and
 * al_json_expected, json_scan_private.h). */
void al_json_error(al_json_scanner *sc, size_t off, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(sc->err, sizeof sc->err, fmt, ap);
  va_end(ap);
  sc->err_offset = off;
  sc->state = ST_ERROR;
}

void al_json_error_expected(al_json_scanner *sc, size_t off, const char *what) {
  char found[40];
  describe(sc, off, found, sizeof found);
  al_json_error(sc, off, "expected %s, found %s", what, found);
}

/* The usual string, printable ASCII without escapes, here; any other goes on in
 * al_json_string_rest (json_string.c). */
static HOT al_json_type scan_string(al_json_scanner *sc, al_json_token *tok) {
  const unsigned char *s = (const unsigned char *)sc->s;
  size_t open = sc->pos, i = skip_plain(s, open + 1, sc->n);
  if (i < sc->n && s[i] == '"') {
    tok->offset = open;
    tok->str = sc->s + open + 1;
    tok->len = i - open - 1;
    tok->decoded_len = tok->len;
    tok->escaped = 0;
    sc->pos = i + 1;
    return AL_JSON_STRING;
  }
  return al_json_string_rest(sc, tok, i);
}

/* The number at sc->pos into *tok. */
static HOT al_json_type scan_number(al_json_scanner *sc, al_json_token *tok) {
  size_t start = sc->pos, end = start;
  al_json_type t = number_at(sc, (const unsigned char *)sc->s, sc->n, start, &end, &tok->i, &tok->d, 0);
  if (t == AL_JSON_ERROR) return t;
  tok->offset = start;
  tok->str = sc->s + start;
  tok->len = end - start;
  sc->pos = end;
  if (t == AL_JSON_INTEGER) tok->d = (double)tok->i;
  return t;
}

static al_json_type scan_literal(al_json_scanner *sc, const char *word, al_json_type t) {
  size_t k = strlen(word), avail = sc->n - sc->pos;
  if (avail >= k && memcmp(sc->s + sc->pos, word, k) == 0) {
    sc->pos += k;
    return t;
  }
  if (avail < k && memcmp(sc->s + sc->pos, word, avail) == 0)
    return al_json_fail(sc, sc->pos, "truncated literal '%s' (found end of input)", word);
  return al_json_expected(sc, sc->pos, "a value");
}

static al_json_type open_container(al_json_scanner *sc, al_json_token *tok, int object) {
  unsigned d = sc->depth;
  if (d >= AL_JSON_MAX_DEPTH) return al_json_fail(sc, sc->pos, "nesting deeper than %d levels", AL_JSON_MAX_DEPTH);
  sc->objects[d] = (unsigned char)object;
  sc->depth++;
  tok->offset = sc->pos++;
  return object ? AL_JSON_OBJECT : AL_JSON_ARRAY;
}

/* The '}' or ']' at pos (the caller knows which container it closes). */
static HOT al_json_type close_at(al_json_scanner *sc, al_json_token *tok, size_t pos, al_json_type t) {
  sc->depth--;
  tok->offset = pos;
  sc->pos = pos + 1;
  return t;
}

/* The value at sc->pos (whitespace already skipped); what: the message's "expected"
 * part when none stands there. */
al_json_type al_json_value(al_json_scanner *sc, al_json_token *tok, const char *what) {
  const unsigned char *s = (const unsigned char *)sc->s;
  tok->offset = sc->pos;
  if (sc->pos >= sc->n) return al_json_expected(sc, sc->pos, what);
  switch (s[sc->pos]) {
    case '{': return open_container(sc, tok, 1);
    case '[': return open_container(sc, tok, 0);
    case '"': return scan_string(sc, tok);
    case 't': return scan_literal(sc, "true", AL_JSON_TRUE);
    case 'f': return scan_literal(sc, "false", AL_JSON_FALSE);
    case 'n': return scan_literal(sc, "null", AL_JSON_NULL);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
      return scan_number(sc, tok);
    default:
      if (sc->pos == 0 && sc->n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        return al_json_fail(sc, 0, "byte order mark (U+FEFF) before the value is not allowed");
      return al_json_expected(sc, sc->pos, what);
  }
}

/* A key at pos (where its '"' should be) and the ':' after it, which is consumed.
 * Without the ':', al_json_next gets the key, and the error at its next call (state
 * ST_COLON), as a pass per separator would. */
static HOT al_json_type scan_key(al_json_scanner *sc, al_json_token *tok, size_t pos, const char *what) {
  const unsigned char *s = (const unsigned char *)sc->s;
  const size_t n = sc->n;
  if (pos >= n || s[pos] != '"') return al_json_expected(sc, pos, what);
  sc->pos = pos;
  if (scan_string(sc, tok) == AL_JSON_ERROR) return AL_JSON_ERROR;
  pos = skip_ws_to(s, sc->pos, n, ':');
  if (pos < n && s[pos] == ':') {
    sc->pos = pos + 1;
    return AL_JSON_KEY;
  }
  sc->pos = pos;
  sc->state = ST_COLON;
  return AL_JSON_KEY;
}

static HOT al_json_type first_key(al_json_scanner *sc, al_json_token *tok) {
  const unsigned char *s = (const unsigned char *)sc->s;
  size_t pos = skip_ws_to(s, sc->pos, sc->n, '"');
  if (pos < sc->n && s[pos] == '}') return close_at(sc, tok, pos, AL_JSON_OBJECT_END);
  return scan_key(sc, tok, pos, "a string key or '}'");
}

static HOT al_json_type next_key(al_json_scanner *sc, al_json_token *tok) {
  const unsigned char *s = (const unsigned char *)sc->s;
  const size_t n = sc->n;
  size_t pos = skip_ws_to(s, sc->pos, n, ',');
  if (pos < n) {
    if (s[pos] == ',') return scan_key(sc, tok, skip_ws_to(s, pos + 1, n, '"'), "a string key after ','");
    if (s[pos] == '}') return close_at(sc, tok, pos, AL_JSON_OBJECT_END);
  }
  return al_json_expected(sc, pos, "',' or '}' after an object member");
}

static al_json_type place_value(al_json_scanner *sc, al_json_token *tok) {
  size_t pos = skip_ws((const unsigned char *)sc->s, sc->pos, sc->n);
  sc->pos = pos;
  if (pos >= sc->n && sc->depth == 0) return al_json_fail(sc, pos, "empty input (expected a JSON value)");
  return al_json_value(sc, tok, "a value");
}

static al_json_type first_element(al_json_scanner *sc, al_json_token *tok) {
  const unsigned char *s = (const unsigned char *)sc->s;
  size_t pos = skip_ws(s, sc->pos, sc->n);
  if (pos < sc->n && s[pos] == ']') return close_at(sc, tok, pos, AL_JSON_ARRAY_END);
  sc->pos = pos;
  return al_json_value(sc, tok, "a value or ']'");
}

static al_json_type next_element(al_json_scanner *sc, al_json_token *tok) {
  const unsigned char *s = (const unsigned char *)sc->s;
  const size_t n = sc->n;
  size_t pos = skip_ws_to(s, sc->pos, n, ',');
  if (pos < n) {
    if (s[pos] == ',') {
      sc->pos = skip_ws(s, pos + 1, n);
      return al_json_value(sc, tok, "a value");
    }
    if (s[pos] == ']') return close_at(sc, tok, pos, AL_JSON_ARRAY_END);
  }
  return al_json_expected(sc, pos, "',' or ']' after an array element");
}

static al_json_type document_end(al_json_scanner *sc, al_json_token *tok) {
  size_t pos = skip_ws((const unsigned char *)sc->s, sc->pos, sc->n);
  sc->pos = pos;
  if (pos >= sc->n) {
    tok->offset = pos;
    return AL_JSON_END;
  }
  return al_json_expected(sc, pos, "end of input after the JSON value");
}
/* The generic pull: what the grammar expects next is the state, and the entry
 * point for it does the rest. */
al_json_type al_json_next(al_json_scanner *sc, al_json_token *tok) {
  al_json_type t;
  size_t pos;
  tok->type = AL_JSON_ERROR;
  switch (sc->state) {
    case ST_VALUE: t = place_value(sc, tok); break;
    case ST_VALUE_OR_END: t = first_element(sc, tok); break;
    case ST_KEY_OR_END: t = first_key(sc, tok); break;
    case ST_COLON:
      pos = skip_ws((const unsigned char *)sc->s, sc->pos, sc->n);
      if (pos >= sc->n || sc->s[pos] != ':') return al_json_expected(sc, pos, "':' after an object key");
      sc->pos = pos + 1;
      t = place_value(sc, tok);
      break;
    case ST_COMMA_OR_END:
      t = al_json_container(sc) == AL_JSON_OBJECT ? next_key(sc, tok) : next_element(sc, tok);
      break;
    case ST_DONE: t = document_end(sc, tok); break;
    default: return AL_JSON_ERROR;
  }
  switch (t) {
    case AL_JSON_ERROR:
    case AL_JSON_END: return tok->type = t;
    case AL_JSON_OBJECT: sc->state = ST_KEY_OR_END; break;
    case AL_JSON_ARRAY: sc->state = ST_VALUE_OR_END; break;
    case AL_JSON_KEY:
      if (sc->state != ST_COLON) sc->state = ST_VALUE; /* else the ':' is missing */
      break;
    default: sc->state = sc->depth ? ST_COMMA_OR_END : ST_DONE; break;
  }
  return tok->type = t;
}
