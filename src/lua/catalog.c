/* core.endpoints(): the catalog as Lua tables, for the client's methods, the CLI and
 * the docs. */
#include "../core/auth.h"
#include "../core/catalog.h"
#include "../core/enums.h"
#include "binding.h"

static const char *const in_names[] = {"path", "query", "body", "header"};
static const char *const type_names[] = {"string", "id",     "uuid",  "date",      "datetime", "integer",
                                         "number", "boolean", "enum", "enum_list", "table",    "any",
                                         "string_list", "enum_csv"};
static const char *const api_names[] = {"saas", "analytics", "gateway"};

static void set_string(lua_State *L, const char *key, const char *value) {
  lua_pushstring(L, value);
  lua_setfield(L, -2, key);
}

static void push_param(lua_State *L, const al_param *p) {
  lua_createtable(L, 0, 10);
  set_string(L, "name", p->name);
  set_string(L, "wire", p->wire);
  set_string(L, "in", in_names[p->in]);
  set_string(L, "type", type_names[p->type]);
  lua_pushboolean(L, (p->flags & AL_P_REQUIRED) != 0);
  lua_setfield(L, -2, "required");
  if (p->flags & AL_P_NULLABLE) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "nullable");
  }
  if (p->group) {
    lua_pushinteger(L, p->group);
    lua_setfield(L, -2, "group");
  }
  if (p->requires) set_string(L, "requires", p->requires);
  if (p->enum_name) {
    const al_enum *e = al_enum_find(p->enum_name);
    int j;
    lua_newtable(L);
    for (j = 0; e->values[j]; j++) {
      lua_pushstring(L, e->values[j]);
      lua_rawseti(L, -2, j + 1);
    }
    lua_setfield(L, -2, "values");
  }
  if (p->nset) {
    int j;
    lua_newtable(L);
    for (j = 0; j < p->nset; j++) {
      lua_pushnumber(L, (lua_Number)p->set[j]);
      lua_rawseti(L, -2, j + 1);
    }
    lua_setfield(L, -2, "values");
  } else if (p->type == AL_T_INT || p->type == AL_T_NUMBER || ((p->type == AL_T_STRING || p->type == AL_T_STRING_LIST) &&
                                                               p->max > 0)) {
    lua_pushnumber(L, (lua_Number)p->min);
    lua_setfield(L, -2, "min");
    if (p->max < INT64_MAX) {
      lua_pushnumber(L, (lua_Number)p->max);
      lua_setfield(L, -2, "max");
    }
  }
}

static void push_endpoint(lua_State *L, const al_endpoint *e) {
  static const char *const kind_names[] = {"jwt", "pat", "virtual_key"};
  al_policy p;
  unsigned i;
  int k, n = 0;
  al_policy_for(e->api, e->path, &p);
  lua_createtable(L, 0, 12);
  set_string(L, "name", e->name);
  set_string(L, "method", e->method);
  set_string(L, "api", api_names[e->api]);
  set_string(L, "path", e->path);
  set_string(L, "summary", e->summary);
  set_string(L, "family", p.family);
  set_string(L, "workspace", p.workspace == AL_WS_REQUIRED ? "required"
                             : p.workspace == AL_WS_UNLESS_VK ? "unless_virtual_key" : "never");
  lua_newtable(L);
  for (k = 0; k < 3; k++) {
    if (!(p.kinds & (1u << k))) continue;
    lua_pushstring(L, kind_names[k]);
    lua_rawseti(L, -2, ++n);
  }
  lua_setfield(L, -2, "kinds");
  lua_pushboolean(L, al_method_idempotent(e->method));
  lua_setfield(L, -2, "idempotent");
  lua_pushboolean(L, (e->flags & AL_E_OPEN_BODY) != 0);
  lua_setfield(L, -2, "open_body");
  if (e->paging != AL_PAGING_NONE) set_string(L, "paging", e->paging == AL_PAGING_PAGE ? "page" : "offset");
  lua_createtable(L, e->nparams, 0);
  for (i = 0; i < e->nparams; i++) {
    push_param(L, e->params[i]);
    lua_rawseti(L, -2, (int)i + 1);
  }
  lua_setfield(L, -2, "params");
}

/* endpoints() -> array of entries, in catalog order */
static int l_endpoints(lua_State *L) {
  size_t i;
  lua_createtable(L, (int)al_catalog_count(), 0);
  for (i = 0; i < al_catalog_count(); i++) {
    push_endpoint(L, al_catalog_at(i));
    lua_rawseti(L, -2, (int)i + 1);
  }
  return 1;
}

void alb_open_catalog(lua_State *L) {
  lua_pushcfunction(L, l_endpoints);
  lua_setfield(L, -2, "endpoints");
}
