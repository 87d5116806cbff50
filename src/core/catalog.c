/* The catalog's data: one entry per documented route whose path is known
 * (docs/api-notes.md). Shared parameters are declared once and reused. */
#include "catalog.h"

#include <string.h>

#define REQ AL_P_REQUIRED
#define COUNT(a) ((unsigned char)(sizeof(a) / sizeof((a)[0])))

/* Field order: name, wire, in, type, flags, group, enum, min, max, set, nset, requires. */
#define Q(name, wire, type) {name, wire, AL_IN_QUERY, type, 0, 0, NULL, 0, 0, NULL, 0, NULL}
#define PATH_UUID(name, wire) {name, wire, AL_IN_PATH, AL_T_UUID, REQ, 0, NULL, 0, 0, NULL, 0, NULL}

static const int64_t days_set[] = {1, 7, 30};

/* windows */
static const al_param p_from = Q("from", "dateFrom", AL_T_DATE);
static const al_param p_to = Q("to", "dateTo", AL_T_DATE);
static const al_param p_from_req = {"from", "dateFrom", AL_IN_QUERY, AL_T_DATE, REQ, 0, NULL, 0, 0, NULL, 0, NULL};
static const al_param p_to_req = {"to", "dateTo", AL_IN_QUERY, AL_T_DATE, REQ, 0, NULL, 0, 0, NULL, 0, NULL};
/* saas/logs: one window or the other (group 2) */
static const al_param p_from_g = {"from", "dateFrom", AL_IN_QUERY, AL_T_DATE, 0, 2, NULL, 0, 0, NULL, 0, NULL};
static const al_param p_start_g = {"start", "start", AL_IN_QUERY, AL_T_DATETIME, 0, 2, NULL, 0, 0, NULL, 0, NULL};
static const al_param p_end = Q("end", "end", AL_T_DATETIME);
static const al_param p_start_req = {"start", "start", AL_IN_QUERY, AL_T_DATETIME, REQ, 0, NULL, 0, 0, NULL, 0, NULL};
static const al_param p_end_req = {"end", "end", AL_IN_QUERY, AL_T_DATETIME, REQ, 0, NULL, 0, 0, NULL, 0, NULL};

/* one analytics scope at a time (group 1) */
static const al_param p_agent_scope = {"agent_id", "agentId", AL_IN_QUERY, AL_T_UUID, 0, 1, NULL, 0, 0, NULL, 0, NULL};
static const al_param p_member_scope = {"member_id", "memberId", AL_IN_QUERY, AL_T_UUID, 0, 1, NULL, 0, 0, NULL, 0, NULL};
static const al_param p_department_scope = {"department_id", "departmentId", AL_IN_QUERY, AL_T_UUID, 0, 1, NULL,
                                            0, 0, NULL, 0, NULL};
/* saas/logs: entityType cannot be combined with agentId/memberId (40028) */
static const al_param p_entity_type_scope = {"entity_type", "entityType", AL_IN_QUERY, AL_T_ENUM, 0, 1,
                                             "entity_type", 0, 0, NULL, 0, NULL};

static const al_param p_department_id = Q("department_id", "departmentId", AL_T_UUID);
static const al_param p_master_key_id = Q("master_key_id", "masterKeyId", AL_T_UUID);
static const al_param p_search_uuid = Q("search", "search", AL_T_UUID);

/* Cockpit */
static const al_param p_period = {"period", "period", AL_IN_QUERY, AL_T_ENUM, 0, 0, "period", 0, 0, NULL, 0, NULL};
static const al_param p_cockpit_limit = {"limit", "limit", AL_IN_QUERY, AL_T_INT, 0, 0, NULL, 1, 100, NULL, 0, NULL};
static const al_param p_offset = {"offset", "offset", AL_IN_QUERY, AL_T_INT, 0, 0, NULL, 0, INT64_MAX, NULL, 0, NULL};

/* pagination */
static const al_param p_page = {"page", "page", AL_IN_QUERY, AL_T_INT, 0, 0, NULL, 1, INT64_MAX, NULL, 0, NULL};
static const al_param p_page_size = {"page_size", "pageSize", AL_IN_QUERY, AL_T_INT, 0, 0, NULL, 1, 200, NULL, 0, NULL};
static const al_param p_limit200 = {"limit", "limit", AL_IN_QUERY, AL_T_INT, 0, 0, NULL, 1, 200, NULL, 0, NULL};

/* analytics */
static const al_param p_months = {"months", "months", AL_IN_QUERY, AL_T_INT, 0, 0, NULL, 1, 24, NULL, 0, NULL};
static const al_param p_days = {"days", "days", AL_IN_QUERY, AL_T_INT, 0, 0, NULL, 0, 0, days_set, 3, NULL};
static const al_param p_metrics = {"metrics", "metrics", AL_IN_QUERY, AL_T_ENUM_CSV, 0, 0, "sparkline_metric", 0, 0,
                                   NULL, 0, NULL};
static const al_param p_live_limit = {"limit", "limit", AL_IN_QUERY, AL_T_INT, 0, 0, NULL, 1, 10, NULL, 0, NULL};
static const al_param p_metric = {"metric", "metric", AL_IN_QUERY, AL_T_ENUM, 0, 0, "metric", 0, 0, NULL, 0, NULL};
static const al_param p_granularity = {"granularity", "granularity", AL_IN_QUERY, AL_T_ENUM, 0, 0, "granularity",
                                       0, 0, NULL, 0, NULL};
static const al_param p_preset = {"preset", "preset", AL_IN_QUERY, AL_T_ENUM, 0, 0, "preset", 0, 0, NULL, 0, NULL};
static const al_param p_member_path = PATH_UUID("member_id", "memberId");
static const al_param p_agent_path = PATH_UUID("agent_id", "agentId");
static const al_param p_department_path = PATH_UUID("department_id", "departmentId");
static const al_param p_id_path = PATH_UUID("id", "id");

/* management lists */
static const al_param p_status = {"status", "status", AL_IN_QUERY, AL_T_STRING, 0, 0, NULL, 1, 32, NULL, 0, NULL};
static const al_param p_vk_entity_type = {"entity_type", "entityType", AL_IN_QUERY, AL_T_ENUM, 0, 0, "entity_type",
                                          0, 0, NULL, 0, NULL};
static const al_param p_environment = {"environment", "environment", AL_IN_QUERY, AL_T_ENUM, 0, 0,
                                       "agent_environment", 0, 0, NULL, 0, NULL};
static const al_param p_search = {"search", "search", AL_IN_QUERY, AL_T_STRING, 0, 0, NULL, 1, 200, NULL, 0, NULL};

/* bodies */
#define B(name, wire, type, flags, min, max) {name, wire, AL_IN_BODY, type, flags, 0, NULL, min, max, NULL, 0, NULL}
static const al_param b_label_req = B("label", "label", AL_T_STRING, REQ, 1, 100);
static const al_param b_label = B("label", "label", AL_T_STRING, 0, 1, 100);
static const al_param b_master_key_id_req = B("master_key_id", "masterKeyId", AL_T_UUID, REQ, 0, 0);
static const al_param b_budget = B("budget", "budget", AL_T_NUMBER, 0, 0, INT64_MAX);
static const al_param b_budget_action = B("budget_action", "budgetAction", AL_T_STRING, 0, 1, 32);
static const al_param b_budget_window = B("budget_window", "budgetWindow", AL_T_STRING, 0, 1, 32);
static const al_param b_rate_limit_rpm = B("rate_limit_rpm", "rateLimitRpm", AL_T_INT, 0, 1, 10000);
static const al_param b_entity_type = {"entity_type", "entityType", AL_IN_BODY, AL_T_ENUM, 0, 0, "entity_type", 0,
                                       0, NULL, 0, "entity_id"};
static const al_param b_entity_id = {"entity_id", "entityId", AL_IN_BODY, AL_T_UUID, 0, 0, NULL, 0, 0, NULL, 0,
                                     "entity_type"};
static const al_param b_name_req = B("name", "name", AL_T_STRING, REQ, 1, 100);
static const al_param b_name = B("name", "name", AL_T_STRING, 0, 1, 100);
static const al_param b_description = B("description", "description", AL_T_STRING, 0, 0, 2000);
static const al_param b_provider_id = B("provider_id", "providerId", AL_T_UUID, 0, 0, 0);
static const al_param b_model_id = B("model_id", "modelId", AL_T_STRING, 0, 1, 200);
static const al_param b_environment = {"environment", "environment", AL_IN_BODY, AL_T_ENUM, 0, 0,
                                       "agent_environment", 0, 0, NULL, 0, NULL};
static const al_param b_system_prompt = B("system_prompt", "systemPrompt", AL_T_STRING, 0, 0, 100000);
static const al_param b_department_id = B("department_id", "departmentId", AL_T_UUID, 0, 0, 0);
static const al_param b_framework = B("framework", "framework", AL_T_STRING, 0, 1, 64);
static const al_param b_source = B("source", "source", AL_T_STRING, 0, 1, 64);
static const al_param b_config_req = B("config", "config", AL_T_TABLE, REQ, 0, 0);
static const al_param b_scopes_req = {"scopes", "scopes", AL_IN_BODY, AL_T_ENUM_LIST, REQ, 0, "pat_scope", 0, 0,
                                      NULL, 0, NULL};
/* PATs: expires_at = alephant.null is "never" (the design's `expires_at?: RFC3339 | null`) */
static const al_param b_expires_at = B("expires_at", "expires_at", AL_T_DATETIME, AL_P_NULLABLE, 0, 0);
/* Virtual keys: the public docs give only the database columns (allowed_models, blocked_models,
 * rate_limit_rph, expires_at, status); the wire names below are guesses in the camelCase the
 * documented rateLimitRpm uses. A wrong guess is never a dead end: the call option
 * extra = { wireName = value } sends a field verbatim. */
static const al_param b_allowed_models = B("allowed_models", "allowedModels", AL_T_STRING_LIST, 0, 1, 256);
static const al_param b_blocked_models = B("blocked_models", "blockedModels", AL_T_STRING_LIST, 0, 1, 256);
static const al_param b_rate_limit_rph = B("rate_limit_rph", "rateLimitRph", AL_T_INT, 0, 1, 1000000);
static const al_param b_vk_expires_at = B("expires_at", "expiresAt", AL_T_DATETIME, AL_P_NULLABLE, 0, 0);
static const al_param b_vk_status = {"status", "status", AL_IN_BODY, AL_T_ENUM, 0, 0, "vk_status", 0, 0, NULL, 0,
                                     NULL};
/* Agents: the column is `about`; the wire name is a guess (see above) */
static const al_param b_about = B("about", "about", AL_T_STRING, 0, 0, 2000);
static const al_param b_model_req = B("model", "model", AL_T_STRING, REQ, 1, 256);
static const al_param b_messages_req = B("messages", "messages", AL_T_TABLE, REQ, 0, 0);
static const al_param b_input_req = B("input", "input", AL_T_ANY, REQ, 0, 0);
static const al_param b_prompt_req = B("prompt", "prompt", AL_T_ANY, REQ, 0, 0);
static const al_param b_image_prompt_req = B("prompt", "prompt", AL_T_STRING, REQ, 1, 32000);
static const al_param b_model = B("model", "model", AL_T_STRING, 0, 1, 256);

/* collector request-logs */
static const al_param p_rl_entity_type = {"entity_type", "entityType", AL_IN_QUERY, AL_T_ENUM, 0, 0, "entity_type",
                                          0, 0, NULL, 0, NULL};
static const al_param p_rl_entity_id = {"entity_id", "entityId", AL_IN_QUERY, AL_T_UUID, 0, 0, NULL, 0, 0, NULL, 0,
                                        "entity_type"};
static const al_param p_model = {"model", "model", AL_IN_QUERY, AL_T_STRING, 0, 0, NULL, 1, 256, NULL, 0, NULL};
static const al_param p_http_status = {"status", "status", AL_IN_QUERY, AL_T_STRING, 0, 0, NULL, 3, 3, NULL, 0,
                                       NULL};
/* collector.logs: page/pageSize instead of offset/limit (groups 4 and 8) */
static const al_param p_logs_page = {"page", "page", AL_IN_QUERY, AL_T_INT, 0, 4, NULL, 1, INT64_MAX, NULL, 0, NULL};
static const al_param p_logs_offset = {"offset", "offset", AL_IN_QUERY, AL_T_INT, 0, 4, NULL, 0, INT64_MAX, NULL, 0,
                                       NULL};
static const al_param p_logs_page_size = {"page_size", "pageSize", AL_IN_QUERY, AL_T_INT, 0, 8, NULL, 1, 200, NULL, 0,
                                          NULL};
static const al_param p_logs_limit = {"limit", "limit", AL_IN_QUERY, AL_T_INT, 0, 8, NULL, 1, 200, NULL, 0, NULL};
static const al_param p_request_id_path = {"request_id", "requestId", AL_IN_PATH, AL_T_ID, REQ, 0, NULL, 0, 0, NULL,
                                           0, NULL};

#define PARAMS(name, ...) static const al_param *const name[] = {__VA_ARGS__}
PARAMS(period_params, &p_period);
PARAMS(recent_params, &p_cockpit_limit, &p_offset);
PARAMS(window_params, &p_from, &p_to);
PARAMS(window_req_params, &p_from_req, &p_to_req);
PARAMS(usage_params, &p_from, &p_to, &p_agent_scope, &p_member_scope, &p_department_scope);
PARAMS(history_params, &p_months);
PARAMS(sparkline_params, &p_metrics);
PARAMS(live_params, &p_live_limit);
PARAMS(timeseries_params, &p_metric, &p_granularity, &p_preset);
PARAMS(member_analytics_params, &p_member_path, &p_days);
PARAMS(agent_analytics_params, &p_agent_path, &p_days);
PARAMS(department_analytics_params, &p_department_path, &p_days);
PARAMS(page_params, &p_page, &p_page_size);
PARAMS(vk_list_params, &p_page, &p_page_size, &p_status, &p_vk_entity_type);
PARAMS(vk_create_params, &b_label_req, &b_master_key_id_req, &b_budget, &b_budget_action, &b_budget_window,
       &b_rate_limit_rpm, &b_entity_type, &b_entity_id, &b_allowed_models, &b_blocked_models, &b_rate_limit_rph,
       &b_vk_expires_at);
PARAMS(vk_update_params, &p_id_path, &b_label, &b_budget, &b_budget_action, &b_budget_window, &b_rate_limit_rpm,
       &b_allowed_models, &b_blocked_models, &b_rate_limit_rph, &b_vk_expires_at, &b_vk_status);
PARAMS(id_params, &p_id_path);
PARAMS(agent_list_params, &p_page, &p_page_size, &p_department_id, &p_status, &p_environment, &p_search);
PARAMS(agent_create_params, &b_name_req, &b_description, &b_provider_id, &b_model_id, &b_environment,
       &b_system_prompt, &b_department_id, &b_framework, &b_source, &b_about);
PARAMS(budget_control_params, &b_config_req);
PARAMS(pat_create_params, &b_name_req, &b_scopes_req, &b_expires_at);
PARAMS(pat_update_params, &p_id_path, &b_name, &b_expires_at);
PARAMS(collector_costs_params, &p_from, &p_to, &p_department_id);
PARAMS(collector_logs_params, &p_from_g, &p_to, &p_start_g, &p_end, &p_agent_scope, &p_member_scope,
       &p_entity_type_scope, &p_search_uuid, &p_master_key_id, &p_department_id, &p_logs_limit, &p_logs_offset,
       &p_logs_page, &p_logs_page_size);
PARAMS(request_logs_params, &p_start_req, &p_end_req, &p_limit200, &p_master_key_id, &p_department_id,
       &p_rl_entity_type, &p_rl_entity_id, &p_model, &p_search_uuid, &p_http_status);
PARAMS(request_log_params, &p_request_id_path);
PARAMS(chat_params, &b_model_req, &b_messages_req);
PARAMS(completion_params, &b_model_req, &b_prompt_req);
PARAMS(embeddings_params, &b_model_req, &b_input_req);
PARAMS(model_params, &b_model_req);
PARAMS(image_params, &b_image_prompt_req, &b_model);

#define E(name, method, api, path, params, flags, paging, summary) \
  {name, method, api, path, params, COUNT(params), flags, paging, summary}
/* an endpoint without parameters */
#define E0(name, method, api, path, flags, paging, summary) {name, method, api, path, NULL, 0, flags, paging, summary}
#define S AL_API_SAAS
#define A AL_API_ANALYTICS
#define G AL_API_GATEWAY
#define NP AL_PAGING_NONE

static const al_endpoint catalog[] = {
    /* Cockpit: virtual key only, no X-Workspace-Id */
    E0("cockpit.health", "GET", S, "/api/v1/cockpit/health", 0, NP, "SaaS and Collector health (no token)"),
    E0("cockpit.scope", "GET", S, "/api/v1/cockpit/scope", 0, NP,
      "The virtual key's workspace, key and bound entity"),
    E("cockpit.usage_summary", "GET", S, "/api/v1/cockpit/usage-summary", period_params, 0, NP,
      "Cost, requests and tokens of the key's entity for a period"),
    E("cockpit.daily_costs", "GET", S, "/api/v1/cockpit/daily-costs", period_params, 0, NP, "Daily cost series"),
    E("cockpit.cost_by_model", "GET", S, "/api/v1/cockpit/cost-by-model", period_params, 0, NP, "Cost per model"),
    E("cockpit.budget_status", "GET", S, "/api/v1/cockpit/budget-status", period_params, 0, NP,
      "Key and entity budgets with spend"),
    E("cockpit.recent_requests", "GET", S, "/api/v1/cockpit/recent-requests", recent_params, 0, AL_PAGING_OFFSET,
      "Recent requests of the key (limit/offset)"),

    /* SaaS workspace analytics: JWT or PAT + X-Workspace-Id */
    E0("analytics.overview", "GET", S, "/api/v1/analytics/overview", 0, NP, "Workspace KPIs"),
    E("analytics.costs", "GET", S, "/api/v1/analytics/costs", window_params, 0, NP,
      "Cost breakdown by department, agent, master key and model"),
    E("analytics.usage", "GET", S, "/api/v1/analytics/usage", usage_params, 0, NP,
      "Daily usage series, optionally for one agent, member or department"),
    E("analytics.models", "GET", S, "/api/v1/analytics/models", window_params, 0, NP, "Cost and requests per model"),
    E("analytics.usage_history", "GET", S, "/api/v1/analytics/usage-history", history_params, 0, NP,
      "Monthly usage history (1..24 months)"),
    E0("analytics.budget_status", "GET", S, "/api/v1/analytics/budget-status", 0, NP,
      "Workspace budget status"),
    E0("analytics.efficiency", "GET", S, "/api/v1/analytics/efficiency", 0, NP, "Efficiency metrics"),
    E("analytics.sparklines", "GET", S, "/api/v1/analytics/sparklines", sparkline_params, 0, NP,
      "7-day series per metric (metrics = \"all\" or a comma list)"),
    E("analytics.live_24h", "GET", S, "/api/v1/analytics/live-24h", live_params, 0, NP,
      "Rolling 24 h top models, top keys and KPIs"),
    E("analytics.timeseries", "GET", S, "/api/v1/analytics/usage/timeseries", timeseries_params, AL_E_GRANULARITY, NP,
      "One metric over time"),
    E("analytics.member", "GET", S, "/api/v1/analytics/members/{memberId}/analytics", member_analytics_params, 0, NP,
      "One member's daily series"),

    /* management */
    E("virtual_keys.list", "GET", S, "/api/v1/virtual-keys", vk_list_params, 0, AL_PAGING_PAGE, "Virtual keys"),
    E("virtual_keys.create", "POST", S, "/api/v1/virtual-keys", vk_create_params, 0, NP,
      "Create a virtual key (budget in USD). Wire names of allowed_models, blocked_models, rate_limit_rph "
      "and expires_at are guesses: extra = {wireName = value} sends a field verbatim"),
    E("virtual_keys.update", "PATCH", S, "/api/v1/virtual-keys/{id}", vk_update_params, 0, NP,
      "Change a key's label, budget, limits, models, expiry or status (active/disabled). Guessed wire "
      "names as for create; extra = {wireName = value} sends a field verbatim"),
    E("virtual_keys.revoke", "POST", S, "/api/v1/virtual-keys/{id}/revoke", id_params, 0, NP, "Revoke a key"),
    E("agents.list", "GET", S, "/api/v1/agents", agent_list_params, 0, AL_PAGING_PAGE, "Agents"),
    E("agents.create", "POST", S, "/api/v1/agents", agent_create_params, 0, NP,
      "Create an agent (the wire names of about, system_prompt, ... are guesses: extra = {wireName = value})"),
    E("agents.analytics", "GET", S, "/api/v1/agents/{agentId}/analytics", agent_analytics_params, 0, NP,
      "One agent's analytics"),
    E("members.list", "GET", S, "/api/v1/members", page_params, 0, AL_PAGING_PAGE, "Members"),
    E("departments.list", "GET", S, "/api/v1/departments", page_params, 0, AL_PAGING_PAGE, "Departments"),
    E("departments.analytics", "GET", S, "/api/v1/departments/{departmentId}/analytics", department_analytics_params,
      0, NP, "One department's analytics"),
    E0("master_keys.list", "GET", S, "/api/v1/master-keys", 0, NP, "Provider (master) keys"),
    E0("models.list", "GET", S, "/api/v1/models", 0, NP, "Model catalog (any token kind)"),
    E0("subscriptions.current", "GET", S, "/api/v1/subscriptions/current", 0, NP,
      "The workspace's subscription"),
    E0("subscriptions.log_usage", "GET", S, "/api/v1/subscriptions/log-usage", 0, NP,
      "Request-log usage in the billing period"),
    E0("policies.budget_control", "GET", S, "/api/v1/policies/budget-control", 0, NP,
      "The workspace budget-control policy"),
    E("policies.set_budget_control", "PUT", S, "/api/v1/policies/budget-control", budget_control_params, 0, NP,
      "Replace the budget-control policy (admin scope)"),

    /* JWT only */
    E0("workspaces.list", "GET", S, "/api/v1/workspaces", 0, NP, "The user's workspaces"),
    E("workspaces.stats", "GET", S, "/api/v1/workspaces/{id}/stats", id_params, 0, NP,
      "Tier, limits and usage of one workspace"),
    E0("logs.list", "GET", S, "/api/v1/logs", 0, NP, "Request logs"),
    E("pats.list", "GET", S, "/api/v1/pats", page_params, 0, AL_PAGING_PAGE, "Personal access tokens"),
    E("pats.create", "POST", S, "/api/v1/pats", pat_create_params, 0, NP,
      "Create a personal access token (its plaintext is returned once; expires_at = alephant.null: never)"),
    E("pats.get", "GET", S, "/api/v1/pats/{id}", id_params, 0, NP, "One personal access token"),
    E("pats.update", "PATCH", S, "/api/v1/pats/{id}", pat_update_params, 0, NP, "Rename or change expiry (expires_at = alephant.null: never)"),
    E("pats.revoke", "DELETE", S, "/api/v1/pats/{id}", id_params, 0, NP, "Revoke a personal access token"),

    /* Analytics (Collector) API */
    E0("collector.health", "GET", A, "/v1/analytics/health", 0, NP, "Collector health (no token)"),
    E("collector.usage", "GET", A, "/v1/analytics/saas/usage", usage_params, 0, NP, "Daily usage series"),
    E("collector.costs", "GET", A, "/v1/analytics/saas/costs", collector_costs_params, 0, NP, "Cost breakdown"),
    E("collector.models", "GET", A, "/v1/analytics/saas/models", window_req_params, 0, NP, "Per-model totals"),
    E("collector.logs", "GET", A, "/v1/analytics/saas/logs", collector_logs_params, 0, AL_PAGING_OFFSET,
      "Request logs with filters (limit/offset or page/page_size)"),
    E("collector.request_logs", "GET", A, "/v1/analytics/request-logs", request_logs_params, 0, NP,
      "Raw request logs in a datetime window"),
    E("collector.request_log", "GET", A, "/v1/analytics/request-logs/{requestId}", request_log_params, 0, NP,
      "One request log by the gateway's x-request-id"),

    /* AI gateway (gateway_url ends in /v1) */
    E("gateway.chat", "POST", G, "/chat/completions", chat_params, AL_E_OPEN_BODY, NP, "OpenAI chat completion"),
    E("gateway.completions", "POST", G, "/completions", completion_params, AL_E_OPEN_BODY, NP, "Legacy completion"),
    E("gateway.embeddings", "POST", G, "/embeddings", embeddings_params, AL_E_OPEN_BODY, NP, "Embeddings"),
    E("gateway.images", "POST", G, "/images/generations", image_params, AL_E_OPEN_BODY, NP,
      "Image generation (prompt required; model optional, the key's default otherwise)"),
    E("gateway.responses", "POST", G, "/responses", model_params, AL_E_OPEN_BODY, NP, "OpenAI Responses API"),
    E("gateway.messages", "POST", G, "/messages", model_params, AL_E_OPEN_BODY, NP, "Anthropic Messages shape"),
    E0("gateway.models", "GET", G, "/models", 0, NP, "Models the key may use"),
    E0("gateway.agent_events", "POST", G, "/agent/events", AL_E_OPEN_BODY, NP,
      "Agent run and step events (one or a batch)"),
    E0("gateway.tools_list", "POST", G, "/agent/tools/list", AL_E_OPEN_BODY, NP,
      "Gateway-managed agent tools"),
    E0("gateway.tools_call", "POST", G, "/agent/tools/call", AL_E_OPEN_BODY, NP,
      "Call a gateway-managed agent tool"),
};

size_t al_catalog_count(void) { return sizeof catalog / sizeof catalog[0]; }

const al_endpoint *al_catalog_at(size_t i) { return i < al_catalog_count() ? &catalog[i] : NULL; }

const al_endpoint *al_catalog_find(const char *name, size_t n) {
  size_t i;
  for (i = 0; i < al_catalog_count(); i++)
    if (strlen(catalog[i].name) == n && memcmp(catalog[i].name, name, n) == 0) return &catalog[i];
  return NULL;
}

/* The NUL-terminated lit equals s[0..n) (s may hold NUL bytes; lit is never read past its end). */
static int name_is(const char *lit, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (lit[i] == '\0' || lit[i] != s[i]) return 0;
  return lit[n] == '\0';
}

int al_endpoint_param(const al_endpoint *e, const char *name, size_t n) {
  unsigned i;
  if (n == 0) return -1; /* no parameter has an empty name */
  for (i = 0; i < e->nparams; i++)
    if (e->params[i]->name[0] == name[0] && name_is(e->params[i]->name, name, n)) return (int)i;
  return -1;
}

/* byte by byte: strcmp's call was most of the cost, on every request */
int al_method_idempotent(const char *m) {
  switch (m[0]) {
    case 'G': return m[1] == 'E' && m[2] == 'T' && m[3] == '\0';
    case 'H': return m[1] == 'E' && m[2] == 'A' && m[3] == 'D' && m[4] == '\0';
    case 'O': return strcmp(m, "OPTIONS") == 0;
    default: return 0;
  }
}
