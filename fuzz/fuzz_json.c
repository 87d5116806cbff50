/* libFuzzer harness for the JSON core (src/core/json_*.c): scanners, unescaper, escaper
 * and number conversions, with differential checks against the C library (the
 * fuzzer runs in the C locale, where strtod is the reference).
 *
 *   clang -g -O1 -std=c99 -D_POSIX_C_SOURCE=200809L -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -Isrc/core fuzz/fuzz_json.c src/core/json_*.c -lm -o build-fuzz/fuzz_json
 *   mkdir -p build-fuzz/corpus && build-fuzz/fuzz_json -max_total_time=180 -max_len=8192 \
 *     -dict=fuzz/json.dict build-fuzz/corpus fuzz/corpus/json
 *
 * Checked, for every input:
 * - the scanner never reads outside the input, ends with END or a sticky ERROR whose
 *   offset is inside the input (or at its end) and whose message is bounded;
 * - every string token unescapes to exactly decoded_len bytes of valid UTF-8, which
 *   the escaper writes back to a JSON string that scans to the same bytes;
 * - integer tokens equal strtoll, double tokens equal strtod bit for bit;
 * - a document that scans to END, rewritten from its tokens (strings re-escaped,
 *   numbers re-formatted), scans to the same token stream again;
 * - any 8 input bytes as a double format to a JSON number that reads back exactly;
 * - the raw input, when it is UTF-8, survives escape -> scan -> unescape. */
#include <errno.h>
#include <math.h>

#include "fuzz.h"
#include "json.h"

typedef struct {
  char *p;
  size_t len, cap;
} buf;

static void put(buf *b, const void *s, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->len + n) * 2 + 64;
    b->p = realloc(b->p, b->cap);
    REQUIRE(b->p != NULL);
  }
  memcpy(b->p + b->len, s, n);
  b->len += n;
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* s (valid UTF-8 of n bytes) -> "escaped" -> scan -> unescape == s */
static void string_roundtrip(const char *s, size_t n) {
  size_t len, bad = (size_t)-1;
  char *doc, *back;
  al_json_scanner sc;
  al_json_token tok;
  if (al_json_escape_measure(s, n, &len, &bad) != 0) {
    REQUIRE(bad < n);
    return;
  }
  REQUIRE(len >= n && len <= 6 * n);
  doc = malloc(len + 2);
  REQUIRE(doc != NULL);
  doc[0] = '"';
  al_json_escape(s, n, doc + 1);
  doc[len + 1] = '"';
  al_json_scanner_init(&sc, doc, len + 2);
  REQUIRE(al_json_next(&sc, &tok) == AL_JSON_STRING);
  REQUIRE(tok.decoded_len == n);
  back = malloc(n + 1);
  REQUIRE(back != NULL);
  al_json_unescape(&tok, back);
  REQUIRE(memcmp(back, s, n) == 0);
  REQUIRE(al_json_next(&sc, &tok) == AL_JSON_END);
  free(back);
  free(doc);
}

/* a double -> JSON text -> the same double (ours and the C library's reading) */
static void number_roundtrip(double v) {
  char out[AL_JSON_NUMBER_MAX];
  double back;
  al_json_scanner sc;
  al_json_token tok;
  al_json_type t;
  size_t n = al_json_format_double(v, out);
  if (!isfinite(v)) {
    REQUIRE(n == 0);
    return;
  }
  REQUIRE(n > 0 && n < AL_JSON_NUMBER_MAX && strlen(out) == n);
  REQUIRE(al_json_parse_double(out, n, &back) == 0);
  REQUIRE(same_bits(back, v) || (v == 0 && back == 0)); /* "-0" reads as integer 0 */
  REQUIRE(strtod(out, NULL) == v);
  al_json_scanner_init(&sc, out, n); /* and it is JSON */
  t = al_json_next(&sc, &tok);
  REQUIRE(t == AL_JSON_INTEGER || t == AL_JSON_DOUBLE);
  REQUIRE(al_json_next(&sc, &tok) == AL_JSON_END);
  REQUIRE(tok.d == v);
}

/* Scans data; when rw is given, writes the canonical form of every token to it.
 * Returns the number of tokens, or -1 on a scan error. */
static long scan(const char *data, size_t size, buf *rw, buf *shape) {
  al_json_scanner sc;
  al_json_token tok;
  long count = 0;
  int prev_value = 0; /* a comma goes before the next value or key */
  al_json_scanner_init(&sc, data, size);
  for (;;) {
    al_json_type t = al_json_next(&sc, &tok);
    char code;
    if (t == AL_JSON_END) {
      REQUIRE(sc.depth == 0);
      REQUIRE(al_json_next(&sc, &tok) == AL_JSON_END);
      return count;
    }
    if (t == AL_JSON_ERROR) {
      REQUIRE(sc.err_offset <= size);
      REQUIRE(strlen(sc.err) > 0 && strlen(sc.err) < sizeof sc.err);
      REQUIRE(al_json_next(&sc, &tok) == AL_JSON_ERROR);
      return -1;
    }
    count++;
    REQUIRE(tok.offset < size);
    REQUIRE(sc.depth <= AL_JSON_MAX_DEPTH);
    code = (char)('A' + t);
    if (shape) put(shape, &code, 1);
    if (rw && prev_value && t != AL_JSON_OBJECT_END && t != AL_JSON_ARRAY_END) put(rw, ",", 1);
    prev_value = 1;
    switch (t) {
      case AL_JSON_OBJECT:
        if (rw) put(rw, "{", 1);
        prev_value = 0;
        break;
      case AL_JSON_ARRAY:
        if (rw) put(rw, "[", 1);
        prev_value = 0;
        break;
      case AL_JSON_OBJECT_END:
        if (rw) put(rw, "}", 1);
        break;
      case AL_JSON_ARRAY_END:
        if (rw) put(rw, "]", 1);
        break;
      case AL_JSON_KEY:
      case AL_JSON_STRING: {
        char *out;
        size_t elen;
        REQUIRE(tok.str >= data && tok.str + tok.len <= data + size);
        REQUIRE(tok.decoded_len <= tok.len);
        REQUIRE(tok.escaped || tok.decoded_len == tok.len);
        out = malloc(tok.decoded_len + 1);
        REQUIRE(out != NULL);
        al_json_unescape(&tok, out);
        REQUIRE(al_json_escape_measure(out, tok.decoded_len, &elen, NULL) == 0); /* valid UTF-8 */
        string_roundtrip(out, tok.decoded_len);
        if (rw) {
          char *e = malloc(elen + 1);
          REQUIRE(e != NULL);
          al_json_escape(out, tok.decoded_len, e);
          put(rw, "\"", 1);
          put(rw, e, elen);
          put(rw, "\"", 1);
          if (t == AL_JSON_KEY) put(rw, ":", 1);
          free(e);
        }
        if (t == AL_JSON_KEY) prev_value = 0;
        if (shape) put(shape, out, tok.decoded_len);
        free(out);
        break;
      }
      case AL_JSON_INTEGER:
      case AL_JSON_DOUBLE: {
        char *copy = malloc(tok.len + 1), *end;
        REQUIRE(copy != NULL);
        memcpy(copy, tok.str, tok.len);
        copy[tok.len] = '\0';
        if (t == AL_JSON_INTEGER) {
          char num[AL_JSON_NUMBER_MAX];
          errno = 0;
          REQUIRE(strtoll(copy, &end, 10) == tok.i && errno == 0 && *end == '\0');
          if (rw) put(rw, num, al_json_format_integer(tok.i, num));
          if (shape) put(shape, num, al_json_format_integer(tok.i, num));
        } else {
          double ref = strtod(copy, &end);
          REQUIRE(*end == '\0');
          REQUIRE(same_bits(ref, tok.d));
          number_roundtrip(tok.d);
          if (rw) {
            if (isfinite(tok.d)) {
              char num[AL_JSON_NUMBER_MAX];
              size_t n = al_json_format_double(tok.d, num);
              /* "3" would turn a double token into an integer one: keep it a double */
              put(rw, num, n);
              if (!memchr(num, '.', n) && !memchr(num, 'e', n)) put(rw, ".0", 2);
            } else {
              put(rw, tok.d > 0 ? "1e999" : "-1e999", tok.d > 0 ? 5 : 6);
            }
          }
          if (shape) put(shape, &tok.d, sizeof tok.d);
        }
        free(copy);
        break;
      }
      case AL_JSON_TRUE:
        if (rw) put(rw, "true", 4);
        break;
      case AL_JSON_FALSE:
        if (rw) put(rw, "false", 5);
        break;
      case AL_JSON_NULL:
        if (rw) put(rw, "null", 4);
        break;
      default:
        REQUIRE(0);
    }
  }
}

/* The batch scanner (al_json_scan, as core.json_decode takes a document) gives
 * al_json_next's tokens: the same types at the same offsets, keys (riding on the
 * next item) and strings (raw bytes, escapes, decoded length) and numbers (bit for
 * bit), then END, or the same error at the same offset; and so for every batch size,
 * which moves where a batch stops. */
static void batches(const char *data, size_t size, size_t cap) {
  al_json_item items[16];
  al_json_scanner sc, ref;
  al_json_token rtok;
  al_json_type rt;
  size_t k, j, nseen = 0;
  int done = 0;
  /* a consumer of key slots: what each slot holds by what the items said, and the
   * slots of the first keys met (equal keys must share one) */
  struct {
    const char *s;
    size_t len;
  } slot[AL_JSON_KEY_SLOTS] = {{0}}, seen[256];
  int seen_slot[256];
  REQUIRE(cap >= 4 && cap <= sizeof items / sizeof items[0]);
  al_json_scanner_init(&sc, data, size);
  al_json_scanner_init(&ref, data, size);
  while (!done) {
    k = al_json_scan(&sc, items, cap);
    REQUIRE(k > 0 && k <= cap);
    for (j = 0; j < k; j++) { /* an opening's count: to its closing, values only between */
      size_t q = j + 1;
      if (items[j].type != AL_JSON_OBJECT && items[j].type != AL_JSON_ARRAY) continue;
      while (q < k && items[q].type != AL_JSON_OBJECT && items[q].type != AL_JSON_ARRAY &&
             items[q].type != AL_JSON_OBJECT_END && items[q].type != AL_JSON_ARRAY_END)
        q++;
      if (q < k && (items[q].type == AL_JSON_OBJECT_END || items[q].type == AL_JSON_ARRAY_END))
        REQUIRE(items[j].v.i == (int64_t)(q - j - 1) && items[q].type == items[j].type + 1);
      else
        REQUIRE(items[j].v.i == -1);
    }
    for (j = 0; j < k; j++) {
      const al_json_item *it = &items[j];
      size_t off = (size_t)(it->str - data);
      REQUIRE(it->str >= data && it->str <= data + size);
      if (it->key) { /* a member's key rides on the item after al_json_next's KEY */
        rt = al_json_next(&ref, &rtok);
        REQUIRE(rt == AL_JSON_KEY && it->key == rtok.str && it->key_len == rtok.len);
        REQUIRE(it->key_decoded_len == rtok.decoded_len && (it->key_decoded_len != it->key_len) == rtok.escaped);
        REQUIRE(it->type != AL_JSON_OBJECT_END && it->type != AL_JSON_ARRAY_END && it->type != AL_JSON_END);
        if (it->key_slot < 0) {
          REQUIRE(it->key_slot == -1);
          REQUIRE(it->key_decoded_len != it->key_len || it->key_len == 0 || it->key_len > AL_JSON_KEY_SLOT_MAX);
        } else {
          size_t q;
          REQUIRE(it->key_slot < AL_JSON_KEY_SLOTS && it->key_decoded_len == it->key_len);
          REQUIRE(it->key_len >= 1 && it->key_len <= AL_JSON_KEY_SLOT_MAX);
          if (it->key_new) {
            slot[it->key_slot].s = it->key;
            slot[it->key_slot].len = it->key_len;
          } else { /* the slot holds this very key: its value may stand for it */
            REQUIRE(slot[it->key_slot].len == it->key_len && memcmp(slot[it->key_slot].s, it->key, it->key_len) == 0);
          }
          for (q = 0; q < nseen; q++)
            if (seen[q].len == it->key_len && memcmp(seen[q].s, it->key, it->key_len) == 0)
              REQUIRE(seen_slot[q] == it->key_slot);
          if (nseen < sizeof seen / sizeof seen[0]) {
            seen[nseen].s = it->key;
            seen[nseen].len = it->key_len;
            seen_slot[nseen++] = it->key_slot;
          }
        }
      }
      rt = al_json_next(&ref, &rtok);
      REQUIRE(it->type == rt);
      if (rt == AL_JSON_ERROR) {
        REQUIRE(j == k - 1);
        REQUIRE(sc.err_offset == ref.err_offset && off == ref.err_offset);
        REQUIRE(strcmp(sc.err, ref.err) == 0);
        REQUIRE(al_json_scan(&sc, items, cap) == 1 && items[0].type == AL_JSON_ERROR); /* sticky */
        done = 1;
        break;
      }
      if (rt == AL_JSON_END) {
        REQUIRE(j == k - 1 && off == rtok.offset && off == size);
        done = 1;
        break;
      }
      switch (rt) {
        case AL_JSON_STRING:
          REQUIRE(off - 1 == rtok.offset && it->str == rtok.str && it->len == rtok.len);
          REQUIRE(it->escaped == rtok.escaped);
          if (it->escaped) REQUIRE(it->v.decoded_len == rtok.decoded_len);
          else REQUIRE(rtok.decoded_len == rtok.len);
          break;
        case AL_JSON_INTEGER:
          REQUIRE(off == rtok.offset && it->len == rtok.len && it->v.i == rtok.i);
          break;
        case AL_JSON_DOUBLE:
          REQUIRE(off == rtok.offset && it->len == rtok.len && same_bits(it->v.d, rtok.d));
          break;
        default:
          REQUIRE(off == rtok.offset);
          break;
      }
    }
    REQUIRE(done || k + 1 >= cap); /* a batch stops early only at the end or an error */
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  buf rw = {0}, shape1 = {0}, shape2 = {0};
  long n1, n2;
  double d;

  {
    char *copy = malloc(size + 1); /* the input and the NUL after it (al_json_scan's
                                     * promise), no more: ASan sees a read past them */
    REQUIRE(copy != NULL);
    if (size) memcpy(copy, data, size);
    copy[size] = '\0';
    batches(copy, size, 4 + size % 13);
    batches(copy, size, 16);
    free(copy);
  }
  n1 = scan(s, size, &rw, &shape1);
  if (n1 >= 0) { /* the canonical rewrite scans to the same tokens and values */
    n2 = scan(rw.p ? rw.p : "", rw.len, NULL, &shape2);
    REQUIRE(n2 == n1);
    REQUIRE(shape1.len == shape2.len && memcmp(shape1.p, shape2.p, shape1.len) == 0);
  }
  free(rw.p);
  free(shape1.p);
  free(shape2.p);

  string_roundtrip(s, size);

  if (size >= 8) {
    memcpy(&d, data, sizeof d);
    number_roundtrip(d);
  }
  /* the number reader on any bytes: a result or -1, never a crash */
  (void)al_json_parse_double(s, size, &d);
  return 0;
}
