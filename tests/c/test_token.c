#include "check.h"
#include "token.h"

/* {"sub":"u1","exp":1893456000} -> base64url */
#define JWT_OK "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSIsImV4cCI6MTg5MzQ1NjAwMH0.c2ln"
/* {"sub":"u1"} */
#define JWT_NOEXP "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2ln"
/* {"exp":"soon"} */
#define JWT_BADEXP "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOiJzb29uIn0.c2ln"
/* {"a":{"exp":1},"b":[1,2,{"c":null}],"exp":1.5e9} */
#define JWT_NESTED "eyJhbGciOiJIUzI1NiJ9.eyJhIjp7ImV4cCI6MX0sImIiOlsxLDIseyJjIjpudWxsfV0sImV4cCI6MS41ZTl9.c2ln"

static int parse(const char *s, al_token *t, al_error *e) { return al_token_parse(s, strlen(s), t, e); }

/* Unpadded base64url of in[0..n) into out; returns the length written. */
static size_t b64url(const unsigned char *in, size_t n, char *out) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t i, o = 0;
  for (i = 0; i + 2 < n; i += 3) {
    unsigned long v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8) | in[i + 2];
    out[o++] = abc[(v >> 18) & 63], out[o++] = abc[(v >> 12) & 63];
    out[o++] = abc[(v >> 6) & 63], out[o++] = abc[v & 63];
  }
  if (n - i == 1) {
    out[o++] = abc[in[i] >> 2], out[o++] = abc[(in[i] & 3) << 4];
  } else if (n - i == 2) {
    unsigned long v = ((unsigned long)in[i] << 8) | in[i + 1];
    out[o++] = abc[(v >> 10) & 63], out[o++] = abc[(v >> 4) & 63], out[o++] = abc[(v << 2) & 63];
  }
  return o;
}

/* A JWT of exactly `total` bytes whose payload is {"pad":"xxx...","exp":1893456000}. */
static char *big_jwt(size_t total) {
  static char buf[AL_TOKEN_MAX_LEN + 64];
  static unsigned char payload[AL_TOKEN_MAX_LEN];
  const char *head = "eyJhbGciOiJIUzI1NiJ9.";
  size_t hn = strlen(head), n0 = strlen("{\"pad\":\"\",\"exp\":1893456000}"), pad, n, o;
  pad = (total - hn - 5) * 3 / 4 - n0; /* the longest claim whose token still fits */
  n = (size_t)snprintf((char *)payload, sizeof payload, "{\"pad\":\"%*s\",\"exp\":1893456000}", (int)pad, "");
  memset(payload + 8, 'x', pad);
  memcpy(buf, head, hn);
  o = hn + b64url(payload, n, buf + hn);
  memcpy(buf + o, ".c2ln", 6);
  o += 5;
  while (o < total) buf[o++] = 'A'; /* a longer signature segment */
  buf[o] = '\0';
  return buf;
}

int main(void) {
  al_token t;
  al_error err;
  char buf[64], desc[160];
  unsigned char out[16];
  double v;

  CHECK(parse("vk-agent-a3f8c2d1e4b7", &t, &err) == 0 && t.kind == AL_TOKEN_VK);
  CHECK(parse("pat_wsa3f8c2_e4b7aa", &t, &err) == 0 && t.kind == AL_TOKEN_PAT);
  CHECK(parse(JWT_OK, &t, &err) == 0 && t.kind == AL_TOKEN_JWT && t.has_exp && t.exp == 1893456000);
  CHECK(parse(JWT_NOEXP, &t, &err) == 0 && t.kind == AL_TOKEN_JWT && !t.has_exp);
  CHECK(parse(JWT_NESTED, &t, &err) == 0 && t.has_exp && t.exp == 1500000000);
  CHECK(parse(JWT_BADEXP, &t, &err) == -1 && err.kind == AL_ERR_CONFIG);

  CHECK(parse("", &t, &err) == -1 && err.kind == AL_ERR_CONFIG);
  CHECK_CONTAINS(err.message, "vk-");
  CHECK(parse("sk-live-123", &t, &err) == -1 && err.kind == AL_ERR_CONFIG);
  CHECK_CONTAINS(err.message, "pat_");
  CHECK_CONTAINS(err.message, "JWT");
  CHECK(parse("vk-", &t, &err) == -1);
  CHECK(parse("pat_", &t, &err) == -1);
  CHECK(parse("vk-abc def", &t, &err) == -1);
  CHECK(parse("vk-abc\r\nX-Evil: 1", &t, &err) == -1 && err.kind == AL_ERR_CONFIG);
  CHECK_CONTAINS(err.message, "CR");
  CHECK(parse("a.b", &t, &err) == -1);
  CHECK(parse("a.b.c.d", &t, &err) == -1);
  CHECK(parse("..", &t, &err) == -1);
  CHECK(parse("eyJhIjoxfQ..c2ln", &t, &err) == -1);
  CHECK(parse("eyJ!.eyJhIjoxfQ.c2ln", &t, &err) == -1);
  CHECK(parse("eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", &t, &err) == -1); /* "not json" */
  CHECK(parse("eyJhbGciOiJIUzI1NiJ9.WzFd.c2ln", &t, &err) == -1);         /* [1] */

  /* long JWTs: decoded whatever their size up to AL_TOKEN_MAX_LEN (no 4 KB buffer) */
  CHECK(AL_TOKEN_MAX_LEN >= 16384);
  CHECK(parse(big_jwt(6000), &t, &err) == 0 && t.kind == AL_TOKEN_JWT && t.has_exp && t.exp == 1893456000);
  CHECK(parse(big_jwt(AL_TOKEN_MAX_LEN), &t, &err) == 0 && t.has_exp && t.exp == 1893456000);
  CHECK(strlen(big_jwt(AL_TOKEN_MAX_LEN)) == AL_TOKEN_MAX_LEN);
  CHECK(parse(big_jwt(AL_TOKEN_MAX_LEN + 1), &t, &err) == -1 && err.kind == AL_ERR_CONFIG);
  CHECK_CONTAINS(err.message, "too long");
  CHECK_CONTAINS(err.message, "16384");

  /* expiry with leeway */
  CHECK(parse(JWT_OK, &t, &err) == 0);
  CHECK(al_token_check_fresh(&t, 1893456000, AL_JWT_LEEWAY, &err) == 0);
  CHECK(al_token_check_fresh(&t, 1893456060, AL_JWT_LEEWAY, &err) == 0);
  CHECK(al_token_check_fresh(&t, 1893456061, AL_JWT_LEEWAY, &err) == -1 && err.kind == AL_ERR_AUTH);
  CHECK_CONTAINS(err.message, "2030-01-01T00:00:00Z");
  CHECK(parse(JWT_NOEXP, &t, &err) == 0 && al_token_check_fresh(&t, 4000000000, 60, &err) == 0);

  /* base64url */
  CHECK(al_base64url_decode("aGk", 3, out, sizeof out) == 2 && memcmp(out, "hi", 2) == 0);
  CHECK(al_base64url_decode("aGk=", 4, out, sizeof out) == -1); /* no padding in JWTs */
  CHECK(al_base64url_decode("a", 1, out, sizeof out) == -1);
  CHECK(al_base64url_decode("aGl", 3, out, sizeof out) == -1);  /* non-zero trailing bits */
  CHECK(al_base64url_decode("_-8", 3, out, sizeof out) == 2 && out[0] == 0xff && out[1] == 0xef);
  CHECK(al_base64url_decode("aGVsbG8gd29ybGQ", 15, out, 4) == -1); /* does not fit */

  /* JSON reader */
  CHECK(al_json_top_number("{\"exp\": 12}", 11, "exp", &v) == 1 && v == 12);
  CHECK(al_json_top_number("{}", 2, "exp", &v) == 0);
  CHECK(al_json_top_number("{\"e\\u0078p\":7}", 14, "exp", &v) == 1 && v == 7);
  CHECK(al_json_top_number("{\"exp\":1", 8, "exp", &v) == -1);
  CHECK(al_json_top_number("{\"exp\":1} x", 11, "exp", &v) == -1);
  CHECK(al_json_top_number("{\"exp\":01}", 10, "exp", &v) == -1);
  CHECK(al_json_top_number("{\"a\":[[[[[]]]]],\"exp\":-3}", 25, "exp", &v) == 1 && v == -3);
  CHECK(al_json_top_number("[]", 2, "exp", &v) == -1);
  /* fuzz finding: invalid \u digits used to overflow an int before being refused */
  CHECK(al_json_top_number("{\"\\uzzzz\":1}", 12, "exp", &v) == -1);
  CHECK(al_json_top_number("{\"\\u00zz\":1}", 12, "exp", &v) == -1);
  CHECK(al_json_top_number("{\"\\u0065xp\":5}", 14, "exp", &v) == 1 && v == 5);

  /* redaction never shows more than prefix + 2 + last 4 */
  al_redact("vk-ab0123456789abcdef3f8a", 25, buf, sizeof buf);
  CHECK_STR(buf, "vk-ab\xE2\x80\xA6" "3f8a");
  al_redact("pat_wsa3f8c2_e4b7e4b7e4b7e4b7", 29, buf, sizeof buf);
  CHECK_STR(buf, "pat_ws\xE2\x80\xA6" "e4b7");
  al_redact("vk-short", 8, buf, sizeof buf);
  CHECK_STR(buf, "vk-\xE2\x80\xA6");
  al_redact(JWT_OK, strlen(JWT_OK), buf, sizeof buf);
  CHECK_STR(buf, "ey\xE2\x80\xA6" "c2ln");
  CHECK(al_redact("vk-ab0123456789abcdef3f8a", 25, buf, 4) == 3);
  CHECK(strlen(buf) == 3);

  al_token_kinds_describe(AL_TOKEN_JWT | AL_TOKEN_PAT, desc, sizeof desc);
  CHECK_STR(desc, "a JWT or a personal access token (pat_...)");
  al_token_kinds_describe(AL_TOKEN_ANY, desc, sizeof desc);
  CHECK_STR(desc, "a JWT, a personal access token (pat_...) or a virtual key (vk-...)");
  CHECK_STR(al_token_kind_name(AL_TOKEN_VK), "virtual_key");

  return check_done("test_token");
}
