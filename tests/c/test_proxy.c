/* The proxy rules (src/transport/proxy.c) with the environment given as values. */
#include "check.h"
#include "proxy.h"

static al_proxy_env no_env(void) {
  al_proxy_env e = {NULL, NULL, NULL, NULL, NULL};
  return e;
}

int main(void) {
  al_proxy_env env = no_env();
  al_proxy_plan plan;
  al_error err;

  /* the option */
  CHECK(al_proxy_check("", &err) == 0);
  CHECK(al_proxy_check("http://127.0.0.1:3128", &err) == 0);
  CHECK(al_proxy_check("socks5h://user:pw@proxy.example:1080", &err) == 0);
  CHECK(al_proxy_check("ftp://user:s3cret@proxy.example/x?k=v", &err) == -1 && err.kind == AL_ERR_CONFIG);
  CHECK_STR(err.field, "proxy");
  CHECK_CONTAINS(err.message, "got ftp://proxy.example");
  CHECK(strstr(err.message, "s3cret") == NULL && strstr(err.message, "user") == NULL);
  CHECK(strstr(err.message, "k=v") == NULL);
  CHECK(al_proxy_check("proxy.example:3128 s3cret", &err) == -1);
  CHECK(strstr(err.message, "s3cret") == NULL);
  CHECK(al_proxy_check("http://", &err) == -1);

  /* no_proxy lists */
  CHECK(al_proxy_no_proxy_matches("*", "anything.example"));
  CHECK(al_proxy_no_proxy_matches("example.org, .alephant.test", "api.alephant.test"));
  CHECK(al_proxy_no_proxy_matches("api.alephant.test", "API.Alephant.Test"));
  CHECK(al_proxy_no_proxy_matches("alephant.test", "alephant.test"));
  CHECK(!al_proxy_no_proxy_matches("alephant.test", "badalephant.test"));
  CHECK(!al_proxy_no_proxy_matches("", "api.alephant.test"));
  CHECK(!al_proxy_no_proxy_matches("10.0.0.0/8", "10.1.2.3")); /* no CIDR: refused, never leaked */

  /* loopback: never a proxy, whatever is set */
  env.http_proxy = "http://proxy:3128";
  CHECK(al_proxy_decide("http://explicit:1", 0, &env, 1, 1, "127.0.0.1", "127.0.0.1", &plan, &err) == 0);
  CHECK(plan.no_proxy_at_all == 1 && plan.proxy == NULL);
  CHECK(al_proxy_decide(NULL, 0, &env, 0, 1, "localhost", "localhost", &plan, &err) == 0 && plan.no_proxy_at_all);

  /* plain http to another host: refused through a proxy, from the option or the environment */
  CHECK(al_proxy_decide(NULL, 0, &env, 1, 0, "api.example", "api.example", &plan, &err) == -1);
  CHECK(err.kind == AL_ERR_CONFIG);
  CHECK_CONTAINS(err.message, "refusing plain http:// to api.example through the proxy http://proxy");
  CHECK_CONTAINS(err.message, "allow_http_through_proxy");
  env = no_env();
  env.ALL_PROXY = "socks5://u:s3cret@socks.example:1080";
  CHECK(al_proxy_decide(NULL, 0, &env, 1, 0, "api.example", "api.example", &plan, &err) == -1);
  CHECK_CONTAINS(err.message, "socks5://socks.example");
  CHECK(strstr(err.message, "s3cret") == NULL);
  env = no_env();
  CHECK(al_proxy_decide("http://u:p@explicit.example:3128", 0, &env, 1, 0, "api.example", "api.example", &plan,
                        &err) == -1);
  /* ... unless opted in */
  CHECK(al_proxy_decide("http://explicit.example:3128", 1, &env, 1, 0, "api.example", "api.example", &plan,
                        &err) == 0);
  CHECK(plan.proxy != NULL && strcmp(plan.proxy, "http://explicit.example:3128") == 0);
  /* no proxy at all: decided here ("" = none, libcurl does not read the environment) */
  CHECK(al_proxy_decide(NULL, 0, &env, 1, 0, "api.example", "api.example", &plan, &err) == 0);
  CHECK(plan.proxy != NULL && plan.proxy[0] == '\0' && !plan.no_proxy_at_all);
  /* the first variable set decides, "" meaning none (as libcurl reads them) */
  env.http_proxy = "";
  env.ALL_PROXY = "http://proxy:3128";
  CHECK(al_proxy_decide(NULL, 0, &env, 1, 0, "api.example", "api.example", &plan, &err) == 0 && plan.proxy[0] == 0);
  /* no_proxy, else NO_PROXY */
  env = no_env();
  env.all_proxy = "http://proxy:3128";
  env.NO_PROXY = ".example";
  CHECK(al_proxy_decide(NULL, 0, &env, 1, 0, "api.example", "api.example", &plan, &err) == 0 && plan.proxy[0] == 0);
  env.no_proxy = "other.test";
  CHECK(al_proxy_decide(NULL, 0, &env, 1, 0, "api.example", "api.example", &plan, &err) == -1);
  CHECK(al_proxy_decide("", 0, &env, 1, 0, "api.example", "api.example", &plan, &err) == 0 && plan.proxy[0] == 0);

  /* https: the option, else libcurl's environment (NULL) */
  CHECK(al_proxy_decide(NULL, 0, &env, 0, 0, "api.example", "api.example", &plan, &err) == 0);
  CHECK(plan.proxy == NULL && !plan.no_proxy_at_all);
  CHECK(al_proxy_decide("http://p:1", 0, &env, 0, 0, "api.example", "api.example", &plan, &err) == 0);
  CHECK(plan.proxy != NULL && strcmp(plan.proxy, "http://p:1") == 0);

  return check_done("test_proxy");
}
