#ifndef ALEPHANT_CORE_EXCLUSIVE_H
#define ALEPHANT_CORE_EXCLUSIVE_H

#include <stddef.h>

#include "error.h"

/* At most one parameter of a group may be given (e.g. agent_id, member_id,
 * department_id: one analytics scope at a time). present[i] says whether names[i] was given.
 * who (may be NULL) names the endpoint in the message: "<who> takes at most one of ...". */
int al_check_exclusive(const char *const *names, const int *present, size_t n, const char *who, al_error *err);

#endif
