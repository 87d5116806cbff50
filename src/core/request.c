/* A request's plan (request.h): the one place that says which headers a call carries. */
#include "request.h"

#include <stdio.h>
#include <string.h>

#include "url.h"

static const char JSON[] = "application/json";

static void add_header(al_request *r, al_header_kind kind, const char *name, const char *value, size_t value_n,
                       int param) {
  al_header *h = &r->headers[r->nheaders++];
  h->kind = kind;
  h->name = name;
  h->value = value;
  h->value_n = value_n;
  h->param = param;
}

/* Who may call the route, and with which workspace: the token is fresh, the workspace is
 * the configured one or the resolved context's. Returns al_auth_plan's bits, with *ws set
 * when a workspace is known, or -1 with *err. *policy is the route's (al_policy_for),
 * or was already when known. */
static int plan_auth(const al_client *c, al_api api, const char *path, const char *route, double now,
                     const char **ws, al_policy *policy, int known, al_error *err) {
  *ws = NULL;
  if (al_token_check_fresh(c->token, (int64_t)now, AL_JWT_LEEWAY, err)) return -1;
  if (c->workspace && c->workspace[0]) *ws = c->workspace;
  else if (c->ctx && !al_context_needs_scope(c->ctx, now)) *ws = c->ctx->workspace_id;
  if (!known) al_policy_for(api, path, policy);
  return al_auth_plan(policy, c->token->kind, *ws != NULL, route, err);
}

/* The fields both kinds of routes share; the headers up to the endpoint's own. */
static void plan_common(al_request *r, const al_client *c, const char *method, al_api api, const al_policy *policy,
                        int plan, const char *ws) {
  r->method = method;
  r->api = api;
  r->family = policy->family;
  r->paging = AL_PAGING_NONE;
  r->idempotent = al_method_idempotent(method);
  r->base = c->base[api];
  r->base_n = c->base_n[api];
  r->endpoint = NULL;
  r->values = NULL;
  r->path = NULL;
  r->path_n = 0;
  r->query = NULL;
  r->nquery = 0;
  r->nheaders = 0;
  add_header(r, AL_H_ACCEPT, "Accept", JSON, sizeof JSON - 1, -1);
  if (plan & AL_SEND_AUTH) add_header(r, AL_H_AUTHORIZATION, "Authorization", c->authorization, c->authorization_n, -1);
  if (plan & AL_SEND_WORKSPACE) add_header(r, AL_H_WORKSPACE, "X-Workspace-Id", ws, strlen(ws), -1);
}

static void plan_body(al_request *r, int has_body) {
  r->has_body = has_body != 0;
  if (r->has_body) add_header(r, AL_H_CONTENT_TYPE, "Content-Type", JSON, sizeof JSON - 1, -1);
}

int al_request_plan(const al_client *c, const al_endpoint *e, al_value *values, double now, char *url, size_t cap,
                    al_request *out, al_error *err) {
  return al_request_plan_policy(c, e, NULL, values, now, url, cap, out, err);
}

int al_request_plan_policy(const al_client *c, const al_endpoint *e, const al_policy *known, al_value *values,
                           double now, char *url, size_t cap, al_request *out, al_error *err) {
  const char *ws;
  al_policy policy;
  int plan, has_body = (e->flags & AL_E_OPEN_BODY) != 0;
  const al_param *const *params = e->params; /* in locals: the writes to out may alias e */
  unsigned i, nparams = e->nparams, ins;
  if (al_endpoint_validate_in(e, values, &ins, err)) return -1;
  if (known) policy = *known;
  plan = plan_auth(c, e->api, e->path, e->name, now, &ws, &policy, known != NULL, err);
  if (plan < 0) return -1;
  if (plan & AL_NEEDS_SCOPE) return 1;
  plan_common(out, c, e->method, e->api, &policy, plan, ws);
  has_body |= (ins >> AL_IN_BODY) & 1u;
  for (i = 0; (ins & (1u << AL_IN_HEADER)) && i < nparams; i++) {
    const al_param *p = params[i];
    if (p->in != AL_IN_HEADER || values[i].type != AL_V_STRING) continue;
    if (out->nheaders >= AL_REQUEST_MAX_HEADERS - 1) /* one place is kept for Content-Type */
      return al_fail(err, AL_ERR_VALIDATION, p->name, "%s: more than %d headers", e->name,
                     AL_REQUEST_MAX_HEADERS);
    add_header(out, AL_H_PARAM, p->wire, values[i].s, values[i].n, (int)i);
  }
  plan_body(out, has_body);
  out->paging = (al_paging)e->paging;
  out->endpoint = e;
  out->values = values;
  out->url_n = al_build_url(url, cap, out->base, out->base_n, e, values);
  return 0;
}

int al_request_plan_raw(const al_client *c, const char *method, size_t method_n, const char *path, size_t path_n,
                        int api, const al_kv *q, size_t nq, int has_body, double now, char *url, size_t cap,
                        al_request *out, al_error *err) {
  const char *ws;
  al_policy policy;
  al_api a;
  int plan;
  char route[96];
  if (al_raw_check_method(method, method_n, err) || al_raw_check_path(path, path_n, err)) return -1;
  a = api < 0 ? al_raw_api_for_path(path, path_n) : (al_api)api;
  if (al_raw_check_query(a, path, path_n, q, nq, err)) return -1;
  snprintf(route, sizeof route, "%.*s %.*s", (int)method_n, method, (int)(path_n > 80 ? 80 : path_n), path);
  plan = plan_auth(c, a, path, route, now, &ws, &policy, 0, err);
  if (plan < 0) return -1;
  if (plan & AL_NEEDS_SCOPE) return 1;
  plan_common(out, c, method, a, &policy, plan, ws);
  plan_body(out, has_body);
  out->path = path;
  out->path_n = path_n;
  out->query = q;
  out->nquery = nq;
  out->url_n = al_build_raw_url(url, cap, a, out->base, out->base_n, path, path_n, q, nq);
  return 0;
}

size_t al_request_url(const al_request *r, char *out, size_t cap) {
  if (r->endpoint) return al_build_url(out, cap, r->base, r->base_n, r->endpoint, r->values);
  return al_build_raw_url(out, cap, r->api, r->base, r->base_n, r->path, r->path_n, r->query, r->nquery);
}
