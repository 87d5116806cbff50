#include <math.h>
#include <stdint.h>

#include "check.h"
#include "enums.h"
#include "exclusive.h"
#include "number.h"
#include "text.h"
#include "uuid.h"

int main(void) {
  al_error err;
  int64_t v;
  static const int64_t days[] = {1, 7, 30};
  const char *scope[] = {"agent_id", "member_id", "department_id"};
  int none[] = {0, 0, 0}, one[] = {0, 1, 0}, two[] = {1, 0, 1};
  const al_enum *e;

  /* UUIDs */
  CHECK(al_is_uuid("123e4567-e89b-12d3-a456-426614174000", 36));
  CHECK(al_is_uuid("123E4567-E89B-12D3-A456-426614174000", 36));
  CHECK(!al_is_uuid("123e4567e89b12d3a456426614174000", 32));
  CHECK(!al_is_uuid("123e4567-e89b-12d3-a456-42661417400g", 36));
  CHECK(!al_is_uuid("{23e4567-e89b-12d3-a456-42661417400}", 36));
  CHECK(!al_is_uuid("123e4567-e89b-12d3-a456_426614174000", 36));
  CHECK(al_check_uuid("nope", 4, "agent_id", &err) == -1);
  CHECK_STR(err.field, "agent_id");
  CHECK_CONTAINS(err.message, "UUID");
  /* a token in an id field (ALEPHANT_WORKSPACE_ID=<token>) is shown redacted, never echoed */
  CHECK(al_check_uuid("vk-canary-0123456789abcdef0123", 30, "workspace_id", &err) == -1);
  CHECK_CONTAINS(err.message, "looks like a token (vk-ca\xE2\x80\xA6" "0123)");
  CHECK(strstr(err.message, "456789") == NULL);
  CHECK(al_check_uuid("Bearer pat_ws0117be_2e8757a2aaaa", 32, "workspace_id", &err) == -1);
  CHECK(strstr(err.message, "2e8757") == NULL);
  CHECK(al_check_uuid("eyJhbGciOiJIUzI1NiJ9.e30.sig", 28, "workspace_id", &err) == -1);
  CHECK(strstr(err.message, "hbGciO") == NULL);
  CHECK(al_check_uuid("c324cd7a-d313-4940-89c6-e97f63f3670", 35, "workspace_id", &err) == -1);
  CHECK_CONTAINS(err.message, "got \"c324cd7a-d313-4940-89c6-e97f63f3670\""); /* typos are still shown */

  /* integers arriving as doubles */
  CHECK(al_number_to_integer(12.0, &v, "months", &err) == 0 && v == 12);
  CHECK(al_number_to_integer(2.5, &v, "months", &err) == -1);
  CHECK_CONTAINS(err.message, "integer");
  CHECK(al_number_to_integer(NAN, &v, "months", &err) == -1);
  CHECK(al_number_to_integer(INFINITY, &v, "months", &err) == -1);
  CHECK(al_number_to_integer(1e300, &v, "months", &err) == -1);
  CHECK(al_number_to_integer(-0.0, &v, "months", &err) == 0 && v == 0);
  CHECK(al_check_range(1, 1, 24, "months", &err) == 0);
  CHECK(al_check_range(24, 1, 24, "months", &err) == 0);
  CHECK(al_check_range(25, 1, 24, "months", &err) == -1);
  CHECK_CONTAINS(err.message, "between 1 and 24");
  CHECK(al_check_range(0, 1, 24, "months", &err) == -1);
  CHECK(al_check_range(0, 1, INT64_MAX, "page", &err) == -1);
  CHECK_CONTAINS(err.message, "1 or more");
  CHECK(al_check_int_set(7, days, 3, "days", &err) == 0);
  CHECK(al_check_int_set(14, days, 3, "days", &err) == -1);
  CHECK_CONTAINS(err.message, "one of 1, 7, 30");

  /* enums and the timeseries cross-field rule */
  e = al_enum_find("period");
  CHECK(e != NULL);
  CHECK(al_check_enum(e, "billing_cycle", 13, "period", &err) == 0);
  CHECK(al_check_enum(e, "90d", 3, "period", &err) == -1);
  CHECK_CONTAINS(err.message, "24h, 7d, 30d, billing_cycle");
  CHECK(al_check_enum(e, "7", 1, "period", &err) == -1); /* no prefix match */
  CHECK(al_check_enum(e, "7dd", 3, "period", &err) == -1);
  CHECK(al_enum_find("nope") == NULL);
  CHECK(al_enum_find("granularity") != NULL && al_enum_find("metric") != NULL && al_enum_find("preset") != NULL);
  CHECK(al_enum_at(0) != NULL && al_enum_at(1000) == NULL);
  CHECK(al_check_granularity("latency", 7, "hour", 4, &err) == -1);
  CHECK_STR(err.field, "granularity");
  CHECK(al_check_granularity("success_rate", 12, "hour", 4, &err) == -1);
  CHECK(al_check_granularity("cost", 4, "hour", 4, &err) == 0);
  CHECK(al_check_granularity("latency", 7, "day", 3, &err) == 0);
  CHECK(al_check_granularity("latency", 7, NULL, 0, &err) == 0);

  /* one scope at a time */
  CHECK(al_check_exclusive(scope, none, 3, NULL, &err) == 0);
  CHECK(al_check_exclusive(scope, one, 3, NULL, &err) == 0);
  CHECK(al_check_exclusive(scope, two, 3, NULL, &err) == -1);
  CHECK_STR(err.field, "department_id");
  CHECK_STR(err.message, "agent_id and department_id cannot be combined: pass at most one of agent_id, member_id, "
                         "department_id");
  CHECK(al_check_exclusive(scope, two, 3, "analytics.usage", &err) == -1);
  CHECK_STR(err.message, "agent_id and department_id cannot be combined: analytics.usage takes at most one of "
                         "agent_id, member_id, department_id");

  /* header values */
  CHECK(al_check_header_value("abc-123 ok", 10, "agent_id", &err) == 0);
  CHECK(al_check_header_value("a\rb", 3, "agent_id", &err) == -1);
  CHECK_CONTAINS(err.message, "CR");
  CHECK(al_check_header_value("a\nb", 3, "agent_id", &err) == -1);
  CHECK_CONTAINS(err.message, "LF");
  CHECK(al_check_header_value("a\0b", 3, "agent_id", &err) == -1);
  CHECK_CONTAINS(err.message, "NUL");
  CHECK(al_check_header_value("a\tb", 3, "agent_id", &err) == -1);
  CHECK(al_check_header_value("a\x7f", 2, "agent_id", &err) == -1);
  CHECK(al_check_header_value("caf\xC3\xA9", 5, "agent_id", &err) == 0);

  /* lengths count characters of valid UTF-8 */
  CHECK(al_utf8_length("caf\xC3\xA9", 5) == 4);
  CHECK(al_utf8_length("\xF0\x9F\x98\x80", 4) == 1);
  CHECK(al_utf8_length("\xC3", 1) == -1);
  CHECK(al_utf8_length("\xC0\xAF", 2) == -1);         /* overlong */
  CHECK(al_utf8_length("\xED\xA0\x80", 3) == -1);     /* surrogate */
  CHECK(al_utf8_length("\xF4\x90\x80\x80", 4) == -1); /* past U+10FFFF */
  CHECK(al_check_length("", 0, 1, 100, "label", &err) == -1);
  CHECK_CONTAINS(err.message, "must not be empty");
  CHECK(al_check_length("abcd", 4, 1, 3, "label", &err) == -1);
  CHECK_CONTAINS(err.message, "at most 3");
  CHECK(al_check_length("\xC3\xA9\xC3\xA9\xC3\xA9", 6, 1, 3, "label", &err) == 0);
  CHECK(al_check_length("\xFF", 1, 0, 3, "label", &err) == -1);
  CHECK_CONTAINS(err.message, "UTF-8");

  return check_done("test_validate");
}
