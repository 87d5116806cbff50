#include "context.h"

#include <string.h>

#include "text.h"
#include "uuid.h"

void al_context_init(al_context *c) { memset(c, 0, sizeof *c); }

int al_context_needs_scope(const al_context *c, double now) {
  return c->workspace_id[0] == '\0' || now >= c->expires_at;
}

/* Copies an optional identifier; values that could not be sent safely are refused. */
static int copy_opt(char *dst, size_t cap, const char *s, size_t n, const char *field, al_error *err) {
  if (s == NULL) {
    dst[0] = '\0';
    return 0;
  }
  if (n >= cap) return al_fail(err, AL_ERR_VALIDATION, field, "scope: %s is longer than %zu bytes", field, cap - 1);
  if (al_check_header_value(s, n, field, err)) return -1;
  memcpy(dst, s, n);
  dst[n] = '\0';
  return 0;
}

int al_context_accept(al_context *c, const char *ws, size_t ws_n, const char *vk, size_t vk_n, const char *entity,
                      size_t entity_n, const char *type, size_t type_n, const char *dept, size_t dept_n, double now,
                      double ttl, al_error *err) {
  al_context next;
  al_context_init(&next);
  if (ws == NULL)
    return al_fail(err, AL_ERR_VALIDATION, "workspace.id",
                   "the cockpit.scope answer has no workspace.id (looked at the top level and under data)");
  if (al_check_uuid(ws, ws_n, "workspace.id", err)) return -1;
  memcpy(next.workspace_id, ws, ws_n);
  if (copy_opt(next.virtual_key_id, sizeof next.virtual_key_id, vk, vk_n, "virtual_key.id", err) ||
      copy_opt(next.entity_id, sizeof next.entity_id, entity, entity_n, "entity.id", err) ||
      copy_opt(next.entity_type, sizeof next.entity_type, type, type_n, "entity.type", err) ||
      copy_opt(next.department_id, sizeof next.department_id, dept, dept_n, "entity.department_id", err))
    return -1;
  next.expires_at = now + (ttl > 0 ? ttl : 0);
  *c = next;
  return 0;
}

void al_context_invalidate(al_context *c) { al_context_init(c); }
