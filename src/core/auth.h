/* Which token kinds a route accepts and whether it carries X-Workspace-Id
 * (docs/api-notes.md#token-kinds-and-route-families), derived from the API family and the path alone so that
 * every route in the catalog gets its rule from one place. */
#ifndef ALEPHANT_CORE_AUTH_H
#define ALEPHANT_CORE_AUTH_H

#include <stddef.h>

#include "error.h"
#include "token.h"

typedef enum {
  AL_API_SAAS = 0, /* base_url:      /api/v1/...        */
  AL_API_ANALYTICS, /* analytics_url: /v1/analytics/... */
  AL_API_GATEWAY    /* gateway_url (ends in /v1): /chat/completions, ... */
} al_api;

typedef enum {
  AL_WS_NEVER = 0,  /* never sent (Cockpit, gateway, workspace listing) */
  AL_WS_REQUIRED,   /* sent; a virtual key must resolve it through cockpit.scope */
  AL_WS_UNLESS_VK   /* sent for JWT and PAT; a virtual key carries its own (/api/v1/models) */
} al_ws_rule;

typedef struct {
  const char *family; /* "cockpit", "public", "jwt_only", "workspace", "models", "analytics", "gateway" */
  unsigned kinds;     /* AL_TOKEN_* bits; 0 = no authentication at all */
  al_ws_rule workspace;
} al_policy;

/* The policy of a path (the template, with or without {params}). Never fails:
 * every path of a family has a rule. */
void al_policy_for(al_api api, const char *path, al_policy *out);

/* What a call with this token must send. */
enum {
  AL_SEND_AUTH = 1,       /* Authorization: Bearer <token> */
  AL_SEND_WORKSPACE = 2,  /* X-Workspace-Id: <workspace id> */
  AL_NEEDS_SCOPE = 4      /* a virtual key must first resolve its workspace (cockpit.scope) */
};

/* Checks the token kind against the policy and returns a set of AL_SEND_* / AL_NEEDS_SCOPE
 * bits, or -1 with an auth error naming the kinds the route accepts, or a config error
 * when a JWT or PAT has no workspace id for a route that needs one. route names the
 * route in messages (e.g. "pats.list" or "GET /api/v1/pats"). */
int al_auth_plan(const al_policy *policy, al_token_kind kind, int have_workspace, const char *route, al_error *err);

/* Client-level checks at creation: a PAT needs a workspace id; a workspace id must be
 * a header-safe UUID. workspace may be NULL. */
int al_check_client_config(al_token_kind kind, const char *workspace, size_t workspace_n, al_error *err);

#endif
