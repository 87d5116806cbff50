/* Context resolution for virtual keys, as a small state machine: a client with only a
 * virtual key has no workspace id until cockpit.scope answers. The core says when a
 * scope is needed, accepts its answer (already decoded into strings by the caller),
 * keeps it for a TTL and forgets it on demand (after a 401). */
#ifndef ALEPHANT_CORE_CONTEXT_H
#define ALEPHANT_CORE_CONTEXT_H

#include <stddef.h>

#include "error.h"

typedef struct {
  char workspace_id[37];
  char virtual_key_id[129];
  char entity_id[129];
  char entity_type[17];
  char department_id[129];
  double expires_at; /* seconds since the epoch; 0 = nothing resolved */
} al_context;

void al_context_init(al_context *c);

/* 1 when no workspace is known or the known one is older than its TTL. */
int al_context_needs_scope(const al_context *c, double now);

/* Takes the fields of a scope answer. workspace_id is required and must be a UUID;
 * the others are optional (NULL = absent, e.g. JSON null department_id). On error the
 * previous state is kept. */
int al_context_accept(al_context *c, const char *workspace_id, size_t ws_n, const char *vk_id, size_t vk_n,
                      const char *entity_id, size_t entity_n, const char *entity_type, size_t type_n,
                      const char *department_id, size_t dept_n, double now, double ttl, al_error *err);

void al_context_invalidate(al_context *c);

#endif
