#include "auth.h"
#include "check.h"

static al_policy pol(al_api api, const char *path) {
  al_policy p;
  al_policy_for(api, path, &p);
  return p;
}

int main(void) {
  al_error err;
  al_policy p;

  p = pol(AL_API_SAAS, "/api/v1/cockpit/scope");
  CHECK_STR(p.family, "cockpit");
  CHECK(p.kinds == AL_TOKEN_VK && p.workspace == AL_WS_NEVER);
  p = pol(AL_API_SAAS, "/api/v1/cockpit/health");
  CHECK_STR(p.family, "public");
  CHECK(p.kinds == 0);
  p = pol(AL_API_SAAS, "/api/v1/pats/{id}");
  CHECK(p.kinds == AL_TOKEN_JWT && p.workspace == AL_WS_REQUIRED);
  p = pol(AL_API_SAAS, "/api/v1/logs");
  CHECK(p.kinds == AL_TOKEN_JWT);
  p = pol(AL_API_SAAS, "/api/v1/workspaces/{id}/stats");
  CHECK(p.kinds == AL_TOKEN_JWT && p.workspace == AL_WS_NEVER);
  p = pol(AL_API_SAAS, "/api/v1/workspacesX"); /* not under /workspaces */
  CHECK_STR(p.family, "workspace");
  p = pol(AL_API_SAAS, "/api/v1/analytics/usage");
  CHECK(p.kinds == (AL_TOKEN_JWT | AL_TOKEN_PAT) && p.workspace == AL_WS_REQUIRED);
  p = pol(AL_API_SAAS, "/api/v1/models");
  CHECK(p.kinds == AL_TOKEN_ANY && p.workspace == AL_WS_UNLESS_VK);
  p = pol(AL_API_ANALYTICS, "/v1/analytics/health");
  CHECK(p.kinds == 0);
  p = pol(AL_API_ANALYTICS, "/v1/analytics/saas/usage");
  CHECK(p.kinds == AL_TOKEN_ANY && p.workspace == AL_WS_REQUIRED);
  p = pol(AL_API_GATEWAY, "/chat/completions");
  CHECK(p.kinds == AL_TOKEN_VK && p.workspace == AL_WS_NEVER);

  /* plans */
  p = pol(AL_API_SAAS, "/api/v1/cockpit/scope");
  CHECK(al_auth_plan(&p, AL_TOKEN_VK, 1, "cockpit.scope", &err) == AL_SEND_AUTH); /* never X-Workspace-Id */
  CHECK(al_auth_plan(&p, AL_TOKEN_PAT, 1, "cockpit.scope", &err) == -1 && err.kind == AL_ERR_AUTH);
  CHECK_CONTAINS(err.message, "cockpit.scope accepts only a virtual key (vk-...)");
  CHECK_CONTAINS(err.message, "personal access token");

  p = pol(AL_API_SAAS, "/api/v1/pats");
  CHECK(al_auth_plan(&p, AL_TOKEN_PAT, 1, "pats.list", &err) == -1);
  CHECK_CONTAINS(err.message, "accepts only a JWT");
  CHECK(al_auth_plan(&p, AL_TOKEN_JWT, 1, "pats.list", &err) == (AL_SEND_AUTH | AL_SEND_WORKSPACE));
  CHECK(al_auth_plan(&p, AL_TOKEN_JWT, 0, "pats.list", &err) == -1 && err.kind == AL_ERR_CONFIG);
  CHECK_CONTAINS(err.message, "ALEPHANT_WORKSPACE_ID");

  p = pol(AL_API_ANALYTICS, "/v1/analytics/request-logs");
  CHECK(al_auth_plan(&p, AL_TOKEN_VK, 0, "collector.request_logs", &err) ==
        (AL_SEND_AUTH | AL_SEND_WORKSPACE | AL_NEEDS_SCOPE));
  CHECK(al_auth_plan(&p, AL_TOKEN_VK, 1, "collector.request_logs", &err) == (AL_SEND_AUTH | AL_SEND_WORKSPACE));

  p = pol(AL_API_SAAS, "/api/v1/models");
  CHECK(al_auth_plan(&p, AL_TOKEN_VK, 0, "models.list", &err) == AL_SEND_AUTH);
  CHECK(al_auth_plan(&p, AL_TOKEN_PAT, 1, "models.list", &err) == (AL_SEND_AUTH | AL_SEND_WORKSPACE));

  p = pol(AL_API_SAAS, "/api/v1/cockpit/health");
  CHECK(al_auth_plan(&p, AL_TOKEN_PAT, 1, "cockpit.health", &err) == 0); /* no token sent at all */

  /* client configuration */
  CHECK(al_check_client_config(AL_TOKEN_PAT, NULL, 0, &err) == -1 && err.kind == AL_ERR_CONFIG);
  CHECK_CONTAINS(err.message, "ALEPHANT_WORKSPACE_ID");
  CHECK(al_check_client_config(AL_TOKEN_VK, NULL, 0, &err) == 0);
  CHECK(al_check_client_config(AL_TOKEN_PAT, "123e4567-e89b-12d3-a456-426614174000", 36, &err) == 0);
  CHECK(al_check_client_config(AL_TOKEN_JWT, "ws-1", 4, &err) == -1 && err.kind == AL_ERR_CONFIG);
  CHECK(al_check_client_config(AL_TOKEN_JWT, "123e4567-e89b-12d3-a456-42661417\n000", 36, &err) == -1);
  CHECK_CONTAINS(err.message, "LF");

  return check_done("test_auth");
}
