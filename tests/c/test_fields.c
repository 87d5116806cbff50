/* The catalog's newer parameter kinds: enum comma lists, alephant.null, string lists. */
#include <string.h>

#include "catalog.h"
#include "check.h"

static int metrics(const char *s) {
  const al_endpoint *e = al_catalog_find("analytics.sparklines", 20);
  al_value v[1];
  al_error err;
  memset(v, 0, sizeof v);
  v[0].type = AL_V_STRING;
  v[0].s = s;
  v[0].n = strlen(s);
  return al_endpoint_validate(e, v, &err);
}

int main(void) {
  const al_endpoint *pat = al_catalog_find("pats.create", 11), *vk = al_catalog_find("virtual_keys.update", 19);
  al_value v[32];
  al_error err;
  int i;

  CHECK(metrics("all") == 0);
  CHECK(metrics("spend") == 0);
  CHECK(metrics("spend,requests,tokens,success,latency") == 0);
  CHECK(metrics("") == -1);
  CHECK(metrics("spend,") == -1);
  CHECK(metrics(",spend") == -1);
  CHECK(metrics("spend,,tokens") == -1);
  CHECK(metrics("all,spend") == -1);
  CHECK(metrics("spend,all") == -1);
  CHECK(metrics("spend,spend") == -1);
  CHECK(metrics("spend,requests,spend") == -1);
  CHECK(metrics("cost") == -1);
  CHECK(metrics("spend\r\n") == -1);

  /* expires_at = alephant.null on PATs; a required field never takes null */
  memset(v, 0, sizeof v);
  v[0].type = AL_V_STRING; /* name */
  v[0].s = "n";
  v[0].n = 1;
  v[1].type = AL_V_TABLE; /* scopes (items checked by the binding) */
  v[2].type = AL_V_NULL;  /* expires_at */
  CHECK(pat->nparams == 3);
  CHECK(al_endpoint_validate(pat, v, &err) == 0);
  v[0].type = AL_V_NULL;
  CHECK(al_endpoint_validate(pat, v, &err) == -1 && strcmp(err.field, "name") == 0);

  /* virtual_keys.update: status is active|disabled; lists must be tables */
  memset(v, 0, sizeof v);
  v[0].type = AL_V_STRING;
  v[0].s = "626d9be1-5ca9-467a-8257-e01b2859df98";
  v[0].n = 36;
  i = al_endpoint_param(vk, "status", 6);
  CHECK(i > 0);
  v[i].type = AL_V_STRING;
  v[i].s = "disabled";
  v[i].n = 8;
  CHECK(al_endpoint_validate(vk, v, &err) == 0);
  v[i].s = "revoked";
  v[i].n = 7;
  CHECK(al_endpoint_validate(vk, v, &err) == -1);
  v[i].type = AL_V_ABSENT;
  i = al_endpoint_param(vk, "allowed_models", 14);
  v[i].type = AL_V_STRING;
  v[i].s = "x";
  v[i].n = 1;
  CHECK(al_endpoint_validate(vk, v, &err) == -1 && strcmp(err.field, "allowed_models") == 0);
  v[i].type = AL_V_NULL;
  CHECK(al_endpoint_validate(vk, v, &err) == -1);
  v[i].type = AL_V_ABSENT;
  i = al_endpoint_param(vk, "expires_at", 10);
  v[i].type = AL_V_NULL;
  CHECK(al_endpoint_validate(vk, v, &err) == 0);

  /* gateway.images: prompt is required */
  memset(v, 0, sizeof v);
  CHECK(al_endpoint_validate(al_catalog_find("gateway.images", 14), v, &err) == -1 && strcmp(err.field, "prompt") == 0);
  return check_done("test_fields");
}
