/* A request's plan: everything a call sends except its body's values, decided once, in
 * the core, for catalog routes (al_request_plan) and raw routes (al_request_plan_raw):
 * which checks run, whether the token may call the route, which headers go out and in
 * which order (Accept, Authorization, X-Workspace-Id, the endpoint's header parameters,
 * Content-Type when there is a body), whether there is a body, whether the method may be
 * retried, how answers are unwrapped (the route family), paging, and the URL. The Lua
 * binding (src/lua/state_prepare.c) only turns the plan into a table. Sans-I/O: no allocation,
 * every string points at static text, the client's values or the caller's. */
#ifndef ALEPHANT_CORE_REQUEST_H
#define ALEPHANT_CORE_REQUEST_H

#include <stddef.h>

#include "auth.h"
#include "catalog.h"
#include "context.h"
#include "error.h"
#include "raw.h"
#include "token.h"

/* What a client brings to every request. The strings must outlive the plans made from it. */
typedef struct {
  const al_token *token;     /* the parsed token (its kind and expiry) */
  const char *authorization; /* "Bearer <token>", the Authorization value */
  size_t authorization_n;
  const char *workspace;     /* the configured workspace id (NUL-terminated), NULL or "" when none */
  const al_context *ctx;     /* a virtual key's resolved context, NULL when none */
  const char *base[3];       /* base URLs by al_api */
  size_t base_n[3];
} al_client;

typedef enum {
  AL_H_ACCEPT = 0,     /* Accept: application/json */
  AL_H_AUTHORIZATION,  /* Authorization: the client's authorization value */
  AL_H_WORKSPACE,      /* X-Workspace-Id: the configured or resolved workspace */
  AL_H_PARAM,          /* a header parameter of the endpoint, as given */
  AL_H_CONTENT_TYPE    /* Content-Type: application/json (a request with a body) */
} al_header_kind;

typedef struct {
  al_header_kind kind;
  const char *name;  /* static text, or the parameter's wire name */
  const char *value; /* static text, the client's strings or the caller's value */
  size_t value_n;
  int param;         /* AL_H_PARAM: the index in e->params and values; else -1 */
} al_header;

#define AL_REQUEST_MAX_HEADERS 16

typedef struct {
  const char *method;
  al_api api;
  const char *family; /* the route family (al_policy): how answers are unwrapped */
  al_paging paging;   /* AL_PAGING_NONE for raw routes */
  int idempotent;     /* al_method_idempotent */
  int has_body;
  unsigned nheaders;
  al_header headers[AL_REQUEST_MAX_HEADERS]; /* in wire order */
  size_t url_n;       /* the URL's length; it is in the caller's buffer when url_n < cap */
  /* what the URL is built from, for al_request_url */
  const char *base;
  size_t base_n;
  const al_endpoint *endpoint; /* catalog routes; NULL for raw ones */
  const al_value *values;
  const char *path;            /* raw routes */
  size_t path_n;
  const al_kv *query;
  size_t nquery;
} al_request;

/* The plan of a catalog call: al_endpoint_validate over values (values[i] belongs to
 * e->params[i]; integral numbers are converted in place), the token's freshness at now
 * (seconds since the epoch), the auth plan with the configured workspace or the resolved
 * context's, the headers, and the URL written into url (snprintf-style, cap may be 0;
 * see url_n). Returns 0 with *out filled, 1 when a virtual key must first resolve its
 * workspace (cockpit.scope: accept the answer into the context and plan again; *out is
 * not usable), or -1 with *err. The plan points into c, e and values. */
int al_request_plan(const al_client *c, const al_endpoint *e, al_value *values, double now, char *url, size_t cap,
                    al_request *out, al_error *err);

/* al_request_plan with the endpoint's policy known: *policy is al_policy_for(e->api,
 * e->path), the same for every call of e (a caller that plans e often keeps it), or
 * policy is NULL to have it found. */
int al_request_plan_policy(const al_client *c, const al_endpoint *e, const al_policy *policy, al_value *values,
                           double now, char *url, size_t cap, al_request *out, al_error *err);

/* The plan of a raw call (a route outside the catalog): the method, the path's shape and
 * the query's date rule (raw.h), api < 0 for the API the path belongs to
 * (al_raw_api_for_path), then the same token, workspace and header rules as
 * al_request_plan from the route family of the path; has_body says whether the caller
 * sends a body. method is NUL-terminated (method_n its length: r->method points at it);
 * path and q need not be. Same returns; messages name the route "METHOD /path". */
int al_request_plan_raw(const al_client *c, const char *method, size_t method_n, const char *path, size_t path_n,
                        int api, const al_kv *q, size_t nq, int has_body, double now, char *url, size_t cap,
                        al_request *out, al_error *err);

/* The planned URL again, into a buffer of the right size (r->url_n + 1) when the first
 * one was too small. snprintf-style, like al_build_url. */
size_t al_request_url(const al_request *r, char *out, size_t cap);

#endif
