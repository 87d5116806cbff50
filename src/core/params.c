/* Checking a call's parameters against its catalog entry. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "closest.h"
#include "date.h"
#include "enums.h"
#include "exclusive.h"
#include "number.h"
#include "text.h"
#include "uuid.h"

static int wrong_type(const al_param *p, const al_value *v, const char *want, al_error *err) {
  return al_fail(err, AL_ERR_VALIDATION, p->name, "%s must be %s, got %s", p->name, want,
                 v->type_name ? v->type_name : "another type");
}

static int check_int(const al_param *p, al_value *v, al_error *err) {
  if (v->type == AL_V_NUMBER) {
    int64_t i;
    if (al_number_to_integer(v->d, &i, p->name, err)) return -1;
    v->type = AL_V_INTEGER;
    v->i = i;
  }
  if (v->type != AL_V_INTEGER) return wrong_type(p, v, "an integer", err);
  if (p->nset) return al_check_int_set(v->i, p->set, p->nset, p->name, err);
  return al_check_range(v->i, p->min, p->max, p->name, err);
}

/* The check of a value's type (a UUID, a date, ...). */
static int check_typed(const al_param *p, al_value *v, al_error *err) {
  switch ((al_param_type)p->type) {
    case AL_T_UUID: return al_check_uuid(v->s, v->n, p->name, err);
    case AL_T_DATE: { /* the instant is kept for the window check: each date is parsed once */
      al_date d;
      if (al_parse_date(v->s, v->n, &d, p->name, err)) return -1;
      v->t = al_date_epoch_ms(&d);
      return 0;
    }
    case AL_T_DATETIME: return al_parse_datetime(v->s, v->n, &v->t, p->name, err);
    case AL_T_ENUM: return al_check_enum(al_enum_find(p->enum_name), v->s, v->n, p->name, err);
    case AL_T_ID:
      if ((v->n == 1 && v->s[0] == '.') || (v->n == 2 && v->s[0] == '.' && v->s[1] == '.'))
        return al_fail(err, AL_ERR_VALIDATION, p->name, "%s must not be \".\" or \"..\"", p->name);
      return al_check_length(v->s, v->n, 1, 128, p->name, err);
    default:
      if (p->max > 0) return al_check_length(v->s, v->n, (long)p->min, (long)p->max, p->name, err);
      return 0;
  }
}

/* Everything but bodies ends up in a URL or a header: no control characters, checked
 * first (its message wins). A UUID, date, datetime or enum value that passes its typed
 * check has none (hex digits, digits, '-', ':', 'T', the enum's own text), so for them
 * the control check runs only when the typed check fails: the same messages, without a
 * second pass over every valid value. */
static int check_string(const al_param *p, al_value *v, al_error *err) {
  int printable_when_valid =
      ((1u << AL_T_UUID | 1u << AL_T_DATE | 1u << AL_T_DATETIME | 1u << AL_T_ENUM) >> p->type) & 1u;
  if (p->in == AL_IN_BODY) return check_typed(p, v, err);
  if (!printable_when_valid && al_check_header_value(v->s, v->n, p->name, err)) return -1;
  if (check_typed(p, v, err) == 0) return 0;
  if (printable_when_valid) al_check_header_value(v->s, v->n, p->name, err); /* its message when it fails */
  return -1;
}

/* "all" alone, or a comma list of the enum's other values without repeats or blanks */
static int check_enum_csv(const al_param *p, const al_value *v, al_error *err) {
  const al_enum *e = al_enum_find(p->enum_name);
  size_t i, k, start = 0, count = 0, starts[16], lens[16];
  if (al_check_header_value(v->s, v->n, p->name, err)) return -1;
  if (v->n == 3 && memcmp(v->s, "all", 3) == 0) return 0;
  if (v->n == 0) return al_fail(err, AL_ERR_VALIDATION, p->name, "%s must not be empty", p->name);
  for (i = 0; i <= v->n; i++) {
    size_t len;
    if (i < v->n && v->s[i] != ',') continue;
    len = i - start;
    if (len == 0)
      return al_fail(err, AL_ERR_VALIDATION, p->name,
                     "%s has an empty item: write a comma list such as \"spend,requests\"", p->name);
    if (len == 3 && memcmp(v->s + start, "all", 3) == 0)
      return al_fail(err, AL_ERR_VALIDATION, p->name, "%s: \"all\" cannot be combined with other values", p->name);
    if (al_check_enum(e, v->s + start, len, p->name, err)) return -1;
    for (k = 0; k < count; k++)
      if (lens[k] == len && memcmp(v->s + starts[k], v->s + start, len) == 0)
        return al_fail(err, AL_ERR_VALIDATION, p->name, "%s lists \"%.*s\" twice", p->name, (int)len, v->s + start);
    if (count == 16) return al_fail(err, AL_ERR_VALIDATION, p->name, "%s lists too many values", p->name);
    starts[count] = start;
    lens[count++] = len;
    start = i + 1;
  }
  return 0;
}

static int check_one(const al_param *p, al_value *v, al_error *err) {
  if (v->type == AL_V_NULL) {
    if (p->flags & AL_P_NULLABLE) return 0;
    return al_fail(err, AL_ERR_VALIDATION, p->name, "%s does not take alephant.null", p->name);
  }
  switch ((al_param_type)p->type) {
    case AL_T_INT: return check_int(p, v, err);
    case AL_T_NUMBER:
      if (v->type == AL_V_INTEGER) return al_check_range(v->i, p->min, p->max, p->name, err);
      if (v->type != AL_V_NUMBER) return wrong_type(p, v, "a number", err);
      if (!(v->d >= (double)p->min && v->d <= (double)p->max))
        return al_fail(err, AL_ERR_VALIDATION, p->name, "%s must be a finite number of %lld or more", p->name,
                       (long long)p->min);
      return 0;
    case AL_T_BOOL: return v->type == AL_V_BOOLEAN ? 0 : wrong_type(p, v, "a boolean", err);
    case AL_T_TABLE: return v->type == AL_V_TABLE ? 0 : wrong_type(p, v, "a table", err);
    case AL_T_ENUM_LIST:
    case AL_T_STRING_LIST:
      if (v->type != AL_V_TABLE) return wrong_type(p, v, "an array of strings", err);
      return 0; /* the binding checked each item (al_check_enum, al_check_length) */
    case AL_T_ENUM_CSV:
      if (v->type != AL_V_STRING) return wrong_type(p, v, "a string", err);
      return check_enum_csv(p, v, err);
    case AL_T_ANY:
      return v->type == AL_V_OTHER ? wrong_type(p, v, "a JSON value (string, number, boolean or table)", err) : 0;
    default:
      if (v->type != AL_V_STRING) return wrong_type(p, v, "a string", err);
      return check_string(p, v, err);
  }
}

static int find(const al_endpoint *e, const char *name) {
  return al_endpoint_param(e, name, strlen(name));
}

static const al_value *value_of(const al_endpoint *e, const al_value *values, const char *name) {
  int i = find(e, name);
  return i < 0 || values[i].type == AL_V_ABSENT ? NULL : &values[i];
}

/* strcmp(a, b) == 0 for these short names, without strcmp's call; the same literal
 * (merged by the linker) without comparing its bytes */
static int same_name(const char *a, const char *b) {
  if (a == b) return 1;
  if (*a != *b) return 0;
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

/* The ends of the windows an endpoint may take: from..to (AL_T_DATE, [0]) and
 * start..end (AL_T_DATETIME, [1]), each the index of the parameter of that name and type
 * or -1. Found by al_endpoint_validate's pass over the parameters, comparing only the
 * names of those two types (names are unique in an endpoint, tests/c/test_catalog.c). */
typedef struct {
  int a[2], b[2];
} windows;

static void note_window_end(windows *w, const al_param *p, int i) {
  int k = p->type == AL_T_DATETIME;
  if (same_name(p->name, k ? "start" : "from")) w->a[k] = i;
  else if (same_name(p->name, k ? "end" : "to")) w->b[k] = i;
}

/* A window's rules when the endpoint takes both its ends. */
static int check_window(const windows *w, int k, const al_value *values, al_error *err) {
  int ia = w->a[k], ib = w->b[k], has_a, has_b;
  al_window_end a = {NULL, 0, 0}, b = {NULL, 0, 0};
  if (ia < 0 || ib < 0) return 0;
  has_a = values[ia].type != AL_V_ABSENT;
  has_b = values[ib].type != AL_V_ABSENT;
  /* neither, or both in order: what al_check_window passes, known without it */
  if (has_a == has_b && (!has_a || (k ? values[ib].t > values[ia].t : values[ia].t <= values[ib].t))) return 0;
  if (values[ia].type != AL_V_ABSENT) a.s = values[ia].s, a.n = values[ia].n, a.t = values[ia].t;
  if (values[ib].type != AL_V_ABSENT) b.s = values[ib].s, b.n = values[ib].n, b.t = values[ib].t;
  return al_check_window(&a, &b, k ? AL_WINDOW_DATETIMES : AL_WINDOW_DATES, k ? "start" : "from", k ? "end" : "to",
                         err);
}

int al_endpoint_validate(const al_endpoint *e, al_value *values, al_error *err) {
  unsigned ins;
  return al_endpoint_validate_in(e, values, &ins, err);
}

int al_endpoint_validate_in(const al_endpoint *e, al_value *values, unsigned *ins, al_error *err) {
  const al_param *const *params = e->params; /* in locals: the checks' writes to values may alias e */
  unsigned i, bit, nparams = e->nparams, seen = 0, clash = 0, in = 0;
  int companions = 0;
  windows w = {{-1, -1}, {-1, -1}};
  const al_value *a, *b;
  for (i = 0; i < nparams; i++) {
    const al_param *p = params[i];
    if (p->type == AL_T_DATE || p->type == AL_T_DATETIME) note_window_end(&w, p, (int)i);
    companions |= p->requires != NULL;
    in |= 1u << p->in;
    if (values[i].type == AL_V_ABSENT) {
      if (p->flags & AL_P_REQUIRED)
        return al_fail(err, AL_ERR_VALIDATION, p->name, "%s is required by %s", p->name, e->name);
      continue;
    }
    /* the usual values, a valid UUID, date or datetime in a query or path, checked here
     * at once (what check_one would find: they hold no control character); anything else,
     * or an invalid one, by check_one, which makes its message */
    if (!(values[i].type == AL_V_STRING && p->in != AL_IN_BODY &&
          ((p->type == AL_T_UUID && al_is_uuid(values[i].s, values[i].n)) ||
           (p->type == AL_T_DATE && al_date_ms(values[i].s, values[i].n, &values[i].t) == 0) ||
           (p->type == AL_T_DATETIME &&
            al_parse_datetime(values[i].s, values[i].n, &values[i].t, p->name, err) == 0))) &&
        check_one(p, &values[i], err))
      return -1;
    clash |= seen & p->group; /* a second one present in a group */
    seen |= p->group;
  }
  *ins = in;
  /* exclusive groups: at most one present per group bit; only a group with two present
   * can fail, and al_check_exclusive names them (lowest bit first) */
  for (bit = 1; bit <= clash; bit <<= 1) {
    const char *names[16];
    int present[16];
    size_t n = 0;
    if (!(clash & bit)) continue;
    for (i = 0; i < e->nparams && n < 16; i++) {
      if (!(e->params[i]->group & bit)) continue;
      names[n] = e->params[i]->name;
      present[n++] = values[i].type != AL_V_ABSENT;
    }
    if (n > 1 && al_check_exclusive(names, present, n, e->name, err)) return -1;
  }
  /* parameters that need a companion */
  for (i = 0; companions && i < e->nparams; i++) {
    const char *req = e->params[i]->requires;
    if (req && values[i].type != AL_V_ABSENT && !value_of(e, values, req))
      return al_fail(err, AL_ERR_VALIDATION, req, "%s is required when %s is given", req, e->params[i]->name);
  }
  /* windows: both or neither, in order (each end was parsed once, by check_string) */
  if ((w.a[0] >= 0 && w.b[0] >= 0 && check_window(&w, 0, values, err)) ||
      (w.a[1] >= 0 && w.b[1] >= 0 && check_window(&w, 1, values, err)))
    return -1;
  if (e->flags & AL_E_GRANULARITY) {
    a = value_of(e, values, "metric");
    b = value_of(e, values, "granularity");
    if (al_check_granularity(a ? a->s : NULL, a ? a->n : 0, b ? b->s : NULL, b ? b->n : 0, err)) return -1;
  }
  return 0;
}

/* camelCase -> snake_case, for hints ("agentId" -> "agent_id"). */
static void snake(const char *s, size_t n, char *out, size_t cap) {
  size_t i, o = 0;
  for (i = 0; i < n && o + 2 < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    if (isupper(c)) {
      if (o) out[o++] = '_';
      out[o++] = (char)tolower(c);
    } else {
      out[o++] = (char)c;
    }
  }
  out[o] = '\0';
}

static void accepted_list(const al_endpoint *e, char *buf, size_t cap) {
  unsigned i;
  size_t used = 0;
  buf[0] = '\0';
  if (e->nparams == 0) {
    snprintf(buf, cap, "no parameters");
    return;
  }
  for (i = 0; i < e->nparams; i++) {
    int w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", e->params[i]->name);
    if (w < 0 || (size_t)w >= cap - used) break;
    used += (size_t)w;
  }
}

static int is(const char *s, size_t n, const char *lit) { return strlen(lit) == n && memcmp(s, lit, n) == 0; }

int al_unknown_param(const al_endpoint *e, const char *name, size_t n, al_error *err) {
  char accepted[256], snaked[96], shown[64];
  unsigned i;
  int has_dates = find(e, "from") >= 0, has_times = find(e, "start") >= 0;
  snprintf(shown, sizeof shown, "%.*s", (int)(n > 48 ? 48 : n), name);
  for (i = 0; i < sizeof shown && shown[i]; i++)
    if ((unsigned char)shown[i] < 0x20) shown[i] = '?';
  accepted_list(e, accepted, sizeof accepted);
  /* the other window vocabulary */
  if ((is(name, n, "start") || is(name, n, "end")) && has_dates && !has_times)
    return al_fail(err, AL_ERR_VALIDATION, shown,
                   "%s takes a calendar-date window from/to (YYYY-MM-DD), not start/end", e->name);
  if ((is(name, n, "from") || is(name, n, "to")) && has_times && !has_dates)
    return al_fail(err, AL_ERR_VALIDATION, shown, "%s takes a datetime window start/end (ISO-8601), not from/to",
                   e->name);
  /* a wire name or the camelCase of a Lua name */
  snake(name, n, snaked, sizeof snaked);
  for (i = 0; i < e->nparams; i++) {
    const al_param *p = e->params[i];
    if ((p->in != AL_IN_PATH && is(name, n, p->wire)) || strcmp(snaked, p->name) == 0)
      return al_fail(err, AL_ERR_VALIDATION, shown, "%s does not take '%s': use '%s'", e->name, shown, p->name);
  }
  /* a near miss: the nearest name */
  {
    size_t best = AL_FAR;
    const char *best_name = NULL;
    for (i = 0; i < e->nparams; i++) {
      const char *cand = e->params[i]->name;
      size_t d = al_edit_distance(name, n, cand, strlen(cand));
      if (d < best) best = d, best_name = cand;
    }
    if (best_name && al_close_enough(best, n, 2))
      return al_fail(err, AL_ERR_VALIDATION, shown, "%s does not take '%s': did you mean '%s'?", e->name, shown,
                     best_name);
  }
  return al_fail(err, AL_ERR_VALIDATION, shown, "%s does not take '%s' (it takes %s)", e->name, shown, accepted);
}

int al_unknown_endpoint(const char *name, size_t n, al_error *err) {
  size_t i, best = AL_FAR;
  const char *best_name = NULL;
  for (i = 0; i < al_catalog_count(); i++) {
    const char *cand = al_catalog_at(i)->name;
    size_t d = al_edit_distance(name, n, cand, strlen(cand));
    if (d < best) {
      best = d;
      best_name = al_catalog_at(i)->name;
    }
  }
  if (best_name && al_close_enough(best, n, 3))
    return al_fail(err, AL_ERR_VALIDATION, "endpoint", "unknown endpoint '%.*s': did you mean '%s'?",
                   (int)(n > 48 ? 48 : n), name, best_name);
  return al_fail(err, AL_ERR_VALIDATION, "endpoint", "unknown endpoint '%.*s'", (int)(n > 48 ? 48 : n), name);
}
