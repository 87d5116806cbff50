/* Raw requests: routes the catalog does not describe (client:request). The route
 * family's rules still come from auth.h (al_policy_for); this file owns what only raw
 * requests need: which methods are allowed, which API a path belongs to, the shape a
 * path must have, the gateway's root routes, the date rule on the wire names and the
 * URL. Sans-I/O like the rest of src/core. */
#ifndef ALEPHANT_CORE_RAW_H
#define ALEPHANT_CORE_RAW_H

#include <stddef.h>

#include "auth.h"
#include "error.h"

#define AL_RAW_PATH_MAX 2048

/* GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS (upper case, as sent). */
int al_raw_check_method(const char *m, size_t n, al_error *err);

/* The API a path belongs to when the caller does not say: /api/... -> SaaS,
 * /v1/analytics/... -> Analytics API, anything else -> the gateway. */
al_api al_raw_api_for_path(const char *path, size_t n);

/* A path must start with "/", hold only RFC 3986 path characters (no space, control
 * byte, "?", "#", "\\" or non-ASCII), valid percent escapes, and no segment that could
 * leave its place: no empty, "." or ".." segment, written plainly or percent-encoded,
 * and no encoded "/" or "\\". At most AL_RAW_PATH_MAX bytes. */
int al_raw_check_path(const char *path, size_t n, al_error *err);

/* Gateway routes that live at the gateway's origin, not under gateway_url's /v1:
 * /health, /healthz/..., /x402/... */
int al_raw_gateway_root(const char *path, size_t n);

/* One query parameter as given (wire name and text value). */
typedef struct {
  const char *k, *v;
  size_t kn, vn;
} al_kv;

/* The date rule of the SaaS workspace analytics (/api/v1/analytics/...) on the wire
 * names: dateFrom and dateTo are YYYY-MM-DD dates, both or neither, dateFrom not after
 * dateTo. Other paths pass. */
int al_raw_check_query(al_api api, const char *path, size_t n, const al_kv *q, size_t nq, al_error *err);

/* base (trailing slashes ignored; for a gateway root route, without a trailing /v1)
 * + path + "?" + the pairs, each name and value percent-encoded (RFC 3986, as
 * al_percent_encode). snprintf-style like al_build_url. */
size_t al_build_raw_url(char *out, size_t cap, al_api api, const char *base, size_t base_n, const char *path,
                        size_t path_n, const al_kv *q, size_t nq);

/* url + "?" (or "&" when url already has a query) + the pairs, encoded as above:
 * the call option `extra` on a route without a body. snprintf-style. */
size_t al_append_query(char *out, size_t cap, const char *url, size_t url_n, const al_kv *q, size_t nq);

#endif
