-- The nginx the spec/ngx specs start: locations that run an SDK call from each context
-- (handlers in spec/ngx/lua/ngx_handlers.lua), against the emulator `emu`.
local nginx = require "spec.support.nginx"

local M = {}

M.HTTP = [[
  lua_shared_dict alephant 1m;
  lua_shared_dict results 1m;
  @EXTRA_HTTP@
  init_worker_by_lua_block { require("ngx_handlers").init_worker() }
  server {
    listen 127.0.0.1:@PORT@ reuseport;
    location = /content { content_by_lua_block { require("ngx_handlers").content() } }
    location = /access {
      access_by_lua_block { require("ngx_handlers").early() }
      content_by_lua_block { require("ngx_handlers").early_content() }
    }
    location = /rewrite {
      rewrite_by_lua_block { require("ngx_handlers").early() }
      content_by_lua_block { require("ngx_handlers").early_content() }
    }
    location = /timer { content_by_lua_block { require("ngx_handlers").timer() } }
    location = /stream { content_by_lua_block { require("ngx_handlers").stream() } }
    location = /batch { content_by_lua_block { require("ngx_handlers").batch() } }
    location = /raw_transport { content_by_lua_block { require("ngx_handlers").raw_transport() } }
    location = /log {
      return 200 '{"logged":true}';
      header_filter_by_lua_block { require("ngx_handlers").record() }
      log_by_lua_block { require("ngx_handlers").record() }
    }
    location = /result { content_by_lua_block { require("ngx_handlers").result() } }
    location = /dump { content_by_lua_block { require("ngx_handlers").dump() } }
    location = /cache_race { content_by_lua_block { require("ngx_handlers").cache_race() } }
    # no Lua at all: what every other request on the worker would be
    location = /plain { return 200 '{"t":$msec}'; }
  }
]]

--- Starts nginx for `emu`; opts as for spec.support.nginx.start (workers 2 by default),
-- plus `extra_http` (lines for the http block).
function M.start(emu, opts)
  opts = opts or {}
  local o = {
    workers = 2, http = M.HTTP, vars = { EXTRA_HTTP = opts.extra_http or "" },
    env = {
      ALEPHANT_API_BASE_URL = emu.saas_url, ALEPHANT_ANALYTICS_BASE_URL = emu.analytics_url,
      ALEPHANT_GATEWAY_BASE_URL = emu.gateway_url, ALEPHANT_TOKEN = emu.tokens.vk_agent,
    },
  }
  for k, v in pairs(opts) do
    if k ~= "extra_http" then o[k] = v end
  end
  return nginx.start(o)
end

return M
