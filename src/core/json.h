/* JSON's lexical layer (RFC 8259), pure C: no Lua, no I/O, no allocation, no locale.
 *
 * Decoding is a pull scanner: al_json_next() returns one token at a time and checks
 * the grammar as it goes (commas, colons, nesting up to AL_JSON_MAX_DEPTH), so a
 * caller that builds values from the tokens never sees malformed input;
 * al_json_scan() hands out the same tokens a batch at a time (core.json_decode's
 * way). Strings are validated in place (escapes, surrogate pairs, UTF-8); only
 * strings with escapes need al_json_unescape(), into a buffer of the token's
 * decoded_len bytes.
 *
 * Numbers: a token is AL_JSON_INTEGER when it has no fraction or exponent and fits
 * int64, else AL_JSON_DOUBLE. Text -> double is correctly rounded (round half to
 * even, bit for bit what strtod gives in the C locale) for every input, without
 * strtod or the locale: Clinger's exact fast path, then Eisel-Lemire (64x128-bit
 * products with a table of powers of ten), an exact 192-bit product for values
 * below 2^-1021, and, only when those cannot decide (an input within ~1e-19 of a
 * rounding tie), an exact decimal algorithm on up to 800 significant digits (more
 * never change the result but as a sticky bit). Typical numbers take 10-60 ns, the
 * last path up to ~15 us. Overflow gives +-HUGE_VAL, underflow +-0.
 *
 * Encoding: al_json_escape_measure() validates UTF-8 and sizes the escaped form;
 * al_json_escape() writes it. al_json_format_double() writes the shortest form that
 * reads back to the same double, independent of the process locale. */
#ifndef ALEPHANT_CORE_JSON_H
#define ALEPHANT_CORE_JSON_H

#include <stddef.h>
#include <stdint.h>

/* Deepest nesting accepted: 512 open arrays/objects. */
#define AL_JSON_MAX_DEPTH 512

/* al_json_scan's key slots (al_json_item.key_slot), and the longest key given one */
#define AL_JSON_KEY_SLOTS 32
#define AL_JSON_KEY_SLOT_MAX 40

typedef enum {
  AL_JSON_ERROR = -1,
  AL_JSON_END = 0,    /* the document is complete (only whitespace after the value) */
  AL_JSON_OBJECT,     /* { */
  AL_JSON_OBJECT_END, /* } */
  AL_JSON_ARRAY,      /* [ */
  AL_JSON_ARRAY_END,  /* ] */
  AL_JSON_KEY,        /* a member name (a string in key position) */
  AL_JSON_STRING,
  AL_JSON_INTEGER,    /* tok.i */
  AL_JSON_DOUBLE,     /* tok.d */
  AL_JSON_TRUE,
  AL_JSON_FALSE,
  AL_JSON_NULL
} al_json_type;

typedef struct {
  al_json_type type;
  size_t offset;      /* byte offset of the token in the input */
  const char *str;    /* KEY/STRING: the raw bytes between the quotes */
  size_t len;         /* ... and their count */
  size_t decoded_len; /* KEY/STRING: length once unescaped (== len when !escaped) */
  int escaped;        /* KEY/STRING: holds backslash escapes */
  int64_t i;
  double d;
} al_json_token;

typedef struct {
  const char *s;
  size_t n, pos;
  unsigned depth;
  int state; /* what the grammar expects next (private) */
  unsigned char objects[AL_JSON_MAX_DEPTH]; /* one byte per open container: 1 = object */
  size_t err_offset;
  char err[112]; /* what went wrong, e.g. "expected ':' after an object key, found '}'" */
  /* al_json_scan's key slots (al_json_item.key_slot): the key each slot holds, where
   * it is in the input (len 0: none); for keys of up to 13 bytes also as the 16 bytes
   * '"key":' and what follows, q the complement of those bytes and nm 0xFF over the
   * bytes not compared (all zero, as after init: matches nothing); and the slot of
   * the key that came after it last time, the guess for the next key */
  struct {
    uint64_t q[2], nm[2];
    const char *s;
    size_t len;
  } keys[AL_JSON_KEY_SLOTS];
  unsigned char key_next[AL_JSON_KEY_SLOTS];
  unsigned key_last; /* the slot of the last key scanned */
  struct al_json_item *last_open; /* al_json_scan: the batch's last opening, until a closing */
} al_json_scanner;

void al_json_scanner_init(al_json_scanner *sc, const char *s, size_t n);

/* The next token into *tok. AL_JSON_ERROR is sticky; sc->err and sc->err_offset say
 * why and where (never more than ~20 bytes of the input are quoted). */
al_json_type al_json_next(al_json_scanner *sc, al_json_token *tok);

/* Batch scanning, for a decoder that builds values from a stream of tokens: one
 * call scans on until cap items are filled (or nearly: one may stay free), the
 * document ends or an error stops it, and returns how many items it wrote. Items
 * come in al_json_next's order, with its types, messages and offsets: values, the
 * openings and closings, and last END (the document is complete) or ERROR
 * (sc->err, sc->err_offset); but a member's KEY is no item of its own: it rides on
 * the item after it (the member's value, the opening of its value, or the ERROR
 * after the key, e.g. a missing ':'), in key, which is NULL on every other item.
 * Call it on a fresh scanner, then again while the last item is neither END nor
 * ERROR; cap >= 4. Do not mix it with the other entries on one scanner. The input
 * must be followed by a NUL byte (s[n] == '\0', as after every Lua string): it ends
 * the input for the scanner, which then needs no bound check before looking at a
 * byte. NUL bytes inside the input are errors as ever. */
typedef struct al_json_item {
  al_json_type type;
  int escaped;     /* STRING: holds backslash escapes (decoded length in v.decoded_len) */
  const char *str; /* STRING: the raw bytes between the quotes; numbers: the number;
                    * OBJECT .. ARRAY_END: the bracket; END: the end of the input */
  size_t len;      /* STRING: the raw bytes' count; numbers: the number's */
  union {
    int64_t i;          /* INTEGER; OBJECT, ARRAY: the count of items up to its closing
                         * when that closing is in the same batch with no opening or
                         * closing between (values only: an object's members), else -1 */
    double d;           /* DOUBLE */
    size_t decoded_len; /* STRING with escaped: length once unescaped */
  } v;
  const char *key;        /* a member's: the raw bytes of its key between the quotes; or NULL */
  size_t key_len;         /* their count */
  size_t key_decoded_len; /* the key's length once unescaped: less than key_len when it
                           * holds escapes, else equal */
  /* Keys repeat (the rows of a list share their names), so each key of 1 to
   * AL_JSON_KEY_SLOT_MAX bytes without escapes has a slot, 0 .. AL_JSON_KEY_SLOTS - 1,
   * a function of its bytes (equal keys, one slot; two keys in one slot may be equal);
   * -1 for any other key. key_new is 1 when the slot took this key (its first time,
   * or another key held the slot since), 0 when the slot still holds this same key:
   * a consumer that keeps one value per slot, made when key_new is 1, may use it for
   * every key whose key_new is 0. The scanner guesses each key from the one before
   * and so mostly compares it rather than scans it. */
  int key_slot;
  int key_new;
} al_json_item;

size_t al_json_scan(al_json_scanner *sc, al_json_item *items, size_t cap);

/* The innermost open container: 0 (none, top level), AL_JSON_ARRAY or AL_JSON_OBJECT. */
int al_json_container(const al_json_scanner *sc);

/* Writes the decoded bytes of a KEY/STRING token (tok->decoded_len of them) to out. */
void al_json_unescape(const al_json_token *tok, char *out);

/* The value of a number already matched by the JSON grammar (e.g. "-1.5e-7"),
 * correctly rounded. Returns 0, or -1 when s is not a JSON number. */
int al_json_parse_double(const char *s, size_t n, double *out);

/* Validates UTF-8 and sets *out_len to the escaped length (without quotes). Returns 0,
 * or -1 with *bad_offset at the first byte that is not valid UTF-8 (overlong forms,
 * surrogates and code points above U+10FFFF are invalid). */
int al_json_escape_measure(const char *s, size_t n, size_t *out_len, size_t *bad_offset);

/* Writes the escaped form (out_len bytes from the measure) of validated s. The
 * escapes are those of RFC 8785 / JSON.stringify: \" \\ \b \f \n \r \t, \u00xx for the
 * other C0 controls; everything else, UTF-8 included, passes through. */
void al_json_escape(const char *s, size_t n, char *out);

/* Room for any number al_json_format_* writes, with a NUL. */
#define AL_JSON_NUMBER_MAX 32

/* Decimal form of v; returns its length. */
size_t al_json_format_integer(int64_t v, char *out);

/* A finite double as a JSON number that reads back to exactly v:
 * - integral values below 2^53 without fraction or exponent ("3", "-0");
 * - 1e-4 <= |v| < 1e15: the fewest fraction digits that read back, if that is at most
 *   about 16 significant digits ("0.1", "12.345"), without printf;
 * - else the shortest of %.15g/%.16g/%.17g that reads back, with '.' as the decimal
 *   separator whatever the locale and no leading zeros in the exponent ("1e-7").
 * The result is the shortest round-trip form for normal doubles (subnormals may get
 * 15 digits where fewer would do). Returns the length, or 0 for NaN and infinities
 * (JSON has no form for them). */
size_t al_json_format_double(double v, char *out);

#endif
