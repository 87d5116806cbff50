--- What the command line prints, made safe and put in its own words: the client's
-- secrets scrubbed (`client:scrub`), control characters from the server escaped
-- (`core.printable`), and the library's option names turned into the command line's
-- flags (`--workspace-id`, `--token-file`, `--base-url`, `--agent-id`, ...).
-- @module alephant.cli.messages
local core = require "alephant.core"
local dash = require("alephant.cli.args").dash

local messages = {}

-- Phrases of library messages that name options, in the command line's words.
local PHRASES = {
  { "pass the token option or set ALEPHANT_TOKEN, ALEPHANT_PAT or ALEPHANT_VIRTUAL_KEY",
    "set ALEPHANT_TOKEN, ALEPHANT_PAT or ALEPHANT_VIRTUAL_KEY, or use --token-file PATH" },
  { "set the workspace_id option or ALEPHANT_WORKSPACE_ID to its UUID",
    "use --workspace-id UUID (or set ALEPHANT_WORKSPACE_ID)" },
  { "set the workspace_id option or ALEPHANT_WORKSPACE_ID", "use --workspace-id UUID (or set ALEPHANT_WORKSPACE_ID)" },
  { "use https:// or set allow_insecure_http = true", "use https://" },
}

-- Options that lead a config message, as flags (with the variable that also sets them).
local OPTIONS = { workspace_id = "ALEPHANT_WORKSPACE_ID", base_url = "ALEPHANT_API_BASE_URL",
  analytics_url = "ALEPHANT_ANALYTICS_BASE_URL", gateway_url = "ALEPHANT_GATEWAY_BASE_URL", cafile = false }

local function plain(s) return (s:gsub("%p", "%%%0")) end

-- Words before a parameter name in the core's and the reports' messages ("to is required
-- when from is given", "from (..) must not be after to (..)", "pass at most one of a, b",
-- "one window: from/to, days or period").
local LEAD = { "", "when ", "after ", "by ", "and ", "of ", ", ", ": ", "/", "or ", "not " }

local function flag_params(msg, params)
  local names = {}
  for _, p in ipairs(params or {}) do names[#names + 1] = p.name end
  table.sort(names, function(a, b) return #a > #b end)
  for _, name in ipairs(names) do
    msg = msg:gsub("()" .. plain(name) .. "()", function(i, j)
      local after = msg:sub(j, j)
      if after ~= "" and not after:find("[ :,)/]") then return nil end
      local before = msg:sub(1, i - 1)
      for _, lead in ipairs(LEAD) do
        local prev = before:sub(-#lead - 1, -#lead - 1)
        if before:sub(-#lead) == lead and (lead ~= "" or i == 1) and not (lead:find("^%a") and prev:find("[%w_-]")) then
          return "--" .. dash(name)
        end
      end
      return nil
    end)
  end
  return msg
end

--- An error's message in the command line's words: flags instead of option and
-- parameter names, commands instead of catalog names.
-- @tparam table err an error (`kind`, `message`, `field`, `instead`, ...)
-- @tparam[opt] table endpoint the command's catalog entry, or a report's `{name, params}`
-- @treturn table err (its message rewritten)
function messages.cli_words(err, endpoint)
  if type(err) ~= "table" or type(err.message) ~= "string" or err.status then return err end
  local msg = err.message
  for _, p in ipairs(PHRASES) do msg = msg:gsub(plain(p[1]), (p[2]:gsub("%%", "%%%%"))) end
  local env = OPTIONS[err.field]
  if env ~= nil and msg:sub(1, #err.field + 1) == err.field .. " " then
    msg = "--" .. dash(err.field) .. (env and (" (or " .. env .. ")") or "") .. msg:sub(#err.field + 1)
  end
  if endpoint then
    if err.kind == "validation" then msg = flag_params(msg, endpoint.params) end
    local g, m = endpoint.name:match("^([^.]+)%.(.+)$")
    if g and msg:sub(1, #endpoint.name + 1) == endpoint.name .. " " then
      msg = "alephant " .. dash(g) .. " " .. dash(m) .. msg:sub(#endpoint.name + 1)
    end
  end
  if err.instead then
    local g, m = err.instead:match("^([^.]+)%.(.+)$")
    msg = msg:gsub(plain(err.instead) .. " %(client%.[%w_]+:[%w_]+{%.%.%.}%)", "'alephant " .. dash(g) .. " " .. dash(m)
      .. "'")
  end
  err.message = msg
  return err
end

--- Text with the client's secrets scrubbed (when a client is open) and control
-- characters escaped in `mode` (`core.printable`: "line", "lines" or "escaped").
function messages.show(ctx, text, mode)
  return core.printable(messages.scrub(ctx, tostring(text)), mode)
end

--- Text, or a table in place, with the client's secrets scrubbed (when a client is
-- open), nothing else changed.
function messages.scrub(ctx, text)
  if ctx.client then return ctx.client:scrub(text) end
  return text
end

--- JSON text for a terminal: the encoder escapes C0 controls; DEL and C1 controls,
-- legal raw in JSON strings, are escaped too (`\u007F`, `\u0080`...). Still valid JSON.
function messages.json(ctx, text)
  text = messages.scrub(ctx, text)
  return (text:gsub("\127", "\\u007F"):gsub("\194([\128-\159])", function(b) return ("\\u%04X"):format(b:byte()) end))
end

return messages
