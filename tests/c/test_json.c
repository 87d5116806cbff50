/* The JSON scanner, the string escaper and the number conversions
 * (src/core/json_*.c: docs/architecture.md, 'Where the C lives'). */
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "json.h"

/* The token stream of s as a shape string: { } [ ] k(ey) s i(nteger) d(ouble) t f n,
 * then "!" and the error offset/message on failure. Strings land in strs. */
static char shape[2048], errmsg[160], strs[4096];
static size_t err_off;

static const char *scan_n(const char *s, size_t n) {
  al_json_scanner sc;
  al_json_token tok;
  size_t k = 0, so = 0;
  al_json_type t;
  al_json_scanner_init(&sc, s, n);
  errmsg[0] = strs[0] = '\0';
  err_off = (size_t)-1;
  while ((t = al_json_next(&sc, &tok)) != AL_JSON_END && k < sizeof shape - 2) {
    static const char map[] = "{}[]ksidtfn";
    if (t == AL_JSON_ERROR) {
      shape[k++] = '!';
      snprintf(errmsg, sizeof errmsg, "%s", sc.err);
      err_off = sc.err_offset;
      CHECK(al_json_next(&sc, &tok) == AL_JSON_ERROR); /* sticky */
      break;
    }
    shape[k++] = map[t - 1];
    if ((t == AL_JSON_STRING || t == AL_JSON_KEY) && so + tok.decoded_len + 2 < sizeof strs) {
      al_json_unescape(&tok, strs + so);
      so += tok.decoded_len;
      strs[so++] = '|';
      strs[so] = '\0';
    }
  }
  shape[k] = '\0';
  return shape;
}

static const char *scan(const char *s) { return scan_n(s, strlen(s)); }

/* The one token of a scalar document. */
static al_json_type one(const char *s, al_json_token *tok) {
  al_json_scanner sc;
  al_json_type t;
  al_json_scanner_init(&sc, s, strlen(s));
  t = al_json_next(&sc, tok);
  if (t != AL_JSON_ERROR && al_json_next(&sc, &(al_json_token){0}) != AL_JSON_END) return AL_JSON_ERROR;
  return t;
}

static double num(const char *s) {
  double d = -12345;
  CHECK(al_json_parse_double(s, strlen(s), &d) == 0);
  return d;
}

static int same(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

static const char *esc(const char *s, size_t n) {
  static char out[256];
  size_t len = 0, bad = 0;
  if (al_json_escape_measure(s, n, &len, &bad) != 0) {
    snprintf(out, sizeof out, "!%zu", bad);
    return out;
  }
  CHECK(len < sizeof out);
  al_json_escape(s, n, out);
  out[len] = '\0';
  return out;
}

static const char *fmt(double v) {
  static char out[AL_JSON_NUMBER_MAX];
  size_t n = al_json_format_double(v, out);
  CHECK(n == strlen(out));
  return n ? out : "(refused)";
}

static void test_structure(void) {
  CHECK_STR(scan("{\"a\":[1,2.5,\"x\",true,false,null],\"b\":{}}"), "{k[idstfn]k{}}");
  CHECK_STR(strs, "a|x|b|");
  CHECK_STR(scan(" \t\r\n[ ] \n"), "[]");
  CHECK_STR(scan("[[[]],{}]"), "[[[]]{}]");
  CHECK_STR(scan("\"top\""), "s");
  CHECK_STR(scan("null"), "n");

  /* empty input, whitespace only */
  CHECK_STR(scan(""), "!");
  CHECK_CONTAINS(errmsg, "empty input");
  CHECK(err_off == 0);
  CHECK_STR(scan("  \n\t "), "!");
  CHECK_CONTAINS(errmsg, "empty input");
  CHECK(err_off == 5);

  /* trailing garbage */
  CHECK_STR(scan("{} x"), "{}!");
  CHECK(err_off == 3);
  CHECK_CONTAINS(errmsg, "expected end of input after the JSON value, found 'x'");
  CHECK_STR(scan("[1]]"), "[i]!");
  CHECK_STR(scan("1 2"), "i!");
  CHECK_STR(scan("truex"), "t!");
  CHECK_STR(scan_n("1\0", 2), "i!");
  CHECK_CONTAINS(errmsg, "byte 0x00");

  /* truncated documents */
  CHECK_STR(scan("[1,"), "[i!");
  CHECK_CONTAINS(errmsg, "expected a value, found end of input");
  CHECK(err_off == 3);
  CHECK_STR(scan("{\"a\""), "{k!");
  CHECK_CONTAINS(errmsg, "expected ':' after an object key, found end of input");
  CHECK_STR(scan("{\"a\":"), "{k!");
  CHECK_STR(scan("[1,2"), "[ii!");
  CHECK_CONTAINS(errmsg, "expected ',' or ']' after an array element");
  CHECK_STR(scan("{"), "{!");
  CHECK_CONTAINS(errmsg, "expected a string key or '}'");
  CHECK_STR(scan("\"abc"), "!");
  CHECK_CONTAINS(errmsg, "unterminated string");
  CHECK(err_off == 0);
  CHECK_STR(scan("tru"), "!");
  CHECK_CONTAINS(errmsg, "truncated literal 'true'");

  /* grammar */
  CHECK_STR(scan("[1,]"), "[i!");
  CHECK_CONTAINS(errmsg, "expected a value, found ']'");
  CHECK_STR(scan("{\"a\":1,}"), "{ki!");
  CHECK_CONTAINS(errmsg, "expected a string key after ',', found '}'");
  CHECK(err_off == 7);
  CHECK_STR(scan("{bad"), "{!");
  CHECK(err_off == 1);
  CHECK_CONTAINS(errmsg, "expected a string key or '}', found 'bad'");
  CHECK_STR(scan("{\"a\" 1}"), "{k!");
  CHECK_STR(scan("[1}"), "[i!");
  CHECK_CONTAINS(errmsg, "found '}'");
  CHECK_STR(scan("{\"a\":1]"), "{ki!");
  CHECK_STR(scan("[1 2]"), "[i!");
  CHECK_STR(scan("[nul]"), "[!");
  CHECK_STR(scan("[NaN]"), "[!");
  CHECK_CONTAINS(errmsg, "found 'NaN'");
  CHECK_STR(scan("Infinity"), "!");
  CHECK_STR(scan("'single'"), "!");
  CHECK_STR(scan("{\"a\":1 // comment\n}"), "{ki!");
  CHECK_STR(scan("\xEF\xBB\xBF{}"), "!"); /* BOM: refused, RFC 8259 8.1 allows either */
  CHECK_CONTAINS(errmsg, "byte order mark");
  CHECK_STR(scan("[\f]"), "[!");
  CHECK_CONTAINS(errmsg, "byte 0x0C");

  /* the quoted input is bounded: 16 bytes and "..." at most */
  CHECK_STR(scan("[abcdefghijklmnopqrstuvwxyz0123456789]"), "[!");
  CHECK_CONTAINS(errmsg, "found 'abcdefghijklmnop'...");
  CHECK(strstr(errmsg, "q") == NULL);
}

/* What each place of the grammar says when it finds something else (al_json_next;
 * the batch scanner is compared with it in test_batches). */
static void test_place_errors(void) {
  CHECK_STR(scan("{\"a\":[1,2.5,\"x\",true,false,null],\"b\":{}}"), "{k[idstfn]k{}}");
  CHECK_STR(scan(" [ { } , [ ] ] "), "[{}[]]");
  CHECK_STR(scan("\"top\""), "s");
  CHECK_STR(scan(" \n"), "!");
  CHECK_CONTAINS(errmsg, "empty input (expected a JSON value)");
  CHECK(err_off == 2);
  CHECK_STR(scan("{} x"), "{}!");
  CHECK(err_off == 3);
  CHECK_CONTAINS(errmsg, "expected end of input after the JSON value, found 'x'");
  /* a missing ':' is reported after the key is handed out */
  CHECK_STR(scan("{\"a\" 1}"), "{k!");
  CHECK_STR(errmsg, "expected ':' after an object key, found '1'");
  CHECK(err_off == 5);
  CHECK_STR(scan("{\"a\":1,\"b\""), "{kik!");
  CHECK_STR(errmsg, "expected ':' after an object key, found end of input");
  CHECK(err_off == 10);
  CHECK_STR(scan("{\"a\":1,}"), "{ki!");
  CHECK_STR(errmsg, "expected a string key after ',', found '}'");
  CHECK(err_off == 7);
  CHECK_STR(scan("{bad"), "{!");
  CHECK_STR(errmsg, "expected a string key or '}', found 'bad'");
  CHECK_STR(scan("{\"a\":1]"), "{ki!");
  CHECK_STR(errmsg, "expected ',' or '}' after an object member, found ']'");
  CHECK_STR(scan("[1,]"), "[i!");
  CHECK_STR(errmsg, "expected a value, found ']'");
  CHECK_STR(scan("[}"), "[!");
  CHECK_STR(errmsg, "expected a value or ']', found '}'");
  CHECK_STR(scan("[1 2]"), "[i!");
  CHECK_STR(errmsg, "expected ',' or ']' after an array element, found '2'");
  CHECK_STR(scan("{\"a\":"), "{k!");
  CHECK_STR(errmsg, "expected a value, found end of input");

}

/* The token stream of s through al_json_scan, cap items a batch, in scan_n's shape
 * (with the strings in strs, numbers as their text), and the same from al_json_next:
 * equal, for every batch size. */
static const char *batch_shape(const char *s, size_t n, size_t cap) {
  static const char map[] = "{}[]ksidtfn";
  al_json_item items[64];
  al_json_scanner sc;
  size_t k = 0, so = 0, j, got;
  al_json_scanner_init(&sc, s, n);
  errmsg[0] = strs[0] = '\0';
  err_off = (size_t)-1;
  for (;;) {
    got = al_json_scan(&sc, items, cap);
    CHECK(got > 0 && got <= cap);
    for (j = 0; j < got && k < sizeof shape - 3; j++) {
      const al_json_item *it = &items[j];
      if (it->key) { /* a member's key rides on its value: al_json_next's KEY before it */
        al_json_token tok;
        CHECK(it->key_decoded_len <= it->key_len);
        shape[k++] = 'k';
        if (so + it->key_len + 2 < sizeof strs) {
          memset(&tok, 0, sizeof tok);
          tok.str = it->key;
          tok.len = it->key_len;
          tok.escaped = it->key_decoded_len != it->key_len;
          tok.decoded_len = it->key_decoded_len;
          al_json_unescape(&tok, strs + so);
          so += tok.decoded_len;
          strs[so++] = '|';
          strs[so] = '\0';
        }
      }
      if (it->type == AL_JSON_END) goto done;
      if (it->type == AL_JSON_ERROR) {
        shape[k++] = '!';
        snprintf(errmsg, sizeof errmsg, "%s", sc.err);
        err_off = sc.err_offset;
        CHECK(it->str == s + sc.err_offset);
        goto done;
      }
      shape[k++] = map[it->type - 1];
      if (it->type == AL_JSON_STRING && so + it->len + 2 < sizeof strs) {
        al_json_token tok;
        memset(&tok, 0, sizeof tok);
        tok.str = it->str;
        tok.len = it->len;
        tok.escaped = it->escaped;
        tok.decoded_len = it->escaped ? it->v.decoded_len : it->len;
        al_json_unescape(&tok, strs + so);
        so += tok.decoded_len;
        strs[so++] = '|';
        strs[so] = '\0';
      }
    }
    if (k >= sizeof shape - 3) break;
  }
done:
  shape[k] = '\0';
  return shape;
}

static void same_batches(const char *s, size_t n) {
  char want[sizeof shape], want_msg[sizeof errmsg], want_strs[sizeof strs];
  size_t want_off, cap;
  snprintf(want, sizeof want, "%s", scan_n(s, n));
  snprintf(want_msg, sizeof want_msg, "%s", errmsg);
  snprintf(want_strs, sizeof want_strs, "%s", strs);
  want_off = err_off;
  for (cap = 4; cap <= 64; cap += cap < 12 ? 1 : 52) {
    CHECK_STR(batch_shape(s, n, cap), want);
    CHECK_STR(errmsg, want_msg);
    CHECK_STR(strs, want_strs);
    CHECK(err_off == want_off);
  }
}

/* Key slots over s, batches of cap: a consumer keeping one value per slot (made when
 * key_new) always finds the key's own bytes there, equal keys share a slot; returns
 * how many keys were new to their slot, or -1. */
static int slot_news(const char *s, size_t cap) {
  al_json_item items[64];
  al_json_scanner sc;
  const char *held[AL_JSON_KEY_SLOTS] = {0};
  size_t held_len[AL_JSON_KEY_SLOTS] = {0}, got, j;
  int news = 0;
  al_json_scanner_init(&sc, s, strlen(s));
  for (;;) {
    got = al_json_scan(&sc, items, cap);
    for (j = 0; j < got; j++) {
      const al_json_item *it = &items[j];
      if (it->type == AL_JSON_END) return news;
      if (it->type == AL_JSON_ERROR) return -1;
      if (!it->key || it->key_slot < 0) continue;
      if (it->key_new) {
        news++;
        held[it->key_slot] = it->key;
        held_len[it->key_slot] = it->key_len;
      } else if (held_len[it->key_slot] != it->key_len || memcmp(held[it->key_slot], it->key, it->key_len) != 0) {
        return -1;
      }
    }
  }
}

static void test_batches(void) {
  static const char *docs[] = {
      "{\"a\":[1,2.5,\"x\",true,false,null],\"b\":{}}", " { \"a\" : -1 , \"b\" : \"s\\n\" } ",
      "{\"a\":{\"b\":{\"c\":[{\"d\":0}]}},\"e\":1e3}", "{}", "[]", "[{},{\"a\":{}}]", "\"top\"", " 12 ", "null",
      "[[[[[[[[1]]]]]]]]", "{\"k\\u00e9y\":\"v\\ud83d\\ude00\",\"\xc3\xa9\":\"\xe2\x82\xac\"}",
      /* errors: each place of the grammar */
      "", " \n", "{} x", "{\"a\" 1}", "{\"a\":1,\"b\"", "{\"a\":1,}", "{bad", "{\"a\":1]", "{\"a\":", "{\"a\":}",
      "{\"a\":-}", "{\"a\":01}", "{\"a\":\"x}", "{\"a\":tru}", "{\"a\":\"\\q\"}", "{\"a\":1 \"b\":2}",
      "{\"a\\u00\":1}", "{\"a\":[1,]}", "{\"a\":1.}", "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", "[1,]", "[}", "[1 2]",
      "[", "[1,", "{", "{\"a\":1,", "\xef\xbb\xbf{}", "[1]]", "{\"a\":[}", "[\"\\ud800\"]", "[1e]", "[-]",
  };
  static char deep[2 * (AL_JSON_MAX_DEPTH + 2)];
  size_t i;
  for (i = 0; i < sizeof docs / sizeof docs[0]; i++) same_batches(docs[i], strlen(docs[i]));
  same_batches("[1,\0]", 5); /* a NUL byte */
  /* the depth limit, and the deepest document that is accepted */
  memset(deep, '[', AL_JSON_MAX_DEPTH + 1);
  memset(deep + AL_JSON_MAX_DEPTH + 1, ']', AL_JSON_MAX_DEPTH + 1);
  same_batches(deep, sizeof deep - 2);
  deep[sizeof deep - 3] = '\0'; /* one level less: 512 '[' and 512 ']', NUL after them */
  same_batches(deep + 1, sizeof deep - 4);
  deep[sizeof deep - 3] = ']';
  CHECK_STR(batch_shape(deep, sizeof deep - 2, 8) + AL_JSON_MAX_DEPTH, "!");
  CHECK_STR(errmsg, "nesting deeper than 512 levels");
  CHECK(err_off == AL_JSON_MAX_DEPTH);
  { /* an opening's count: the items to its closing, when only values stand between
     * in the batch (core.json_decode makes such an object's table at its opening) */
    static const char doc[] = "[{\"a\":1,\"b\":null},{},[3,{\"c\":[]}]]";
    static const int want[] = {-1, 2, -1, -1, -1, 0, -1, -1, -1, -1, 0};
    al_json_item items[64];
    al_json_scanner sc;
    size_t got, j;
    al_json_scanner_init(&sc, doc, sizeof doc - 1);
    got = al_json_scan(&sc, items, 64);
    CHECK(got == 16 && items[15].type == AL_JSON_END);
    for (j = 0; j < sizeof want / sizeof want[0]; j++)
      if (items[j].type == AL_JSON_OBJECT || items[j].type == AL_JSON_ARRAY) CHECK(items[j].v.i == want[j]);
    al_json_scanner_init(&sc, doc, sizeof doc - 1);
    got = al_json_scan(&sc, items, 4); /* "[", "{" and a value: the "}" comes in a later batch */
    CHECK(got == 3 && items[1].type == AL_JSON_OBJECT && items[1].v.i == -1);
  }
  /* key slots: rows repeat their keys, which are then not new; keys of one length
   * and first and last byte share a slot and take turns; a key in another order, a
   * duplicate, escapes (no slot) */
  {
    static const char *rows = "[{\"date\":\"d\",\"requests\":1,\"cost\":1.5,\"tokens\":2},"
                              "{\"date\":\"e\",\"requests\":2,\"cost\":2.5,\"tokens\":3},"
                              "{\"tokens\":4,\"cost\":3.5,\"date\":\"f\",\"requests\":3}]";
    size_t cap;
    for (cap = 4; cap <= 64; cap *= 2) {
      CHECK(slot_news(rows, cap) == 4);
      CHECK(slot_news("[{\"abc\":1,\"axc\":2},{\"abc\":3,\"axc\":4}]", cap) == 4);
      CHECK(slot_news("{\"a\":1,\"a\":2,\"b\":{\"a\":3},\"\\u0061\":4,\"\":5}", cap) == 2);
    }
  }
  /* the first batch of a long document: cap - 1 items at least, and the stream goes on */
  {
    al_json_item items[8];
    al_json_scanner sc;
    const char *d = "[1,2,3,4,5,6,7,8,9]";
    al_json_scanner_init(&sc, d, strlen(d));
    CHECK(al_json_scan(&sc, items, 8) >= 7);
    CHECK(items[0].type == AL_JSON_ARRAY && items[1].type == AL_JSON_INTEGER && items[1].v.i == 1);
    CHECK(items[1].str == d + 1 && items[1].len == 1);
  }
}

static void test_depth(void) {
  static char doc[2 * (AL_JSON_MAX_DEPTH + 1) + 1];
  al_json_scanner sc;
  al_json_token tok;
  al_json_type t;
  int opens = 0, max = 0;
  memset(doc, '[', AL_JSON_MAX_DEPTH);
  memset(doc + AL_JSON_MAX_DEPTH, ']', AL_JSON_MAX_DEPTH);
  doc[2 * AL_JSON_MAX_DEPTH] = '\0';
  al_json_scanner_init(&sc, doc, strlen(doc));
  while ((t = al_json_next(&sc, &tok)) == AL_JSON_ARRAY || t == AL_JSON_ARRAY_END) {
    opens += t == AL_JSON_ARRAY ? 1 : -1;
    if (opens > max) max = opens;
  }
  CHECK(t == AL_JSON_END);
  CHECK(max == AL_JSON_MAX_DEPTH);

  memset(doc, '[', AL_JSON_MAX_DEPTH + 1);
  memset(doc + AL_JSON_MAX_DEPTH + 1, ']', AL_JSON_MAX_DEPTH + 1);
  doc[2 * AL_JSON_MAX_DEPTH + 2] = '\0';
  al_json_scanner_init(&sc, doc, strlen(doc));
  while ((t = al_json_next(&sc, &tok)) == AL_JSON_ARRAY) {
  }
  CHECK(t == AL_JSON_ERROR);
  CHECK(sc.err_offset == AL_JSON_MAX_DEPTH);
  CHECK_CONTAINS(sc.err, "nesting deeper than 512 levels");

  /* objects count too, and the container kinds are remembered per level */
  CHECK_STR(scan("{\"a\":[{\"b\":[1]},2],\"c\":3}"), "{k[{k[i]}i]ki}");
  {
    al_json_scanner s2;
    const char *d = "{\"a\":[1]}";
    al_json_scanner_init(&s2, d, strlen(d));
    CHECK(al_json_container(&s2) == 0);
    al_json_next(&s2, &tok);
    CHECK(al_json_container(&s2) == AL_JSON_OBJECT);
    al_json_next(&s2, &tok);
    al_json_next(&s2, &tok);
    CHECK(al_json_container(&s2) == AL_JSON_ARRAY);
  }
}

static void test_strings(void) {
  al_json_token tok;
  char out[64];

  CHECK_STR(scan("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\""), "s");
  CHECK_STR(strs, "a\"b\\c/d\b\f\n\r\t|");
  CHECK(one("\"\\u00e9\\u20AC\"", &tok) == AL_JSON_STRING && tok.escaped && tok.decoded_len == 5);
  al_json_unescape(&tok, out);
  CHECK(memcmp(out, "\xC3\xA9\xE2\x82\xAC", 5) == 0);
  /* surrogate pair -> one 4-byte sequence */
  CHECK(one("\"\\ud83d\\ude00\"", &tok) == AL_JSON_STRING && tok.decoded_len == 4);
  al_json_unescape(&tok, out);
  CHECK(memcmp(out, "\xF0\x9F\x98\x80", 4) == 0);
  CHECK(one("\"\\uDBFF\\uDFFF\"", &tok) == AL_JSON_STRING && tok.decoded_len == 4);
  al_json_unescape(&tok, out);
  CHECK(memcmp(out, "\xF4\x8F\xBF\xBF", 4) == 0);
  /* \u0000 is a real NUL in the decoded bytes */
  CHECK(one("\"a\\u0000b\"", &tok) == AL_JSON_STRING && tok.decoded_len == 3);
  al_json_unescape(&tok, out);
  CHECK(memcmp(out, "a\0b", 3) == 0);
  /* no escapes: the raw bytes are the value */
  CHECK(one("\"plain \xC3\xA9\"", &tok) == AL_JSON_STRING && !tok.escaped && tok.len == 8 && tok.decoded_len == 8);

  /* lone surrogates */
  CHECK_STR(scan("\"\\ud83d\""), "!");
  CHECK_CONTAINS(errmsg, "lone surrogate \\uD83D");
  CHECK(err_off == 1);
  CHECK_STR(scan("\"\\ude00\""), "!");
  CHECK_CONTAINS(errmsg, "lone surrogate \\uDE00");
  CHECK_STR(scan("\"\\ud83d\\u0041\""), "!");
  CHECK_STR(scan("\"\\ud83dx\\ude00\""), "!");
  CHECK_STR(scan("\"\\ud83d\\ud83d\""), "!");
  /* bad escapes */
  CHECK_STR(scan("\"\\u12\""), "!");
  CHECK_CONTAINS(errmsg, "4 hex digits");
  CHECK_STR(scan("\"\\u12G4\""), "!");
  CHECK_STR(scan("\"\\x41\""), "!");
  CHECK_CONTAINS(errmsg, "invalid escape '\\x'");
  CHECK_STR(scan("\"\\U0041\""), "!");
  CHECK_STR(scan("\"\\"), "!");
  CHECK_CONTAINS(errmsg, "unterminated");
  CHECK_STR(scan("\"\\u00"), "!");
  CHECK_CONTAINS(errmsg, "unterminated");
  /* raw control characters: refused; DEL is not a control for JSON */
  CHECK_STR(scan("\"a\nb\""), "!");
  CHECK_CONTAINS(errmsg, "control character 0x0A");
  CHECK(err_off == 2);
  CHECK_STR(scan("\"a\tb\""), "!");
  CHECK_STR(scan("\"\x01\""), "!");
  CHECK_STR(scan_n("\"\0\"", 3), "!");
  CHECK_STR(scan("\"\x7F\""), "s");
  /* UTF-8: valid passes, invalid is refused at its first byte */
  CHECK_STR(scan("\"\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF \xF4\x8F\xBF\xBF\""), "s");
  CHECK_STR(scan("\"\xC0\x80\""), "!"); /* overlong NUL */
  CHECK_CONTAINS(errmsg, "invalid UTF-8 (byte 0xC0)");
  CHECK(err_off == 1);
  CHECK_STR(scan("\"\xC1\xBF\""), "!");                   /* overlong 2-byte */
  CHECK_STR(scan("\"\xE0\x80\xAF\""), "!");               /* overlong 3-byte '/' */
  CHECK_STR(scan("\"\xE0\x9F\xBF\""), "!");               /* overlong 3-byte */
  CHECK_STR(scan("\"\xF0\x80\x80\xAF\""), "!");           /* overlong 4-byte */
  CHECK_STR(scan("\"\xF0\x8F\xBF\xBF\""), "!");           /* overlong 4-byte */
  CHECK_STR(scan("\"\xED\xA0\x80\""), "!");               /* UTF-8-encoded surrogate */
  CHECK_STR(scan("\"\xED\xBF\xBF\""), "!");
  CHECK_STR(scan("\"\xF4\x90\x80\x80\""), "!");           /* above U+10FFFF */
  CHECK_STR(scan("\"\xF5\x80\x80\x80\""), "!");
  CHECK_STR(scan("\"\xFF\""), "!");
  CHECK_STR(scan("\"\x80\""), "!");                       /* lone continuation */
  CHECK_STR(scan("\"ab\xE2\x82\""), "!");                 /* truncated sequence */
  CHECK(err_off == 3);
  CHECK_STR(scan("\"\xE2\x82"), "!");
  CHECK_STR(scan("[\"ok\",\xC3\xA9]"), "[s!");            /* non-ASCII outside strings */
  CHECK_CONTAINS(errmsg, "byte 0xC3");
}

static void test_numbers(void) {
  al_json_token tok;
  CHECK(one("0", &tok) == AL_JSON_INTEGER && tok.i == 0);
  CHECK(one("-0", &tok) == AL_JSON_INTEGER && tok.i == 0); /* as tonumber("-0") in Lua 5.4 */
  CHECK(one("-0.0", &tok) == AL_JSON_DOUBLE && tok.d == 0 && signbit(tok.d));
  CHECK(one("10000", &tok) == AL_JSON_INTEGER && tok.i == 10000);
  CHECK(one("-42", &tok) == AL_JSON_INTEGER && tok.i == -42);
  CHECK(one("9007199254740993", &tok) == AL_JSON_INTEGER && tok.i == 9007199254740993LL);
  CHECK(one("9223372036854775807", &tok) == AL_JSON_INTEGER && tok.i == INT64_MAX);
  CHECK(one("-9223372036854775808", &tok) == AL_JSON_INTEGER && tok.i == INT64_MIN);
  CHECK(one("9223372036854775808", &tok) == AL_JSON_DOUBLE && tok.d == 9223372036854775808.0);
  CHECK(one("-9223372036854775809", &tok) == AL_JSON_DOUBLE && tok.d == -9223372036854775808.0);
  CHECK(one("123456789012345678901234", &tok) == AL_JSON_DOUBLE && same(tok.d, 123456789012345678901234.0));
  CHECK(one("1.0", &tok) == AL_JSON_DOUBLE && tok.d == 1.0);
  CHECK(one("1e2", &tok) == AL_JSON_DOUBLE && tok.d == 100.0);
  CHECK(one("0.1", &tok) == AL_JSON_DOUBLE && same(tok.d, 0.1));
  CHECK(one("1E-7", &tok) == AL_JSON_DOUBLE && same(tok.d, 1e-7));
  CHECK(one("1e+2", &tok) == AL_JSON_DOUBLE && tok.d == 100.0);
  CHECK(one("1e400", &tok) == AL_JSON_DOUBLE && isinf(tok.d) && tok.d > 0);
  CHECK(one("-1e400", &tok) == AL_JSON_DOUBLE && isinf(tok.d) && tok.d < 0);
  CHECK(one("1e-400", &tok) == AL_JSON_DOUBLE && tok.d == 0 && !signbit(tok.d));
  CHECK(one("1e99999999999999999999999", &tok) == AL_JSON_DOUBLE && isinf(tok.d));
  CHECK(one("0e99999999999999999999999", &tok) == AL_JSON_DOUBLE && tok.d == 0);

  /* with 8 bytes or more after them, numbers of up to 7 digits and 7 decimals take a
   * shorter way (number_at): the same types and values as alone, and as strtod */
  {
    static const char *nums[] = {"7", "-7", "1234567", "-1234567", "12345678", "9.354414", "-9.354414",
                                 "1234567.1234567", "1.12345678", "12345678.5", "0.5", "-0.5", "-0", "0",
                                 "1.5e3", "1.5E3", "2e5", "1.", "-", "-x", "01", "1.5e", "0.1234567"};
    size_t i;
    for (i = 0; i < sizeof nums / sizeof nums[0]; i++) {
      char doc[64], rest[64];
      al_json_scanner sc;
      al_json_token alone, padded;
      al_json_type t = one(nums[i], &alone), u;
      snprintf(doc, sizeof doc, "%s         ", nums[i]);
      al_json_scanner_init(&sc, doc, strlen(doc));
      u = al_json_next(&sc, &padded);
      if (u != AL_JSON_ERROR && al_json_next(&sc, &(al_json_token){0}) != AL_JSON_END) u = AL_JSON_ERROR;
      CHECK(u == t);
      if (t == AL_JSON_INTEGER) CHECK(padded.i == alone.i && padded.i == strtoll(nums[i], NULL, 10));
      if (t == AL_JSON_DOUBLE) CHECK(same(padded.d, alone.d) && same(padded.d, strtod(nums[i], NULL)));
      /* and in a batch, inside an array */
      snprintf(doc, sizeof doc, "[%s,        1]", nums[i]);
      snprintf(rest, sizeof rest, "%s", scan(doc));
      CHECK_STR(batch_shape(doc, strlen(doc), 8), rest);
      {
        al_json_item items[8];
        al_json_scanner_init(&sc, doc, strlen(doc));
        CHECK(al_json_scan(&sc, items, 8) >= 2 && items[1].type == t);
        if (t == AL_JSON_INTEGER) CHECK(items[1].v.i == alone.i && items[1].len == strlen(nums[i]));
        if (t == AL_JSON_DOUBLE) CHECK(same(items[1].v.d, alone.d) && items[1].len == strlen(nums[i]));
      }
    }
  }

  /* refused forms */
  CHECK_STR(scan("01"), "!");
  CHECK_CONTAINS(errmsg, "leading zeros");
  CHECK_STR(scan("-01"), "!");
  CHECK_STR(scan("00"), "!");
  CHECK_STR(scan("[007]"), "[!");
  CHECK(err_off == 1);
  CHECK_STR(scan("1."), "!");
  CHECK_CONTAINS(errmsg, "expected a digit after the decimal point, found end of input");
  CHECK_STR(scan("1.e5"), "!");
  CHECK_STR(scan(".5"), "!");
  CHECK_STR(scan("+1"), "!");
  CHECK_STR(scan("-"), "!");
  CHECK_CONTAINS(errmsg, "expected a digit after '-'");
  CHECK_STR(scan("-a"), "!");
  CHECK_STR(scan("1e"), "!");
  CHECK_CONTAINS(errmsg, "a digit in the exponent");
  CHECK_STR(scan("1e+"), "!");
  CHECK_STR(scan("0x10"), "i!");
  CHECK_STR(scan("1.5.3"), "d!");

  /* correct rounding, the hard cases */
  CHECK(same(num("2.2250738585072011e-308"), 2.2250738585072011e-308));
  CHECK(same(num("2.2250738585072012e-308"), 2.2250738585072012e-308));
  CHECK(same(num("4.9406564584124654e-324"), 4.9406564584124654e-324));
  CHECK(same(num("2.4703282292062327e-324"), 0.0));      /* below half the smallest subnormal */
  CHECK(same(num("2.4703282292062328e-324"), 4.9406564584124654e-324));
  CHECK(same(num("1.7976931348623157e308"), 1.7976931348623157e308));
  CHECK(isinf(num("1.7976931348623159e308")));
  CHECK(same(num("9007199254740993"), 9007199254740992.0)); /* tie: to even */
  CHECK(same(num("9007199254740995"), 9007199254740996.0));
  CHECK(same(num("1e23"), 1e23));
  CHECK(same(num("8.98846567431158e307"), 8.98846567431158e307));
  CHECK(same(num("0.30000000000000004"), 0.1 + 0.2));
  CHECK(same(num("123.456"), 123.456));
  CHECK(same(num("-0.000001234"), -0.000001234));
  CHECK(same(num("3.141592653589793238462643383279"), 3.141592653589793238462643383279));
  {
    /* each path of the reader (Clinger, Eisel-Lemire, the exact subnormal product,
     * the [m, m+1] bracket for long inputs, the decimal fallback) against strtod */
    static const char *const hard[] = {
        "0.123456789012345678", "1e-320", "4.9406564584124654e-324", "2.4703282292062327208e-324",
        "2.4703282292062327209e-324", "2.2250738585072009e-308", "2.2250738585072014e-308",
        "4.4501477170144023e-308", "4.4501477170144028e-308", "1.7976931348623158079e308",
        "1.7976931348623158e308", "9007199254740993.0000000000001", "9007199254740992.9999999999999",
        "8.98846567431157953864652595394512366808988489471153286367150405788663379027504815663542386612037680105600569399356966788293948844072083112464237153197370621888839467124327426381511098006230470597265414760425028844190753411712314747491e307",
        "123456789012345678901234567890e-30", "0.000000000000000000000000000000000000000001e42",
        "6.02214076e23", "1.602176634e-19", "6.62607015e-34", "1e22", "1e23", "1e-22", "1e-23",
        "18446744073709551615", "18446744073709551616", "9999999999999999999", "10000000000000000001e-1"};
    size_t h;
    for (h = 0; h < sizeof hard / sizeof hard[0]; h++) {
      double mine = -1;
      CHECK(al_json_parse_double(hard[h], strlen(hard[h]), &mine) == 0);
      if (!same(mine, strtod(hard[h], NULL))) {
        fprintf(stderr, "reader differs from strtod on %s\n", hard[h]);
        CHECK(0);
      }
    }
    CHECK(same(num("2.4703282292062327208e-324"), 0.0));
    CHECK(same(num("2.4703282292062327209e-324"), 4.9406564584124654e-324));
    CHECK(same(num("9007199254740993.0000000000001"), 9007199254740994.0));
  }
  {
    /* a tie broken by a digit 900 places later: the dropped tail is a sticky bit */
    static char big[1024];
    size_t k = (size_t)snprintf(big, sizeof big, "9007199254740993.");
    memset(big + k, '0', 900);
    big[k + 900] = '1';
    CHECK(same(num(big), 9007199254740994.0));
    big[k + 900] = '0';
    CHECK(same(num(big), 9007199254740992.0));
  }
  {
    /* against the C library in the C locale, over many random bit patterns */
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    int i, bad = 0;
    for (i = 0; i < 20000; i++) {
      char buf[40];
      double v, back;
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      memcpy(&v, &x, sizeof v);
      if (!isfinite(v)) continue;
      snprintf(buf, sizeof buf, "%.*e", (int)(x % 20), v);
      if (al_json_parse_double(buf, strlen(buf), &back) != 0 || !same(back, strtod(buf, NULL))) bad++;
    }
    CHECK(bad == 0);
  }
}

static void test_escape(void) {
  size_t len = 99, bad = 99;
  CHECK_STR(esc("plain", 5), "plain");
  CHECK_STR(esc("a\"b\\c/d", 7), "a\\\"b\\\\c/d");
  CHECK_STR(esc("\n\r\t\b\f", 5), "\\n\\r\\t\\b\\f");
  CHECK_STR(esc("\x01\x1f", 2), "\\u0001\\u001f");
  CHECK_STR(esc("a\0b", 3), "a\\u0000b");
  CHECK_STR(esc("\x7f", 1), "\x7f");
  CHECK_STR(esc("\xC3\xA9\xF0\x9F\x98\x80", 6), "\xC3\xA9\xF0\x9F\x98\x80");
  CHECK_STR(esc("\xE2\x80\xA8", 3), "\xE2\x80\xA8"); /* U+2028 is valid JSON as is */
  CHECK_STR(esc("", 0), "");
  CHECK_STR(esc("\xC0\x80", 2), "!0");
  CHECK_STR(esc("ab\xED\xA0\x80", 5), "!2");
  CHECK_STR(esc("\xF4\x90\x80\x80", 4), "!0");
  CHECK_STR(esc("xy\xE2\x82", 4), "!2");
  CHECK_STR(esc("\x80", 1), "!0");
  CHECK_STR(esc("ok\xFF", 3), "!2");
  CHECK(al_json_escape_measure("\xC3(", 2, &len, &bad) == -1 && bad == 0 && len == 99);
  /* what the escaper writes, the scanner reads back to the same bytes */
  {
    static const char in[] = "q\"\\\x01\n\xC3\xA9\xF0\x9F\x98\x80\x1f end";
    char doc[128];
    size_t n = sizeof in - 1;
    CHECK(al_json_escape_measure(in, n, &len, NULL) == 0);
    doc[0] = '"';
    al_json_escape(in, n, doc + 1);
    doc[len + 1] = '"';
    CHECK_STR(scan_n(doc, len + 2), "s");
    CHECK(memcmp(strs, in, n) == 0 && strs[n] == '|');
  }
}

static void test_format(void) {
  char out[AL_JSON_NUMBER_MAX];
  CHECK(al_json_format_integer(0, out) == 1 && strcmp(out, "0") == 0);
  al_json_format_integer(-1, out);
  CHECK_STR(out, "-1");
  al_json_format_integer(INT64_MAX, out);
  CHECK_STR(out, "9223372036854775807");
  al_json_format_integer(INT64_MIN, out);
  CHECK_STR(out, "-9223372036854775808");

  CHECK_STR(fmt(0.1), "0.1");
  CHECK_STR(fmt(0.1 + 0.2), "0.30000000000000004");
  CHECK_STR(fmt(1.0 / 3), "0.3333333333333333");
  CHECK_STR(fmt(2.0 / 3), "0.6666666666666666");
  CHECK_STR(fmt(123.456), "123.456");
  CHECK_STR(fmt(-2.5), "-2.5");
  CHECK_STR(fmt(3.0), "3");
  CHECK_STR(fmt(0.0), "0");
  CHECK_STR(fmt(-0.0), "-0");
  CHECK_STR(fmt(9007199254740991.0), "9007199254740991");
  CHECK_STR(fmt(9007199254740992.0), "9007199254740992");
  CHECK_STR(fmt(1e20), "1e+20");
  CHECK_STR(fmt(1e-7), "1e-7");
  CHECK_STR(fmt(1.5e-300), "1.5e-300");
  CHECK_STR(fmt(1.7976931348623157e308), "1.7976931348623157e+308");
  CHECK_STR(fmt(123456789012345678901234.0), "1.2345678901234569e+23"); /* ...685803008 exactly */
  /* the printf-free short path and its edges */
  CHECK_STR(fmt(0.000123), "0.000123");
  CHECK_STR(fmt(0.0001), "0.0001");
  CHECK_STR(fmt(0.00009), "9e-5");
  CHECK_STR(fmt(-0.5), "-0.5");
  CHECK_STR(fmt(10.16614), "10.16614");
  CHECK_STR(fmt(999999999999999.5), "999999999999999.5");
  CHECK_STR(fmt(1e15 + 0.5), "1000000000000000.5");
  CHECK_STR(fmt(-827648.0321655273), "-827648.0321655273"); /* the nearest 16 digits, as %.16g */
  CHECK_STR(fmt(85.94081529974937), "85.94081529974937");
  CHECK_STR(fmt(0.1234567890123456), "0.1234567890123456");
  CHECK_STR(fmt(HUGE_VAL), "(refused)");
  CHECK_STR(fmt(-HUGE_VAL), "(refused)");
  CHECK_STR(fmt(NAN), "(refused)");
  {
    /* every output reads back to the same double */
    uint64_t x = 0x2545F4914F6CDD1DULL;
    int i, bad = 0;
    for (i = 0; i < 20000; i++) {
      double v, back;
      size_t n;
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      memcpy(&v, &x, sizeof v);
      if (!isfinite(v)) continue;
      n = al_json_format_double(v, out);
      if (n == 0 || al_json_parse_double(out, n, &back) != 0 || !same(back, v) || strtod(out, NULL) != v) bad++;
    }
    CHECK(bad == 0);
  }
  /* a locale with a decimal comma changes nothing (skipped when not installed) */
  if (setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "de_DE") || setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
    char probe[16];
    snprintf(probe, sizeof probe, "%.1f", 0.5);
    CHECK_STR(probe, "0,5"); /* the locale really is active */
    CHECK_STR(fmt(0.5), "0.5");
    CHECK_STR(fmt(-1234.5678), "-1234.5678");
    CHECK_STR(fmt(1.5e-300), "1.5e-300");
    CHECK_STR(fmt(0.1 + 0.2), "0.30000000000000004");
    CHECK(same(num("0.5"), 0.5));
    setlocale(LC_NUMERIC, "C");
    printf("test_json: locale check ran\n");
  } else {
    printf("test_json: no de_DE/fr_FR locale, locale check skipped\n");
  }
}

int main(void) {
  test_structure();
  test_place_errors();
  test_batches();
  test_depth();
  test_strings();
  test_numbers();
  test_escape();
  test_format();
  return check_done("test_json");
}
