/* The URL policy (core/url.c) and the header-name rule (core/text.c). */
#include <string.h>

#include "check.h"
#include "text.h"
#include "token.h"
#include "url.h"

static void loopback(void) {
  CHECK(al_host_is_loopback("localhost"));
  CHECK(al_host_is_loopback("127.0.0.1"));
  CHECK(al_host_is_loopback("127.255.3.4"));
  CHECK(al_host_is_loopback("[::1]"));
  CHECK(al_host_is_loopback("::1"));
  CHECK(!al_host_is_loopback("127.example.com"));
  CHECK(!al_host_is_loopback("127.0.0.1.nip.io"));
  CHECK(!al_host_is_loopback("localhost.example.com"));
  CHECK(!al_host_is_loopback("128.0.0.1"));
  CHECK(!al_host_is_loopback(""));
  CHECK(!al_host_is_loopback(NULL));
}

static void policy(void) {
  al_error err;
  CHECK(al_url_policy("https", "alephant.io", 0, "base_url", &err) == 0);
  CHECK(al_url_policy("http", "localhost", 0, "base_url", &err) == 0);
  CHECK(al_url_policy("http", "127.0.0.1", 0, "url", &err) == 0);
  CHECK(al_url_policy("http", "gateway.example", 1, "url", &err) == 0);

  CHECK(al_url_policy("http", "gateway.example", 0, "gateway_url", &err) == -1);
  CHECK(err.kind == AL_ERR_CONFIG);
  CHECK_STR(err.field, "gateway_url");
  CHECK_STR(err.message, "gateway_url uses plain http:// to gateway.example: the token would travel in clear; use "
                         "https:// or set allow_insecure_http = true");

  CHECK(al_url_policy("ftp", "127.0.0.1", 1, "base_url", &err) == -1);
  CHECK_STR(err.message, "base_url must use http:// or https://, got ftp://127.0.0.1");
  CHECK(al_url_policy("file", NULL, 0, "url", &err) == -1);
  CHECK_STR(err.message, "url must use http:// or https://, got file://");
  CHECK(al_url_policy(NULL, NULL, 0, "url", &err) == -1);
  CHECK_STR(err.message, "url must be an absolute http:// or https:// URL");
  CHECK(al_url_policy("https", "", 0, "url", &err) == -1);
  CHECK_CONTAINS(err.message, "with a host");

  /* a token that became the host or the scheme is shown redacted */
  CHECK(al_url_policy("ftp", "vk-canary-0123456789abcdef0123", 0, "base_url", &err) == -1);
  CHECK(strstr(err.message, "456789") == NULL);
  CHECK_CONTAINS(err.message, "ftp://vk-ca");
  CHECK(al_url_policy("http", "pat_ws0117be_2e8757a2aaaa", 0, "base_url", &err) == -1);
  CHECK(strstr(err.message, "2e8757") == NULL);
  CHECK(al_url_policy("vk-canary-0123456789abcdef0123", "x", 0, "base_url", &err) == -1);
  CHECK(strstr(err.message, "456789") == NULL);
}

static void show(void) {
  char out[72], tiny[5];
  char longhost[200];
  al_url_show("example.com", 11, out, sizeof out);
  CHECK_STR(out, "example.com");
  al_url_show("a\r\nb", 4, out, sizeof out);
  CHECK_STR(out, "a??b");
  memset(longhost, 'h', sizeof longhost);
  al_url_show(longhost, sizeof longhost, out, sizeof out);
  CHECK(strlen(out) == 64);
  CHECK(strcmp(out + 61, "...") == 0);
  al_url_show("example.com", 11, tiny, sizeof tiny);
  CHECK_STR(tiny, "e...");
  al_url_show("eyJhbGciOiJIUzI1NiJ9.e30.sig", 28, out, sizeof out);
  CHECK(strstr(out, "hbGciO") == NULL);
  al_url_show("vk-\r\nabcdef\x01\x7f\n\t", 14, out, sizeof out); /* a finding of fuzz_request */
  CHECK(strchr(out, '\r') == NULL && strchr(out, '\n') == NULL && strchr(out, 0x7f) == NULL);
  CHECK(strchr(out, '\x01') == NULL && strchr(out, '\t') == NULL);
  CHECK(al_looks_like_token("Bearer x", 8));
  CHECK(!al_looks_like_token("alephant.io", 11));
}

static void header_names(void) {
  al_error err;
  CHECK(al_is_http_token("X-Request-Id", 12));
  CHECK(al_is_http_token("!#$%&'*+-.^_`|~09azAZ", 21));
  CHECK(!al_is_http_token("", 0));
  CHECK(!al_is_http_token("X Note", 6));
  CHECK(!al_is_http_token("X-Note:", 7));
  CHECK(!al_is_http_token("X-N\xC3\xB6te", 7));
  CHECK(!al_is_http_token("X\0Y", 3));
  CHECK(!al_is_http_token("X\r\nY", 4));
  CHECK(al_check_header_name("X-A", 3, "headers", &err) == 0);
  CHECK(al_check_header_name("secret value", 12, "headers", &err) == -1);
  CHECK(err.kind == AL_ERR_VALIDATION);
  CHECK_STR(err.field, "headers");
  CHECK_STR(err.message,
            "headers: a header name must be a non-empty HTTP token (letters, digits and !#$%&'*+-.^_`|~)");
}

int main(void) {
  loopback();
  policy();
  show();
  header_names();
  return check_done("test_url_policy");
}
