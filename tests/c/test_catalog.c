#include <stdint.h>

#include "catalog.h"
#include "check.h"
#include "context.h"
#include "enums.h"
#include "url.h"

/* Every entry is well formed: placeholders match path parameters, enums and
 * companions exist, and no entry has more parameters than the binding can hold. */
static void check_integrity(void) {
  size_t i;
  for (i = 0; i < al_catalog_count(); i++) {
    const al_endpoint *e = al_catalog_at(i);
    unsigned k, placeholders = 0, path_params = 0;
    const char *p;
    CHECK(e->nparams <= 32);
    CHECK(e->path[0] == '/');
    CHECK(al_catalog_find(e->name, strlen(e->name)) == e);
    for (p = e->path; (p = strchr(p, '{')) != NULL; p++) {
      const char *close = strchr(p, '}');
      int found = 0;
      placeholders++;
      for (k = 0; k < e->nparams; k++)
        found |= e->params[k]->in == AL_IN_PATH && strlen(e->params[k]->wire) == (size_t)(close - p - 1) &&
                 memcmp(e->params[k]->wire, p + 1, (size_t)(close - p - 1)) == 0;
      CHECK(found);
    }
    for (k = 0; k < e->nparams; k++) {
      const al_param *prm = e->params[k];
      path_params += prm->in == AL_IN_PATH;
      if (prm->in == AL_IN_PATH) CHECK(prm->flags & AL_P_REQUIRED);
      if (prm->enum_name) CHECK(al_enum_find(prm->enum_name) != NULL);
      if (prm->requires) CHECK(al_endpoint_param(e, prm->requires, strlen(prm->requires)) >= 0);
      CHECK(al_endpoint_param(e, prm->name, strlen(prm->name)) == (int)k); /* names are unique */
    }
    CHECK(placeholders == path_params);
  }
  CHECK(al_catalog_count() >= 59);
  CHECK(al_catalog_find("nope", 4) == NULL);
}

static void check_urls(void) {
  char out[256];
  al_value v[5];
  const al_endpoint *e = al_catalog_find("analytics.usage", 15);
  size_t need;
  memset(v, 0, sizeof v);
  CHECK(al_percent_encode("a/b?c#d %", 9, out, sizeof out) == 19);
  out[19] = 0;
  CHECK_STR(out, "a%2Fb%3Fc%23d%20%25");
  CHECK(al_percent_encode("AZaz09-._~", 10, out, sizeof out) == 10);
  v[0].type = AL_V_STRING; v[0].s = "2026-11-01"; v[0].n = 10;
  v[1].type = AL_V_STRING; v[1].s = "2026-11-27"; v[1].n = 10;
  need = al_build_url(NULL, 0, "https://x.test///", 17, e, v);
  CHECK(need == strlen("https://x.test/api/v1/analytics/usage?dateFrom=2026-11-01&dateTo=2026-11-27"));
  CHECK(al_build_url(out, sizeof out, "https://x.test///", 17, e, v) == need);
  CHECK_STR(out, "https://x.test/api/v1/analytics/usage?dateFrom=2026-11-01&dateTo=2026-11-27");
  /* a short buffer is truncated and NUL-terminated, never overrun */
  CHECK(al_build_url(out, 10, "https://x.test", 14, e, v) == need);
  CHECK(strlen(out) == 9);
  { /* every size: the first cap - 1 bytes of the URL, whatever the pieces' lengths (the
     * copies of 1..3, 4..7, 8..16 and longer), and nothing written past cap */
    const char *full = "https://x.test/api/v1/analytics/usage?dateFrom=2026-11-01&dateTo=2026-11-27";
    size_t cap, bad = 0;
    for (cap = 1; cap <= need + 2; cap++) {
      memset(out, '#', sizeof out);
      if (al_build_url(out, cap, "https://x.test", 14, e, v) != need) bad++;
      if (strlen(out) != (cap - 1 < need ? cap - 1 : need) || strncmp(out, full, cap - 1) != 0) bad++;
      if (out[cap] != '#') bad++;
    }
    CHECK(bad == 0);
  }

  e = al_catalog_find("analytics.usage_history", 23);
  memset(v, 0, sizeof v);
  v[0].type = AL_V_INTEGER; v[0].i = -12; /* formatting only: validation refuses it */
  al_build_url(out, sizeof out, "h:", 2, e, v);
  CHECK_STR(out, "h:/api/v1/analytics/usage-history?months=-12");
}

static void check_validate(void) {
  al_error err;
  al_value v[3];
  const al_endpoint *e = al_catalog_find("analytics.usage_history", 23);
  memset(v, 0, sizeof v);
  v[0].type = AL_V_NUMBER; v[0].d = 12.0; /* LuaJIT numbers become integers when integral */
  CHECK(al_endpoint_validate(e, v, &err) == 0 && v[0].type == AL_V_INTEGER && v[0].i == 12);
  v[0].type = AL_V_NUMBER; v[0].d = 12.5;
  CHECK(al_endpoint_validate(e, v, &err) == -1);
  CHECK(al_unknown_param(e, "dateFrom", 8, &err) == -1);
  CHECK_CONTAINS(err.message, "it takes months");
  e = al_catalog_find("analytics.usage", 15);
  CHECK(al_unknown_param(e, "memberId", 8, &err) == -1);
  CHECK_CONTAINS(err.message, "use 'member_id'");
  CHECK(al_unknown_endpoint("cockpit.scop", 12, &err) == -1);
  CHECK_CONTAINS(err.message, "did you mean 'cockpit.scope'");
}

/* Windows: each end is parsed once (check_string keeps its instant in v.t) and the order
 * rule runs on the instants; exclusive groups name the endpoint. */
static void check_windows(void) {
  al_error err;
  al_value v[32];
  const al_endpoint *e = al_catalog_find("analytics.usage", 15);
  int from = al_endpoint_param(e, "from", 4), to = al_endpoint_param(e, "to", 2);
  int agent = al_endpoint_param(e, "agent_id", 8), member = al_endpoint_param(e, "member_id", 9);
  CHECK(from >= 0 && to >= 0 && agent >= 0 && member >= 0 && e->nparams <= 32);
  memset(v, 0, sizeof v);
  v[from].type = v[to].type = AL_V_STRING;
  v[from].s = "2026-11-01", v[from].n = 10;
  v[to].s = "2026-11-02", v[to].n = 10;
  CHECK(al_endpoint_validate(e, v, &err) == 0);
  CHECK(v[from].t == 1793491200000LL && v[to].t == 1793491200000LL + 86400000LL);
  v[to].s = "2026-10-31";
  CHECK(al_endpoint_validate(e, v, &err) == -1);
  CHECK_STR(err.field, "from");
  CHECK_STR(err.message, "from (2026-11-01) must not be after to (2026-10-31)");
  v[to].type = AL_V_ABSENT;
  CHECK(al_endpoint_validate(e, v, &err) == -1);
  CHECK_STR(err.field, "to");
  CHECK_CONTAINS(err.message, "both or neither");
  v[to].type = AL_V_STRING;
  v[to].s = "2026-11-01";
  v[agent].type = v[member].type = AL_V_STRING;
  v[agent].s = v[member].s = "123e4567-e89b-12d3-a456-426614174000";
  v[agent].n = v[member].n = 36;
  CHECK(al_endpoint_validate(e, v, &err) == -1);
  CHECK_STR(err.field, "member_id");
  CHECK_CONTAINS(err.message, "agent_id and member_id cannot be combined: analytics.usage takes at most one of");

  e = al_catalog_find("collector.logs", 14);
  CHECK(e != NULL && al_endpoint_param(e, "start", 5) >= 0);
  if (e && al_endpoint_param(e, "start", 5) >= 0) {
    int start = al_endpoint_param(e, "start", 5), end = al_endpoint_param(e, "end", 3);
    memset(v, 0, sizeof v);
    v[start].type = v[end].type = AL_V_STRING;
    v[start].s = "2026-11-27T08:00:00+01:00", v[start].n = 25;
    v[end].s = "2026-11-27T07:00:00Z", v[end].n = 20; /* the same instant */
    CHECK(al_endpoint_validate(e, v, &err) == -1);
    CHECK_STR(err.field, "end");
    CHECK_CONTAINS(err.message, "must be after start");
    v[end].s = "2026-11-27T07:00:00.001Z", v[end].n = 24;
    CHECK(al_endpoint_validate(e, v, &err) == 0 && v[end].t - v[start].t == 1);
  }
}

static void check_context(void) {
  al_context c;
  al_error err;
  al_context_init(&c);
  CHECK(al_context_needs_scope(&c, 0));
  CHECK(al_context_accept(&c, "123e4567-e89b-12d3-a456-426614174000", 36, "k", 1, NULL, 0, NULL, 0, NULL, 0, 100,
                          10, &err) == 0);
  CHECK(!al_context_needs_scope(&c, 109.9));
  CHECK(al_context_needs_scope(&c, 110));
  CHECK(al_context_accept(&c, "nope", 4, NULL, 0, NULL, 0, NULL, 0, NULL, 0, 100, 10, &err) == -1);
  CHECK_STR(c.workspace_id, "123e4567-e89b-12d3-a456-426614174000"); /* kept */
  CHECK(al_context_accept(&c, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, 0, 100, 10, &err) == -1);
  {
    char longid[200];
    memset(longid, 'a', sizeof longid);
    CHECK(al_context_accept(&c, "123e4567-e89b-12d3-a456-426614174000", 36, longid, sizeof longid, NULL, 0, NULL, 0,
                            NULL, 0, 100, 10, &err) == -1);
  }
  al_context_invalidate(&c);
  CHECK(al_context_needs_scope(&c, 100));
}

int main(void) {
  check_integrity();
  check_urls();
  check_validate();
  check_windows();
  check_context();
  return check_done("test_catalog");
}
