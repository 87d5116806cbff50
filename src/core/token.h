/* Token kinds, by the server's own prefix rule: "vk-" is a virtual key, "pat_" a
 * personal access token, anything else a JWT. Here a JWT must also look like one
 * (three base64url segments with a JSON object payload), so a typo is caught when
 * the client is created instead of as a 401 later. */
#ifndef ALEPHANT_CORE_TOKEN_H
#define ALEPHANT_CORE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Bit values so that a route can accept a set of kinds. */
typedef enum {
  AL_TOKEN_NONE = 0,
  AL_TOKEN_JWT = 1,
  AL_TOKEN_PAT = 2,
  AL_TOKEN_VK = 4
} al_token_kind;

#define AL_TOKEN_ANY (AL_TOKEN_JWT | AL_TOKEN_PAT | AL_TOKEN_VK)

typedef struct {
  al_token_kind kind;
  int has_exp;
  int64_t exp; /* JWT "exp" claim, seconds since the epoch, when has_exp */
} al_token;

/* Longest token accepted, in bytes (any kind). A JWT carrying many claims can pass
 * 4 KB; the decoded payload is sized from the token, not a fixed buffer. Longer
 * values are refused with "token is too long" (they could not travel in one header
 * line of common servers either: nginx's large_client_header_buffers is 8 KB). */
#define AL_TOKEN_MAX_LEN 16384

/* Leeway for clock skew when judging a JWT expired, in seconds. */
#define AL_JWT_LEEWAY 60

int al_token_parse(const char *s, size_t n, al_token *out, al_error *err);

/* An auth error when the JWT's exp + leeway is before now (seconds since the epoch). */
int al_token_check_fresh(const al_token *t, int64_t now, int64_t leeway, al_error *err);

/* "jwt", "pat", "virtual_key", or "none". */
const char *al_token_kind_name(al_token_kind kind);

/* Human list of a set of kinds: "a virtual key (vk-...)", "a JWT or a PAT (pat_...)". */
void al_token_kinds_describe(unsigned mask, char *buf, size_t cap);

/* Decodes unpadded base64url into out (cap bytes). Returns the decoded length or -1. */
long al_base64url_decode(const char *s, size_t n, unsigned char *out, size_t cap);

/* Finds a top-level numeric member of a JSON object. Returns 1 and sets *value when
 * found, 0 when absent, -1 when the text is not a JSON object or the member is not a number. */
int al_json_top_number(const char *json, size_t n, const char *key, double *value);

/* Writes a redacted form of any secret into out: the known prefix, two characters,
 * an ellipsis and the last four ("vk-ab…3f8a"). Short secrets show only the prefix.
 * Always NUL-terminates when cap > 0; returns the length written. */
size_t al_redact(const char *s, size_t n, char *out, size_t cap);

/* A credential pasted where it does not belong (a token in ALEPHANT_WORKSPACE_ID or in a
 * URL's host): a token's prefix, a JWT's '{"' header in base64url, or a Bearer scheme
 * anywhere in it. Such text is shown through al_redact, never as it is. */
int al_looks_like_token(const char *s, size_t n);

#endif
