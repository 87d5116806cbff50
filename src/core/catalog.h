/* The endpoint catalog: every route, declared once. Validation, URL building, the
 * Lua methods, the CLI and the docs are all derived from these entries. */
#ifndef ALEPHANT_CORE_CATALOG_H
#define ALEPHANT_CORE_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "error.h"

typedef enum { AL_IN_PATH = 0, AL_IN_QUERY, AL_IN_BODY, AL_IN_HEADER } al_param_in;

typedef enum {
  AL_T_STRING = 0, /* text; min/max bound its length in characters when max > 0 */
  AL_T_ID,         /* an opaque identifier for a path: 1..128 header-safe characters, never "." or ".." */
  AL_T_UUID,
  AL_T_DATE,       /* YYYY-MM-DD */
  AL_T_DATETIME,   /* ISO-8601 with zone */
  AL_T_INT,        /* min..max, or one of set[] when nset > 0 */
  AL_T_NUMBER,     /* finite, min..max */
  AL_T_BOOL,
  AL_T_ENUM,       /* one of the values of enum_name */
  AL_T_ENUM_LIST,  /* an array of values of enum_name (body only) */
  AL_T_TABLE,      /* any Lua table, sent as JSON (body only) */
  AL_T_ANY,        /* any JSON value (body only) */
  AL_T_STRING_LIST, /* an array of strings, each min..max characters, at most 256 items (body only; [] allowed) */
  AL_T_ENUM_CSV    /* a string: "all" alone, or a comma list of the other values of enum_name, no repeats */
} al_param_type;

#define AL_P_REQUIRED 1u
#define AL_P_NULLABLE 2u /* alephant.null is accepted and sent as JSON null (body only) */

typedef struct {
  const char *name;      /* the Lua name users pass (snake_case) */
  const char *wire;      /* the name on the wire (dateFrom, agentId, path placeholder, header) */
  unsigned char in;      /* al_param_in */
  unsigned char type;    /* al_param_type */
  unsigned char flags;   /* AL_P_* */
  unsigned char group;   /* exclusive groups: at most one present per bit */
  const char *enum_name; /* AL_T_ENUM, AL_T_ENUM_LIST */
  int64_t min, max;      /* AL_T_INT, AL_T_NUMBER, AL_T_STRING (length, when max > 0) */
  const int64_t *set;    /* AL_T_INT: allowed values when nset > 0 */
  unsigned char nset;
  const char *requires;  /* the Lua name of a parameter that must accompany this one */
} al_param;

typedef enum { AL_PAGING_NONE = 0, AL_PAGING_PAGE, AL_PAGING_OFFSET } al_paging;

#define AL_E_OPEN_BODY 1u   /* parameters not in the catalog go into the JSON body as given */
#define AL_E_GRANULARITY 2u /* the timeseries rule: no hourly success_rate/latency */

typedef struct {
  const char *name;   /* "analytics.usage" */
  const char *method; /* "GET", "POST", ... */
  al_api api;
  const char *path;   /* template with {wire} placeholders */
  const al_param *const *params;
  unsigned char nparams;
  unsigned char flags;   /* AL_E_* */
  unsigned char paging;  /* al_paging */
  const char *summary;
} al_endpoint;

size_t al_catalog_count(void);
const al_endpoint *al_catalog_at(size_t i);
const al_endpoint *al_catalog_find(const char *name, size_t n);

/* Index of the parameter with that Lua name, or -1. */
int al_endpoint_param(const al_endpoint *e, const char *name, size_t n);

/* True for methods the client may retry on its own (no side effects on a retry). */
int al_method_idempotent(const char *method);

/* A parameter value as it arrived, without Lua. */
typedef enum {
  AL_V_ABSENT = 0, AL_V_STRING, AL_V_INTEGER, AL_V_NUMBER, AL_V_BOOLEAN, AL_V_TABLE, AL_V_OTHER,
  AL_V_NULL /* alephant.null */
} al_vtype;

typedef struct {
  al_vtype type;
  const char *s; /* AL_V_STRING */
  size_t n;
  int64_t i;     /* AL_V_INTEGER */
  double d;      /* AL_V_NUMBER (a non-integer, or any number on LuaJIT) */
  int b;         /* AL_V_BOOLEAN */
  int list_ok;   /* AL_V_TABLE: set by the binding for AL_T_ENUM_LIST when every item checked out */
  int64_t t;     /* AL_T_DATE, AL_T_DATETIME: the instant (ms since the epoch), set by validation */
  const char *type_name; /* for messages: "table", "function", ... */
} al_value;

/* Validates every parameter and cross-field rule of an endpoint. values[i] belongs to
 * e->params[i]. Integral AL_V_NUMBER values of AL_T_INT parameters are converted in place. */
int al_endpoint_validate(const al_endpoint *e, al_value *values, al_error *err);

/* al_endpoint_validate that also sets *ins to the places the endpoint's parameters go,
 * as bits 1u << al_param_in (al_request_plan's headers and body: no pass of its own). */
int al_endpoint_validate_in(const al_endpoint *e, al_value *values, unsigned *ins, al_error *err);

/* A validation error for a parameter the endpoint does not take, with a hint: the Lua
 * name when a wire name (dateFrom) or camelCase form was used, the window the endpoint
 * takes when the other one was used (start/end vs from/to), or a near miss. */
int al_unknown_param(const al_endpoint *e, const char *name, size_t n, al_error *err);

/* A did-you-mean among the catalog's endpoint names, for an unknown name. */
int al_unknown_endpoint(const char *name, size_t n, al_error *err);

#endif
