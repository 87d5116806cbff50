#include "auth.h"

#include <string.h>

#include "raw.h"
#include "text.h"
#include "uuid.h"

/* path equals prefix, or continues it with '/', '?' or '{' is not allowed to sneak in */
static int under_n(const char *path, const char *prefix, size_t k) {
  return strncmp(path, prefix, k) == 0 && (path[k] == '\0' || path[k] == '/' || path[k] == '?');
}
/* prefix is a string literal: its length is known without strlen */
#define under(path, prefix) under_n(path, prefix, sizeof(prefix) - 1)

void al_policy_for(al_api api, const char *path, al_policy *out) {
  char next;
  switch (api) {
    case AL_API_GATEWAY:
      if (al_raw_gateway_root(path, strlen(path))) {
        /* /health, /healthz/ready: no auth; /x402/...: paid routes that bypass key auth */
        out->family = "public";
        out->kinds = 0;
        out->workspace = AL_WS_NEVER;
        return;
      }
      out->family = "gateway";
      out->kinds = AL_TOKEN_VK;
      out->workspace = AL_WS_NEVER;
      return;
    case AL_API_ANALYTICS:
      if (under(path, "/v1/analytics/health")) {
        out->family = "public";
        out->kinds = 0;
        out->workspace = AL_WS_NEVER;
      } else {
        out->family = "analytics";
        out->kinds = AL_TOKEN_ANY;
        out->workspace = AL_WS_REQUIRED;
      }
      return;
    case AL_API_SAAS:
      break;
  }
  /* the prefixes below all start with "/api/v1/" and go on with c, l, m, p or w: any other
   * route (most of the catalog) is a workspace route without comparing it with each */
  next = path[0] == '/' && path[1] == 'a' && path[2] == 'p' && path[3] == 'i' && path[4] == '/' && path[5] == 'v' &&
                 path[6] == '1' && path[7] == '/'
             ? path[8]
             : '\0'; /* strncmp(path, "/api/v1/", 8) == 0 without its call */
  if (next != 'c' && next != 'l' && next != 'm' && next != 'p' && next != 'w') {
    out->family = "workspace";
    out->kinds = AL_TOKEN_JWT | AL_TOKEN_PAT;
    out->workspace = AL_WS_REQUIRED;
  } else if (under(path, "/api/v1/cockpit/health")) {
    out->family = "public";
    out->kinds = 0;
    out->workspace = AL_WS_NEVER;
  } else if (under(path, "/api/v1/cockpit")) {
    out->family = "cockpit";
    out->kinds = AL_TOKEN_VK;
    out->workspace = AL_WS_NEVER;
  } else if (under(path, "/api/v1/workspaces")) {
    /* the workspace is in the path (or the listing spans all of them) */
    out->family = "jwt_only";
    out->kinds = AL_TOKEN_JWT;
    out->workspace = AL_WS_NEVER;
  } else if (under(path, "/api/v1/pats") || under(path, "/api/v1/logs")) {
    out->family = "jwt_only";
    out->kinds = AL_TOKEN_JWT;
    out->workspace = AL_WS_REQUIRED;
  } else if (under(path, "/api/v1/models")) {
    out->family = "models";
    out->kinds = AL_TOKEN_ANY;
    out->workspace = AL_WS_UNLESS_VK;
  } else {
    out->family = "workspace";
    out->kinds = AL_TOKEN_JWT | AL_TOKEN_PAT;
    out->workspace = AL_WS_REQUIRED;
  }
}

int al_auth_plan(const al_policy *policy, al_token_kind kind, int have_workspace, const char *route, al_error *err) {
  char accepted[160];
  int plan = 0;
  if (policy->kinds == 0) return 0; /* public: never send a token anywhere it is not needed */
  if (!(policy->kinds & (unsigned)kind)) {
    char got[64];
    al_token_kinds_describe(policy->kinds, accepted, sizeof accepted);
    al_token_kinds_describe((unsigned)kind, got, sizeof got);
    return al_fail(err, AL_ERR_AUTH, "token", "%s accepts only %s; this client has %s", route, accepted, got);
  }
  plan = AL_SEND_AUTH;
  if (policy->workspace == AL_WS_NEVER || (policy->workspace == AL_WS_UNLESS_VK && kind == AL_TOKEN_VK))
    return plan;
  if (have_workspace) return plan | AL_SEND_WORKSPACE;
  if (kind == AL_TOKEN_VK) return plan | AL_SEND_WORKSPACE | AL_NEEDS_SCOPE;
  return al_fail(err, AL_ERR_CONFIG, "workspace_id",
                 "%s needs a workspace: set the workspace_id option or ALEPHANT_WORKSPACE_ID", route);
}

int al_check_client_config(al_token_kind kind, const char *workspace, size_t workspace_n, al_error *err) {
  if (workspace == NULL) {
    if (kind == AL_TOKEN_PAT)
      return al_fail(err, AL_ERR_CONFIG, "workspace_id",
                     "a personal access token is bound to one workspace: set the workspace_id option or "
                     "ALEPHANT_WORKSPACE_ID to its UUID");
    return 0;
  }
  if (al_check_header_value(workspace, workspace_n, "workspace_id", err) ||
      al_check_uuid(workspace, workspace_n, "workspace_id", err)) {
    err->kind = AL_ERR_CONFIG;
    return -1;
  }
  return 0;
}
