#include "enums.h"

#include <stdio.h>
#include <string.h>

#include "url.h"

static const char *const period[] = {"24h", "7d", "30d", "billing_cycle", NULL};
static const char *const preset[] = {"7d", "30d", "3m", "6m", "12m", NULL};
static const char *const analytics_preset[] = {"mtd", "7d", "30d", "3m", "6m", "12m", NULL};
static const char *const metric[] = {"cost", "requests", "tokens", "avg_cost_per_req", "success_rate", "latency", NULL};
static const char *const granularity[] = {"day", "hour", NULL};
static const char *const sparkline_metric[] = {"all", "spend", "requests", "tokens", "success", "latency", NULL};
static const char *const entity_type[] = {"agent", "member", "user", NULL};
static const char *const pat_scope[] = {"read", "write", "admin", NULL};
static const char *const agent_environment[] = {"production", "development", "staging", NULL};
/* the statuses PATCH /api/v1/virtual-keys/{id} takes (revoking has its own route) */
static const char *const vk_status[] = {"active", "disabled", NULL};

static const al_enum enums[] = {
    {"period", period},
    {"preset", preset},
    {"analytics_preset", analytics_preset},
    {"metric", metric},
    {"granularity", granularity},
    {"sparkline_metric", sparkline_metric},
    {"entity_type", entity_type},
    {"pat_scope", pat_scope},
    {"agent_environment", agent_environment},
    {"vk_status", vk_status},
};

const al_enum *al_enum_find(const char *name) {
  size_t i;
  for (i = 0; i < sizeof enums / sizeof enums[0]; i++)
    if (strcmp(enums[i].name, name) == 0) return &enums[i];
  return NULL;
}

const al_enum *al_enum_at(size_t i) { return i < sizeof enums / sizeof enums[0] ? &enums[i] : NULL; }

static int is(const char *s, size_t n, const char *v) { return strlen(v) == n && memcmp(s, v, n) == 0; }

int al_check_enum(const al_enum *e, const char *s, size_t n, const char *field, al_error *err) {
  char list[256] = "", q[AL_QUOTE_CAP];
  size_t i, used = 0;
  for (i = 0; e->values[i]; i++)
    if (is(s, n, e->values[i])) return 0;
  for (i = 0; e->values[i] && used < sizeof list; i++) {
    int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", e->values[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
  return al_fail(err, AL_ERR_VALIDATION, field, "%s must be one of %s, got \"%s\"", field, list, al_quote(s, n, q));
}

int al_check_granularity(const char *metric_s, size_t metric_n, const char *gran, size_t gran_n, al_error *err) {
  if (gran == NULL || metric_s == NULL || !is(gran, gran_n, "hour")) return 0;
  if (is(metric_s, metric_n, "success_rate") || is(metric_s, metric_n, "latency"))
    return al_fail(err, AL_ERR_VALIDATION, "granularity",
                   "granularity \"hour\" is not available for metric \"%.*s\": use granularity \"day\"",
                   (int)metric_n, metric_s);
  return 0;
}
