/* JSON decoding a batch at a time: al_json_scan, core.json_decode's scanner
 * (src/lua/json.c), and its key slots (a key guessed from the one before and compared
 * with its colon as two words). The grammar, the messages and their offsets are
 * al_json_next's (json_token.c); the hot helpers are inline from
 * json_scan_private.h, strings beyond printable ASCII go to json_string.c. See json.h. */
#include <assert.h>
#include <string.h>

#include "json.h"
#include "json_scan_private.h"

/* ------------------------------------------------------------- key slots ---- */

/* a[0..n) == b[0..n), for short keys: a few word compares instead of a memcmp call */
static HOT int same_key(const char *a, const char *b, size_t n) {
  uint64_t x, y;
  uint32_t u, v;
  if (n >= 8) {
    size_t i;
    for (i = 0; i + 8 < n; i += 8) {
      memcpy(&x, a + i, 8);
      memcpy(&y, b + i, 8);
      if (x != y) return 0;
    }
    memcpy(&x, a + n - 8, 8); /* the last 8 bytes, overlapping the ones compared */
    memcpy(&y, b + n - 8, 8);
    return x == y;
  }
  if (n >= 4) {
    memcpy(&u, a, 4);
    memcpy(&v, b, 4);
    if (u != v) return 0;
    memcpy(&u, a + n - 4, 4);
    memcpy(&v, b + n - 4, 4);
    return u == v;
  }
  while (n--)
    if (a[n] != b[n]) return 0;
  return 1;
}

/* Slot h's pattern (q, nm) for the key k (len bytes): '"', the key, '"', ':' (a match
 * covers the string and its colon); keys above 13 bytes get none. */
static void key_pattern(al_json_scanner *sc, unsigned h, const unsigned char *k, size_t len) {
  /* nm from a ramp: bytes len + 3 .. 15 are 0xFF */
  static const unsigned char ramp[32] = {0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
                                         0,    0,    0,    0,    0,    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                         0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  unsigned char q[16], nm[16];
  size_t i;
  if (len > 13) {
    memset(q, 0, sizeof q);
    memset(nm, 0, sizeof nm); /* matches nothing */
  } else {
    if ((size_t)(k - (const unsigned char *)sc->s) + 14 <= sc->n) {
      memcpy(q, k - 1, 16); /* the input's '"', key and '"' (s[n] is readable) */
    } else {
      memset(q, 0, sizeof q);
      q[0] = '"';
      memcpy(q + 1, k, len);
      q[len + 1] = '"';
    }
    q[len + 2] = ':';
    for (i = 0; i < 16; i++) q[i] = (unsigned char)~q[i];
    memcpy(nm, ramp + 13 - len, 16);
  }
  memcpy(sc->keys[h].q, q, 16);
  memcpy(sc->keys[h].nm, nm, 16);
}

/* The slot of the key item *it carries (scanned, not guessed), and whether the slot
 * takes it (al_json_item.key_slot); the key is then the guess after the last one. */
static HOT void key_slot_of(al_json_scanner *sc, al_json_item *it) {
  const unsigned char *k = (const unsigned char *)it->key;
  size_t len = it->key_len;
  unsigned h;
  if (it->key_decoded_len != len || len - 1 >= AL_JSON_KEY_SLOT_MAX) { /* escapes; len 0 wraps */
    it->key_slot = -1;
    it->key_new = 0;
    return;
  }
  h = ((unsigned)len * 31u + k[0] * 7u + k[len - 1]) & (AL_JSON_KEY_SLOTS - 1);
  it->key_slot = (int)h;
  if (sc->keys[h].len == len && same_key(sc->keys[h].s, it->key, len)) {
    it->key_new = 0;
  } else {
    sc->keys[h].s = it->key;
    sc->keys[h].len = len;
    it->key_new = 1;
    key_pattern(sc, h, k, len);
  }
  sc->key_next[sc->key_last] = (unsigned char)h;
  sc->key_last = h;
}

/* The key at key is the guess, slot g's key (al_json_scan's two ways of matching it). */
static inline void guessed_key(al_json_scanner *sc, al_json_item *it, const char *key, unsigned g) {
  it->key = key;
  it->key_len = it->key_decoded_len = sc->keys[g].len;
  it->key_slot = (int)g;
  it->key_new = 0;
  sc->key_last = g;
}

/* al_json_scan's key at pos (its '"') when the guess with its colon did not match:
 * the key into *it, then its ':'. Returns the position after the ':', or (size_t)-1
 * (sc->err; the key rides on the error when only the ':' is missing). Out of line:
 * rare after a document's first rows, and al_json_scan keeps its registers. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static size_t key_rest(al_json_scanner *sc, al_json_item *it, size_t pos) {
  const unsigned char *const s = (const unsigned char *)sc->s;
  const size_t n = sc->n;
  size_t i;
  { /* the guess without its colon (a longer key, space before the ':', the input's
     * last 15 bytes) */
    unsigned g = sc->key_next[sc->key_last];
    size_t kl = sc->keys[g].len;
    if (kl && kl < n - pos && s[pos + 1 + kl] == '"' && same_key(sc->keys[g].s, (const char *)s + pos + 1, kl)) {
      guessed_key(sc, it, (const char *)s + pos + 1, g);
      pos += kl + 2;
      goto colon;
    }
  }
  i = skip_plain(s, pos + 1, n);
  if (s[i] == '"') {
    it->key = (const char *)s + pos + 1;
    it->key_len = it->key_decoded_len = i - pos - 1;
    pos = i + 1;
  } else {
    al_json_token tok;
    sc->pos = pos;
    if (al_json_string_rest(sc, &tok, i) == AL_JSON_ERROR) return (size_t)-1;
    it->key = tok.str;
    it->key_len = tok.len;
    it->key_decoded_len = tok.decoded_len;
    pos = sc->pos;
  }
  key_slot_of(sc, it);
colon:
  if (s[pos] != ':') {
    pos = skip_ws_z(s, pos);
    if (s[pos] != ':') {
      al_json_expected(sc, pos, "':' after an object key");
      return (size_t)-1;
    }
  }
  return pos + 1;
}

/* ----------------------------------------------------------------- batch ---- */

/* Batch scanning: the grammar of al_json_next's entry points as one loop over the whole
 * document, the input and the position in registers, each place of the grammar a
 * label; strings and numbers inline, the rest (literals, errors, strings with
 * escapes or non-ASCII bytes) through the functions the other entries use, so the
 * messages and offsets are theirs. The batch stops at a place that needs no more
 * than sc->state to resume (ST_COMMA_OR_END, ST_KEY_OR_END, ST_VALUE_OR_END) when
 * fewer than 2 items are free: from any of those places to the next, at most 2 are
 * written (a closing and END, a value and END, ...). */
size_t al_json_scan(al_json_scanner *sc, al_json_item *items, size_t cap) {
  const unsigned char *const s = (const unsigned char *)sc->s;
  const size_t n = sc->n;
  size_t pos = sc->pos, i = 0;
  int object = 0;             /* the innermost open container is an object */
  al_json_item *it = items, *const full = items + cap - 2; /* past it: fewer than 2 free, stop */
  sc->last_open = NULL;
  al_json_token tok;
  al_json_type t;
  assert(s[n] == '\0'); /* the caller's promise (json.h) */
  assert(cap >= 4); /* json.h: fewer and a resumed scan may return no item, forever */
  if (sc->depth) object = sc->objects[sc->depth - 1];
  switch (sc->state) {
    case ST_VALUE: /* the document's value (a fresh scanner) */
      pos = skip_ws(s, pos, n);
      it->key = NULL;
      if (pos >= n) {
        t = al_json_fail(sc, pos, "empty input (expected a JSON value)");
        goto error;
      }
      goto value;
    case ST_VALUE_OR_END: goto first_element;
    case ST_KEY_OR_END: goto first_key;
    case ST_COMMA_OR_END:
    case ST_DONE: goto after_value;
    default:
      it->key = NULL;
      t = AL_JSON_ERROR; /* sticky */
      goto error;
  }

value: /* a value at pos (whitespace skipped) */
  {
    switch (s[pos]) { /* s[n], NUL, is none of these */
      case '"':
        i = skip_plain(s, pos + 1, n);
        if (s[i] == '"') {
          it->type = AL_JSON_STRING;
          it->escaped = 0;
          it->str = (const char *)s + pos + 1;
          it->len = i - pos - 1;
          pos = i + 1;
          goto item_done;
        }
        sc->pos = pos;
        t = al_json_string_rest(sc, &tok, i);
        if (t == AL_JSON_ERROR) goto error;
        it->type = AL_JSON_STRING;
        goto string_token;
      case '-': case '0': case '1': case '2': case '3': case '4':
      case '5': case '6': case '7': case '8': case '9':
        t = number_at(sc, s, n, pos, &i, &it->v.i, &it->v.d, 1);
        if (t == AL_JSON_ERROR) goto error;
        it->type = t;
        it->str = (const char *)s + pos;
        it->len = i - pos;
        pos = i;
        goto item_done;
      case '{':
      case '[':
        if (sc->depth >= AL_JSON_MAX_DEPTH) {
          t = al_json_fail(sc, pos, "nesting deeper than %d levels", AL_JSON_MAX_DEPTH);
          goto error;
        }
        it->str = (const char *)s + pos;
        it->len = 1;
        it->v.i = -1; /* its count, when it closes in this batch holding only values */
        sc->last_open = it;
        object = s[pos++] == '{';
        sc->objects[sc->depth] = (unsigned char)object;
        sc->depth++;
        if (object) {
          it->type = AL_JSON_OBJECT;
          it++;
          goto first_key;
        }
        it->type = AL_JSON_ARRAY;
        it++;
        goto first_element;
      default:
        break;
    }
  }
  sc->pos = pos; /* literals, and what is not a value */
  t = al_json_value(sc, &tok, "a value");
  if (t == AL_JSON_ERROR) goto error;
  it->type = t;
  it->str = (const char *)s + pos;
  it->len = sc->pos - pos;
  pos = sc->pos;
  /* fall through */

item_done: /* the item at it is complete (one increment for all: no it + 1 kept aside) */
  it++;
after_value: /* after a value, or a container's closing */
  it->key = NULL; /* the next item's, unless a key comes */
  if (object) { /* first: the usual place (the nesting depth stays in sc: a register less) */
    if (it > full) {
      sc->state = ST_COMMA_OR_END;
      goto stop;
    }
    if (s[pos] == ',' && s[pos + 1] == '"') { /* compact JSON's next member (s[pos + 1] is there) */
      pos++;
      goto key;
    }
    pos = skip_ws_z(s, pos);
    if (s[pos] == ',') {
      pos = skip_ws_z(s, pos + 1);
      if (s[pos] == '"') goto key;
      t = al_json_expected(sc, pos, "a string key after ','");
      goto error;
    }
    if (s[pos] == '}') {
      it->type = AL_JSON_OBJECT_END;
      goto close;
    }
    t = al_json_expected(sc, pos, "',' or '}' after an object member");
    goto error;
  }
  if (sc->depth == 0) {
    pos = skip_ws_z(s, pos);
    if (pos < n) {
      t = al_json_expected(sc, pos, "end of input after the JSON value");
      goto error;
    }
    it->type = AL_JSON_END;
    it->str = (const char *)s + pos;
    it->len = 0;
    it++;
    sc->pos = pos;
    sc->state = ST_DONE;
    return (size_t)(it - items);
  }
  if (it > full) {
    sc->state = ST_COMMA_OR_END;
    goto stop;
  }
  if (s[pos] != ',') pos = skip_ws_z(s, pos);
  if (s[pos] == ',') {
    pos = skip_ws_z(s, pos + 1);
    goto value;
  }
  if (s[pos] == ']') {
    it->type = AL_JSON_ARRAY_END;
    goto close;
  }
  t = al_json_expected(sc, pos, "',' or ']' after an array element");
  goto error;

close: /* the '}' or ']' at pos, its type in it->type */
  if (sc->last_open) { /* its opening, with only values since */
    sc->last_open->v.i = it - sc->last_open - 1;
    sc->last_open = NULL;
  }
  sc->depth--;
  object = sc->depth && sc->objects[sc->depth - 1];
  it->str = (const char *)s + pos;
  it->len = 1;
  pos++;
  goto item_done;

first_key: /* after '{' */
  it->key = NULL;
  if (it > full) {
    sc->state = ST_KEY_OR_END;
    goto stop;
  }
  if (s[pos] != '"') pos = skip_ws_z(s, pos);
  if (s[pos] == '}') {
    it->type = AL_JSON_OBJECT_END;
    goto close;
  }
  if (s[pos] != '"') {
    t = al_json_expected(sc, pos, "a string key or '}'");
    goto error;
  }
key: /* a key, its '"' at pos, then its ':'; the key rides on the next item */
  { /* the guess: the key that came after the last one before, with its colon; when
     * the input holds '"', its bytes (no '"', no '\\': a slot's key has none), '"'
     * and ':', that is what the scan would find */
    unsigned g = sc->key_next[sc->key_last];
    if (n - pos >= 15) { /* s[pos .. pos + 15] readable (s[n] too) */
      uint64_t w0, w1;
      memcpy(&w0, s + pos, 8);
      memcpy(&w1, s + pos + 8, 8);
      if ((((w0 ^ sc->keys[g].q[0]) | sc->keys[g].nm[0]) & ((w1 ^ sc->keys[g].q[1]) | sc->keys[g].nm[1])) ==
          ~(uint64_t)0) {
        guessed_key(sc, it, (const char *)s + pos + 1, g);
        pos += sc->keys[g].len + 3;
        if (s[pos] <= ' ') pos = skip_ws_z(s, pos); /* compact JSON: the value is there */
        goto value;
      }
    }
  }
  pos = key_rest(sc, it, pos);
  if (pos == (size_t)-1) {
    t = AL_JSON_ERROR;
    goto error;
  }
  pos = skip_ws_z(s, pos);
  goto value;

first_element: /* after '[' */
  it->key = NULL;
  if (it > full) {
    sc->state = ST_VALUE_OR_END;
    goto stop;
  }
  pos = skip_ws_z(s, pos);
  if (s[pos] == ']') {
    it->type = AL_JSON_ARRAY_END;
    goto close;
  }
  {
    switch (s[pos]) { /* what may start a value: al_json_value's cases */
      case '{': case '[': case '"': case 't': case 'f': case 'n': case '-':
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
        goto value;
      default:
        break;
    }
  }
  t = al_json_expected(sc, pos, "a value or ']'"); /* as al_json_value says it here (no BOM after '[') */
  goto error;

string_token: /* a string value scanned by al_json_string_rest into tok */
  it->escaped = tok.escaped;
  it->str = tok.str;
  it->len = tok.len;
  it->v.decoded_len = tok.decoded_len;
  pos = sc->pos;
  goto item_done;

error: /* sc->err and sc->err_offset say why (t is AL_JSON_ERROR) */
  it->type = t;
  it->str = sc->s + sc->err_offset;
  it->len = 0;
  return (size_t)(it + 1 - items);

stop:
  sc->pos = pos;
  return (size_t)(it - items);
}
