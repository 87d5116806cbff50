#include <string.h>

#include "auth.h"
#include "check.h"
#include "raw.h"

static int path_ok(const char *p) { return al_raw_check_path(p, strlen(p), NULL) == 0; }

int main(void) {
  al_error err;
  al_policy pol;
  char url[256];
  al_kv q[2] = {{"dateFrom", "2026-11-01", 8, 10}, {"dateTo", "2026-11-02", 6, 10}};
  al_kv one[1] = {{"a b", "x&y=z/", 3, 6}};

  CHECK(al_raw_check_method("GET", 3, &err) == 0);
  CHECK(al_raw_check_method("PATCH", 5, &err) == 0);
  CHECK(al_raw_check_method("get", 3, &err) == -1 && err.kind == AL_ERR_VALIDATION);
  CHECK(al_raw_check_method("TRACE", 5, &err) == -1);

  CHECK(al_raw_api_for_path("/api/v1/agents", 14) == AL_API_SAAS);
  CHECK(al_raw_api_for_path("/v1/analytics/saas/usage", 24) == AL_API_ANALYTICS);
  CHECK(al_raw_api_for_path("/v1/analyticsX", 14) == AL_API_GATEWAY);
  CHECK(al_raw_api_for_path("/chat/completions", 17) == AL_API_GATEWAY);
  CHECK(al_raw_api_for_path("/apix", 5) == AL_API_GATEWAY);

  CHECK(path_ok("/api/v1/agents"));
  CHECK(path_ok("/api/v1/agents/agt_1:x@y"));
  CHECK(path_ok("/api/v1/a%20b"));
  CHECK(path_ok("/"));
  CHECK(path_ok("/a/.../b")); /* three dots is a name */
  CHECK(!path_ok(""));
  CHECK(!path_ok("api/v1"));
  CHECK(!path_ok("/a/../b"));
  CHECK(!path_ok("/a/.."));
  CHECK(!path_ok("/a/./b"));
  CHECK(!path_ok("/a/%2e%2E/b"));
  CHECK(!path_ok("/a/.%2e"));
  CHECK(!path_ok("/a//b"));
  CHECK(!path_ok("/a/"));
  CHECK(!path_ok("/a%2fb"));
  CHECK(!path_ok("/a%5Cb"));
  CHECK(!path_ok("/a%0d%0a"));
  CHECK(!path_ok("/a%zz"));
  CHECK(!path_ok("/a%2"));
  CHECK(!path_ok("/a?b=1"));
  CHECK(!path_ok("/a#b"));
  CHECK(!path_ok("/a b"));
  CHECK(!path_ok("/a\\b"));
  CHECK(!path_ok("/a\r\nb"));
  CHECK(!path_ok("/\xc3\xa9"));
  CHECK(al_raw_check_path("/a\0b", 4, &err) == -1 && strcmp(err.field, "path") == 0);

  CHECK(al_raw_gateway_root("/health", 7));
  CHECK(al_raw_gateway_root("/healthz/ready", 14));
  CHECK(al_raw_gateway_root("/x402/agents/x", 14));
  CHECK(!al_raw_gateway_root("/healthy", 8));
  al_policy_for(AL_API_GATEWAY, "/health", &pol);
  CHECK(pol.kinds == 0 && strcmp(pol.family, "public") == 0);
  al_policy_for(AL_API_GATEWAY, "/x402/api/pay", &pol);
  CHECK(pol.kinds == 0);
  al_policy_for(AL_API_GATEWAY, "/chat/completions", &pol);
  CHECK(pol.kinds == AL_TOKEN_VK);

  /* the date rule: only on the SaaS workspace analytics */
  CHECK(al_raw_check_query(AL_API_SAAS, "/api/v1/analytics/costs", 23, q, 2, &err) == 0);
  CHECK(al_raw_check_query(AL_API_SAAS, "/api/v1/analytics/costs", 23, q, 1, &err) == -1);
  q[0].v = "2026-11-03";
  CHECK(al_raw_check_query(AL_API_SAAS, "/api/v1/analytics/costs", 23, q, 2, &err) == -1);
  q[0].v = "2026-02-30";
  CHECK(al_raw_check_query(AL_API_SAAS, "/api/v1/analytics/costs", 23, q, 2, &err) == -1);
  CHECK(strcmp(err.field, "dateFrom") == 0);
  CHECK(al_raw_check_query(AL_API_SAAS, "/api/v1/agents", 14, q, 2, &err) == 0);
  CHECK(al_raw_check_query(AL_API_ANALYTICS, "/v1/analytics/saas/usage", 24, q, 1, &err) == 0);

  /* URLs */
  CHECK(al_build_raw_url(url, sizeof url, AL_API_SAAS, "http://h/", 9, "/api/v1/x", 9, one, 1) ==
        strlen("http://h/api/v1/x?a%20b=x%26y%3Dz%2F"));
  CHECK_STR(url, "http://h/api/v1/x?a%20b=x%26y%3Dz%2F");
  al_build_raw_url(url, sizeof url, AL_API_GATEWAY, "http://g/v1", 11, "/health", 7, NULL, 0);
  CHECK_STR(url, "http://g/health");
  al_build_raw_url(url, sizeof url, AL_API_GATEWAY, "http://g/v1/", 12, "/models", 7, NULL, 0);
  CHECK_STR(url, "http://g/v1/models");
  /* measuring, and a short buffer is cut and terminated */
  CHECK(al_build_raw_url(NULL, 0, AL_API_SAAS, "http://h", 8, "/abc", 4, NULL, 0) == 12);
  al_build_raw_url(url, 5, AL_API_SAAS, "http://h", 8, "/abc", 4, NULL, 0);
  CHECK_STR(url, "http");
  return check_done("test_raw");
}
