/* The C half of prepare without Lua: what state:prepare does in src/core for one call
 * (find the endpoint, map parameter names, then al_request_plan: al_endpoint_validate,
 * token freshness, the auth plan, the headers, al_build_url into a stack buffer), in a loop. The difference to
 * bench/prepare.lua is the cost of the binding (reading the params table, building
 * the request table). bench/run.sh builds it with gcc -O2 against the sources in src/core.
 *
 *   prepare_core [SECONDS]   -> one line per case: "<case> <endpoint> ops=<calls per second>"
 *   prepare_core count CASE N -> exactly N calls of one case, untimed (for callgrind)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog.h"
#include "request.h"
#include "token.h"

#define MAX_PARAMS 32

typedef struct {
  const char *name, *value; /* value: a string, or an integer when is_int */
  int is_int;
} arg;

typedef struct {
  const char *label, *endpoint;
  arg args[12];
} bench_case;

#define ID "9d7c5b3a-1e2f-4a6b-8c9d-0e1f2a3b4c5d"

static const bench_case cases[] = {
    {"typical", "analytics.usage", {{"from", "2026-10-29", 0}, {"to", "2026-11-27", 0}, {"agent_id", ID, 0}}},
    {"logs_all",
     "collector.logs",
     {{"from", "2026-10-29", 0},
      {"to", "2026-11-27", 0},
      {"agent_id", ID, 0},
      {"search", ID, 0},
      {"master_key_id", ID, 0},
      {"department_id", ID, 0},
      {"limit", "200", 1},
      {"offset", "400", 1}}},
    {"request_logs_all",
     "collector.request_logs",
     {{"start", "2026-11-27T00:00:00Z", 0},
      {"end", "2026-11-27T12:30:00+01:00", 0},
      {"limit", "200", 1},
      {"master_key_id", ID, 0},
      {"department_id", ID, 0},
      {"entity_type", "agent", 0},
      {"entity_id", ID, 0},
      {"model", "gpt-4o-mini", 0},
      {"search", ID, 0},
      {"status", "200", 0}}},
};

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One prepare; returns the URL length, or 0 on any error (which stops the benchmark). */
static size_t prepare_once(const bench_case *c, const al_client *client, long long now, char *url, size_t cap) {
  al_value values[MAX_PARAMS];
  al_error err;
  al_request r;
  int rc;
  const al_endpoint *e = al_catalog_find(c->endpoint, strlen(c->endpoint));
  const arg *a;
  unsigned i;
  if (e == NULL) return 0;
  for (i = 0; i < e->nparams; i++) values[i].type = AL_V_ABSENT;
  for (a = c->args; a->name; a++) {
    int idx = al_endpoint_param(e, a->name, strlen(a->name));
    if (idx < 0) return 0;
    memset(&values[idx], 0, sizeof values[idx]);
    if (a->is_int) {
      values[idx].type = AL_V_INTEGER;
      values[idx].i = strtoll(a->value, NULL, 10);
    } else {
      values[idx].type = AL_V_STRING;
      values[idx].s = a->value;
      values[idx].n = strlen(a->value);
    }
  }
  rc = al_request_plan(client, e, values, (double)now, url, cap, &r, &err);
  if (rc) {
    fprintf(stderr, "prepare_core: %s: %s\n", c->endpoint, rc > 0 ? "needs a scope" : err.message);
    return 0;
  }
  return r.url_n;
}

int main(int argc, char **argv) {
  static const char token[] = "pat_bench0000_00000000000000000000";
  static const char auth[] = "Bearer pat_bench0000_00000000000000000000";
  static const char *const base[3] = {"https://alephant.io", "https://analytics.alephant.io",
                                      "https://ai.alephant.io/v1"};
  double seconds = argc > 1 ? atof(argv[1]) : 0.5;
  long long now = (long long)time(NULL);
  al_token tok;
  al_error err;
  al_client client;
  size_t k;
  if (seconds <= 0) seconds = 0.5;
  if (al_token_parse(token, sizeof token - 1, &tok, &err)) {
    fprintf(stderr, "prepare_core: %s\n", err.message);
    return 1;
  }
  memset(&client, 0, sizeof client); /* as bench/prepare.lua's state */
  client.token = &tok;
  client.authorization = auth;
  client.authorization_n = sizeof auth - 1;
  client.workspace = "123e4567-e89b-12d3-a456-426614174000";
  for (k = 0; k < 3; k++) {
    client.base[k] = base[k];
    client.base_n[k] = strlen(base[k]);
  }
  if (argc == 4 && strcmp(argv[1], "count") == 0) {
    long long n = strtoll(argv[3], NULL, 10), j;
    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
      char url[1024];
      if (strcmp(cases[k].label, argv[2]) != 0) continue;
      for (j = 0; j < n; j++)
        if (prepare_once(&cases[k], &client, now, url, sizeof url) == 0) return 1;
      return 0;
    }
    fprintf(stderr, "prepare_core: unknown case %s\n", argv[2]);
    return 2;
  }
  for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    char url[1024];
    size_t sink = 0;
    long long calls = 0, n = 1000, j;
    double t0;
    if (prepare_once(&cases[k], &client, now, url, sizeof url) == 0) return 1;
    for (;;) { /* calibrate to about a tenth of the stretch */
      t0 = cpu_seconds();
      for (j = 0; j < n; j++) sink += prepare_once(&cases[k], &client, now, url, sizeof url);
      if (cpu_seconds() - t0 >= seconds / 10) break;
      n *= 2;
    }
    t0 = cpu_seconds();
    do {
      for (j = 0; j < n; j++) sink += prepare_once(&cases[k], &client, now, url, sizeof url);
      calls += n;
    } while (cpu_seconds() - t0 < seconds);
    /* sink keeps the calls from being optimised away */
    printf("%s %s ops=%.0f%s\n", cases[k].label, cases[k].endpoint, (double)calls / (cpu_seconds() - t0),
           sink == 0 ? " (no URL)" : "");
  }
  return 0;
}
