/* al_request_plan / al_request_plan_raw: the headers a request carries, in wire order,
 * and the rest of the plan (body, idempotency, family, paging, URL). */
#include <stdarg.h>
#include <stdlib.h>

#include "check.h"
#include "request.h"

#define WS "123e4567-e89b-12d3-a456-426614174000"
#define WS2 "0b8f3a52-6c1d-4e2f-9a7b-3c4d5e6f7a8b"
#define ID "9d7c5b3a-1e2f-4a6b-8c9d-0e1f2a3b4c5d"
#define PAT "pat_wsa3f8c2_e4b7aa"
#define VK "vk-agent-a3f8c2d1e4b7"
/* {"sub":"u1","exp":1893456000} */
#define JWT "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSIsImV4cCI6MTg5MzQ1NjAwMH0.c2ln"
#define NOW 1700000000.0

typedef struct {
  al_token token;
  char auth[256];
  al_context ctx;
  al_client c;
} fixture;

static void client_for(fixture *f, const char *token, const char *workspace) {
  static const char *const base[3] = {"https://alephant.io", "https://analytics.alephant.io",
                                      "https://ai.alephant.io/v1"};
  al_error err;
  int i;
  memset(f, 0, sizeof *f);
  CHECK(al_token_parse(token, strlen(token), &f->token, &err) == 0);
  snprintf(f->auth, sizeof f->auth, "Bearer %s", token);
  al_context_init(&f->ctx);
  f->c.token = &f->token;
  f->c.authorization = f->auth;
  f->c.authorization_n = strlen(f->auth);
  f->c.workspace = workspace;
  f->c.ctx = &f->ctx;
  for (i = 0; i < 3; i++) {
    f->c.base[i] = base[i];
    f->c.base_n[i] = strlen(base[i]);
  }
}

/* values for e from name/value string pairs ending in NULL (integers as "#200") */
static void set_values(const al_endpoint *e, al_value *v, const char *const *kv) {
  unsigned i;
  for (i = 0; i < e->nparams; i++) memset(&v[i], 0, sizeof v[i]);
  for (; kv && kv[0]; kv += 2) {
    int idx = al_endpoint_param(e, kv[0], strlen(kv[0]));
    CHECK(idx >= 0);
    if (idx < 0) continue;
    if (kv[1][0] == '#') {
      v[idx].type = AL_V_INTEGER;
      v[idx].i = strtoll(kv[1] + 1, NULL, 10);
    } else if (kv[1][0] == '{') {
      v[idx].type = AL_V_TABLE;
    } else {
      v[idx].type = AL_V_STRING;
      v[idx].s = kv[1];
      v[idx].n = strlen(kv[1]);
    }
  }
}

/* The plan's headers are exactly the name/value pairs given (in this order, NULL ends). */
static int headers_are(const al_request *r, ...) {
  va_list ap;
  unsigned i = 0;
  int ok = 1;
  const char *name;
  va_start(ap, r);
  while ((name = va_arg(ap, const char *)) != NULL) {
    const char *value = va_arg(ap, const char *);
    if (i >= r->nheaders || strcmp(r->headers[i].name, name) != 0 || r->headers[i].value_n != strlen(value) ||
        memcmp(r->headers[i].value, value, r->headers[i].value_n) != 0)
      ok = 0;
    i++;
  }
  va_end(ap);
  if (i != r->nheaders) ok = 0;
  if (!ok)
    for (i = 0; i < r->nheaders; i++)
      fprintf(stderr, "  header %u: %s: %.*s\n", i, r->headers[i].name, (int)r->headers[i].value_n,
              r->headers[i].value);
  return ok;
}

static int plan(const fixture *f, const char *endpoint, const char *const *kv, char *url, size_t cap,
                al_request *r, al_error *err) {
  static al_value values[32]; /* the plan points into them */
  const al_endpoint *e = al_catalog_find(endpoint, strlen(endpoint));
  CHECK(e != NULL);
  if (e == NULL) return -2;
  set_values(e, values, kv);
  return al_request_plan(&f->c, e, values, NOW, url, cap, r, err);
}

/* a route with a header parameter (the catalog has none today; the rule must hold when one comes) */
static const al_param h_key = {"idempotency_key", "Idempotency-Key", AL_IN_HEADER, AL_T_STRING, 0, 0, NULL,
                               1, 64, NULL, 0, NULL};
static const al_param h_trace = {"trace", "X-Trace", AL_IN_HEADER, AL_T_STRING, 0, 0, NULL, 0, 0, NULL, 0, NULL};
static const al_param b_label = {"label", "label", AL_IN_BODY, AL_T_STRING, AL_P_REQUIRED, 0, NULL,
                                 1, 100, NULL, 0, NULL};
static const al_param *const header_params[] = {&h_key, &b_label, &h_trace};
static const al_endpoint header_route = {"test.create", "POST", AL_API_SAAS, "/api/v1/agents", header_params, 3,
                                         0, AL_PAGING_NONE, "a route with header parameters"};

int main(void) {
  fixture f;
  al_request r;
  al_error err;
  char url[512];

  /* 1. a SaaS route with a PAT and its workspace */
  client_for(&f, PAT, WS);
  {
    const char *kv[] = {"from", "2026-10-29", "to", "2026-11-27", "agent_id", ID, NULL};
    CHECK(plan(&f, "analytics.usage", kv, url, sizeof url, &r, &err) == 0);
    CHECK(headers_are(&r, "Accept", "application/json", "Authorization", "Bearer " PAT, "X-Workspace-Id", WS, NULL));
    CHECK(r.headers[0].kind == AL_H_ACCEPT && r.headers[1].kind == AL_H_AUTHORIZATION &&
          r.headers[2].kind == AL_H_WORKSPACE);
    CHECK(r.headers[1].value == f.auth); /* the client's string, not a copy */
    CHECK(!r.has_body && r.idempotent && r.api == AL_API_SAAS && r.paging == AL_PAGING_NONE);
    CHECK_STR(r.method, "GET");
    CHECK_STR(r.family, "workspace");
    CHECK(r.url_n == strlen(url));
    CHECK_STR(url, "https://alephant.io/api/v1/analytics/usage?dateFrom=2026-10-29&dateTo=2026-11-27&agentId=" ID);
  }
  /* the same plan with the endpoint's policy known (al_request_plan_policy), and a
   * policy given is the one used: a public one sends no token */
  {
    static al_value values[32];
    const char *kv[] = {"from", "2026-10-29", "to", "2026-11-27", "agent_id", ID, NULL};
    const al_endpoint *e = al_catalog_find("analytics.usage", 15);
    al_policy known, public_policy;
    al_request r2;
    char url2[512];
    al_policy_for(e->api, e->path, &known);
    set_values(e, values, kv);
    CHECK(al_request_plan_policy(&f.c, e, &known, values, NOW, url2, sizeof url2, &r2, &err) == 0);
    CHECK(headers_are(&r2, "Accept", "application/json", "Authorization", "Bearer " PAT, "X-Workspace-Id", WS, NULL));
    CHECK_STR(r2.family, "workspace");
    CHECK_STR(url2, url);
    CHECK(al_request_plan_policy(&f.c, e, NULL, values, NOW, url2, sizeof url2, &r2, &err) == 0);
    CHECK(headers_are(&r2, "Accept", "application/json", "Authorization", "Bearer " PAT, "X-Workspace-Id", WS, NULL));
    public_policy.family = "public";
    public_policy.kinds = 0;
    public_policy.workspace = AL_WS_NEVER;
    CHECK(al_request_plan_policy(&f.c, e, &public_policy, values, NOW, url2, sizeof url2, &r2, &err) == 0);
    CHECK(headers_are(&r2, "Accept", "application/json", NULL));
    CHECK_STR(r2.family, "public");
  }
  /* a POST with body parameters: Content-Type last, not idempotent */
  {
    const char *kv[] = {"label", "ci", "master_key_id", ID, NULL};
    CHECK(plan(&f, "virtual_keys.create", kv, url, sizeof url, &r, &err) == 0);
    CHECK(headers_are(&r, "Accept", "application/json", "Authorization", "Bearer " PAT, "X-Workspace-Id", WS,
                      "Content-Type", "application/json", NULL));
    CHECK(r.has_body && !r.idempotent && r.headers[3].kind == AL_H_CONTENT_TYPE);
    CHECK_STR(url, "https://alephant.io/api/v1/virtual-keys");
  }
  /* a route without a workspace (the token's own workspaces) and paging */
  {
    const char *kv[] = {"page", "#2", NULL};
    client_for(&f, JWT, WS);
    CHECK(plan(&f, "workspaces.list", NULL, url, sizeof url, &r, &err) == 0);
    CHECK(headers_are(&r, "Accept", "application/json", "Authorization", "Bearer " JWT, NULL));
    CHECK(plan(&f, "pats.list", kv, url, sizeof url, &r, &err) == 0);
    CHECK(r.paging == AL_PAGING_PAGE);
    CHECK_STR(url, "https://alephant.io/api/v1/pats?page=2");
    CHECK(plan(&f, "cockpit.health", NULL, url, sizeof url, &r, &err) == 0); /* no token at all */
    CHECK(headers_are(&r, "Accept", "application/json", NULL));
    CHECK_STR(r.family, "public");
  }

  /* 2. an Analytics API route (the collector), with paging by offset */
  client_for(&f, PAT, WS);
  {
    const char *kv[] = {"from", "2026-10-29", "to", "2026-11-27", "limit", "#200", "offset", "#400", NULL};
    CHECK(plan(&f, "collector.logs", kv, url, sizeof url, &r, &err) == 0);
    CHECK(headers_are(&r, "Accept", "application/json", "Authorization", "Bearer " PAT, "X-Workspace-Id", WS, NULL));
    CHECK(r.api == AL_API_ANALYTICS && r.paging == AL_PAGING_OFFSET && !r.has_body);
    CHECK_STR(r.family, "analytics");
    CHECK_STR(url, "https://analytics.alephant.io/v1/analytics/saas/logs?dateFrom=2026-10-29&dateTo=2026-11-27"
                   "&limit=200&offset=400");
  }

  /* 3. a gateway route with a virtual key: no X-Workspace-Id, even with one known */
  client_for(&f, VK, WS);
  CHECK(plan(&f, "gateway.models", NULL, url, sizeof url, &r, &err) == 0);
  CHECK(headers_are(&r, "Accept", "application/json", "Authorization", "Bearer " VK, NULL));
  CHECK(r.api == AL_API_GATEWAY && !r.has_body && r.idempotent);
  CHECK_STR(r.family, "gateway");
  CHECK_STR(url, "https://ai.alephant.io/v1/models");
  /* and the gateway refuses other tokens, naming the route */
  client_for(&f, PAT, WS);
  CHECK(plan(&f, "gateway.models", NULL, url, sizeof url, &r, &err) == -1 && err.kind == AL_ERR_AUTH);
  CHECK_CONTAINS(err.message, "gateway.models accepts only a virtual key");

  /* 4. an open-body route: Content-Type whatever the catalog's parameters */
  client_for(&f, VK, NULL);
  {
    const char *kv[] = {"model", "gpt-4o-mini", "messages", "{", NULL};
    CHECK(plan(&f, "gateway.chat", kv, url, sizeof url, &r, &err) == 0);
    CHECK(headers_are(&r, "Accept", "application/json", "Authorization", "Bearer " VK, "Content-Type",
                      "application/json", NULL));
    CHECK(r.has_body && !r.idempotent);
    CHECK_STR(r.method, "POST");
    CHECK_STR(url, "https://ai.alephant.io/v1/chat/completions");
    /* validation runs first: the required messages are missing */
    kv[2] = NULL;
    CHECK(plan(&f, "gateway.chat", kv, url, sizeof url, &r, &err) == -1 && err.kind == AL_ERR_VALIDATION);
    CHECK_STR(err.field, "messages");
    /* a route with no catalog parameter at all: the body is open, so it has one */
    CHECK(plan(&f, "gateway.agent_events", NULL, url, sizeof url, &r, &err) == 0);
    CHECK(headers_are(&r, "Accept", "application/json", "Authorization", "Bearer " VK, "Content-Type",
                      "application/json", NULL));
    CHECK(r.has_body);
  }

  /* 5. a route with header parameters: after X-Workspace-Id, in catalog order, only those given */
  client_for(&f, PAT, WS);
  {
    al_value v[3];
    const char *kv[] = {"trace", "t-1", "label", "ci", "idempotency_key", "k-42", NULL};
    set_values(&header_route, v, kv);
    CHECK(al_request_plan(&f.c, &header_route, v, NOW, url, sizeof url, &r, &err) == 0);
    CHECK(headers_are(&r, "Accept", "application/json", "Authorization", "Bearer " PAT, "X-Workspace-Id", WS,
                      "Idempotency-Key", "k-42", "X-Trace", "t-1", "Content-Type", "application/json", NULL));
    CHECK(r.headers[3].kind == AL_H_PARAM && r.headers[3].param == 0 && r.headers[4].param == 2);
    CHECK(r.headers[3].value == kv[5]); /* the caller's value */
    CHECK_STR(url, "https://alephant.io/api/v1/agents"); /* never in the URL */
    kv[0] = "label", kv[1] = "ci", kv[2] = NULL;
    set_values(&header_route, v, kv);
    CHECK(al_request_plan(&f.c, &header_route, v, NOW, url, sizeof url, &r, &err) == 0);
    CHECK(headers_are(&r, "Accept", "application/json", "Authorization", "Bearer " PAT, "X-Workspace-Id", WS,
                      "Content-Type", "application/json", NULL));
    kv[0] = "idempotency_key", kv[1] = "a\r\nX-Evil: 1", kv[2] = "label", kv[3] = "ci", kv[4] = NULL;
    set_values(&header_route, v, kv);
    CHECK(al_request_plan(&f.c, &header_route, v, NOW, url, sizeof url, &r, &err) == -1);
    CHECK(err.kind == AL_ERR_VALIDATION);
    CHECK_STR(err.field, "idempotency_key");
  }

  /* 6. a virtual key without a workspace: the scope first, then the resolved one */
  client_for(&f, VK, NULL);
  {
    const char *kv[] = {"start", "2026-11-27T00:00:00Z", "end", "2026-11-27T12:30:00Z", NULL};
    CHECK(plan(&f, "collector.request_logs", kv, url, sizeof url, &r, &err) == 1);
    CHECK(plan(&f, "cockpit.scope", NULL, url, sizeof url, &r, &err) == 0); /* the lookup needs none */
    CHECK(headers_are(&r, "Accept", "application/json", "Authorization", "Bearer " VK, NULL));
    CHECK_STR(r.family, "cockpit");
    CHECK(al_context_accept(&f.ctx, WS2, strlen(WS2), NULL, 0, NULL, 0, NULL, 0, NULL, 0, NOW, 300, &err) == 0);
    CHECK(plan(&f, "collector.request_logs", kv, url, sizeof url, &r, &err) == 0);
    CHECK(headers_are(&r, "Accept", "application/json", "Authorization", "Bearer " VK, "X-Workspace-Id", WS2, NULL));
    CHECK(r.headers[2].value == f.ctx.workspace_id);
    /* once the context is older than its TTL, the scope again */
    CHECK(al_request_plan(&f.c, r.endpoint, (al_value *)r.values, NOW + 301, url, sizeof url, &r, &err) == 1);
    /* a configured workspace wins over the context and needs no lookup */
    f.c.workspace = WS;
    CHECK(plan(&f, "collector.request_logs", kv, url, sizeof url, &r, &err) == 0);
    CHECK(headers_are(&r, "Accept", "application/json", "Authorization", "Bearer " VK, "X-Workspace-Id", WS, NULL));
    /* a PAT without a workspace is a configuration error, not a lookup */
    client_for(&f, PAT, "");
    CHECK(plan(&f, "collector.request_logs", kv, url, sizeof url, &r, &err) == -1 && err.kind == AL_ERR_CONFIG);
  }

  /* 7. raw routes: the family of the path, the caller's body */
  client_for(&f, PAT, WS);
  {
    al_kv q[2] = {{"page", "2", 4, 1}, {"q", "a b", 1, 3}};
    CHECK(al_request_plan_raw(&f.c, "GET", 3, "/api/v1/agents", 14, -1, q, 2, 0, NOW, url, sizeof url, &r, &err) ==
          0);
    CHECK(headers_are(&r, "Accept", "application/json", "Authorization", "Bearer " PAT, "X-Workspace-Id", WS, NULL));
    CHECK(r.api == AL_API_SAAS && r.idempotent && !r.has_body && r.paging == AL_PAGING_NONE && r.endpoint == NULL);
    CHECK_STR(r.family, "workspace");
    CHECK_STR(url, "https://alephant.io/api/v1/agents?page=2&q=a%20b");
    CHECK(al_request_plan_raw(&f.c, "POST", 4, "/api/v1/agents", 14, -1, NULL, 0, 1, NOW, url, sizeof url, &r,
                              &err) == 0);
    CHECK(headers_are(&r, "Accept", "application/json", "Authorization", "Bearer " PAT, "X-Workspace-Id", WS,
                      "Content-Type", "application/json", NULL));
    CHECK(r.has_body && !r.idempotent);
    /* the API given overrides the path's */
    CHECK(al_request_plan_raw(&f.c, "GET", 3, "/v1/analytics/saas/usage", 24, AL_API_ANALYTICS, NULL, 0, 0, NOW,
                              url, sizeof url, &r, &err) == 0);
    CHECK(r.api == AL_API_ANALYTICS);
    CHECK_STR(url, "https://analytics.alephant.io/v1/analytics/saas/usage");
    /* refusals name the route */
    CHECK(al_request_plan_raw(&f.c, "GET", 3, "/chat/completions", 17, -1, NULL, 0, 0, NOW, url, sizeof url, &r,
                              &err) == -1);
    CHECK(err.kind == AL_ERR_AUTH);
    CHECK_CONTAINS(err.message, "GET /chat/completions accepts only a virtual key");
    CHECK(al_request_plan_raw(&f.c, "get", 3, "/api/v1/agents", 14, -1, NULL, 0, 0, NOW, url, sizeof url, &r,
                              &err) == -1);
    CHECK_STR(err.field, "method");
    CHECK(al_request_plan_raw(&f.c, "GET", 3, "/api/../x", 9, -1, NULL, 0, 0, NOW, url, sizeof url, &r, &err) ==
          -1);
    client_for(&f, VK, NULL);
    CHECK(al_request_plan_raw(&f.c, "GET", 3, "/v1/analytics/saas/usage", 24, -1, NULL, 0, 0, NOW, url, sizeof url,
                              &r, &err) == 1);
  }

  /* 8. a URL longer than the buffer: measured, then built again at its size */
  client_for(&f, PAT, WS);
  {
    const char *kv[] = {"from", "2026-10-29", "to", "2026-11-27", "agent_id", ID, NULL};
    char small[16], big[256];
    CHECK(plan(&f, "analytics.usage", kv, small, sizeof small, &r, &err) == 0);
    CHECK(r.url_n >= sizeof small && r.url_n < sizeof big);
    CHECK(al_request_url(&r, big, r.url_n + 1) == r.url_n);
    CHECK_STR(big, "https://alephant.io/api/v1/analytics/usage?dateFrom=2026-10-29&dateTo=2026-11-27&agentId=" ID);
    CHECK(al_request_plan_raw(&f.c, "GET", 3, "/api/v1/agents", 14, -1, NULL, 0, 0, NOW, NULL, 0, &r, &err) == 0);
    CHECK(al_request_url(&r, big, sizeof big) == r.url_n);
    CHECK_STR(big, "https://alephant.io/api/v1/agents");
  }

  /* 9. an expired JWT is refused before anything else */
  client_for(&f, JWT, WS);
  CHECK(al_request_plan_raw(&f.c, "GET", 3, "/api/v1/agents", 14, -1, NULL, 0, 0, 1893456000.0 + 61, url,
                            sizeof url, &r, &err) == -1);
  CHECK(err.kind == AL_ERR_AUTH);

  return check_done("test_request");
}
