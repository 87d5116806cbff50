--- The `alephant` command line: one subcommand per catalog entry, the reports, and
-- help generated from the catalog. `bin/alephant` calls `cli.main(arg)`; everything
-- here works without spawning a process (the specs pass their own streams and
-- environment through `ctx`).
--
--     alephant analytics usage --from 2026-11-01 --to 2026-11-27 --format csv --field series
--     alephant report costs --days 30
--
-- Exit status: 0 ok; 2 usage or invalid input, nothing was sent (unknown command or
-- flag, a bad value, a validation, configuration or token-kind error caught before any
-- request, or a result that cannot be CSV); 3 the API or the network failed; 1 an
-- internal error (a bug).
-- @module alephant.cli
local alephant = require "alephant"
local core = require "alephant.core"
local config = require "alephant.config"
local chart = require "alephant.cli.chart"
local args = require "alephant.cli.args"
local help = require "alephant.cli.help"
local messages = require "alephant.cli.messages"
local render = require "alephant.cli.render"
local raw_cli = require "alephant.cli.request"
local report_args = require "alephant.cli.report_args"

local dash, undash, usage, one_line = args.dash, args.undash, args.usage, args.one_line
local groups, REPORTS, REPORT_ORDER = args.groups, args.REPORTS, args.REPORT_ORDER
local emit, select_field, progress_printer = render.emit, render.select_field, render.progress_printer

local cli = {}

--- Exit statuses.
cli.EXIT = { ok = 0, internal = 1, usage = 2, api = 3 }

--- Parses a command line (without the program name): `alephant.cli.args.parse`.
cli.parse = args.parse

-- ---------------------------------------------------------------- running ----
-- 2 when nothing was sent (the input or the configuration is wrong), else 3.
local function exit_for(err)
  if type(err) == "table" and err.status == nil and (err.kind == "validation" or err.kind == "config"
    or err.kind == "auth" or err.kind == "usage") then
    return cli.EXIT.usage
  end
  return cli.EXIT.api
end

-- One line on stderr: in the command line's words, secrets scrubbed, controls escaped.
local function fail(ctx, err)
  ctx.stderr:write(messages.show(ctx, tostring(messages.cli_words(err, ctx.endpoint)), "line"), "\n")
  return exit_for(err)
end

-- The client whose secrets are scrubbed from the output (until it is closed), and the
-- command whose flags errors name.
local function using(ctx, client, endpoint)
  ctx.client, ctx.endpoint = client.scrub and client or nil, endpoint
end

-- Closes the client after `code` was computed (its output written).
local function closing(client, code)
  client:close()
  return code
end

local function read_token_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, usage("cannot read --token-file: %s", one_line(err)) end
  local line = f:read("*l")
  f:close()
  line = line and line:match("^%s*(.-)%s*$")
  if not line or line == "" then return nil, usage("--token-file %s is empty", path) end
  return line
end

local function make_client(ctx)
  local g = ctx.global
  local opts = { getenv = ctx.getenv, workspace_id = g["workspace-id"], base_url = g["base-url"],
    analytics_url = g["analytics-url"], gateway_url = g["gateway-url"], cafile = g.cafile }
  if g.timeout then
    local t = tonumber(g.timeout)
    local problem = config.duration_problem(t) -- the client's own rule for durations
    if problem then
      if not t then problem = problem:gsub("got nil$", function() return ("got '%s'"):format(g.timeout) end) end
      return nil, usage("--timeout %s", problem)
    end
    opts.timeout = t
  end
  if g["token-file"] then
    local token, err = read_token_file(g["token-file"])
    if not token then return nil, err end
    opts.token = token
  end
  return ctx.new(opts)
end

local show

local function run_endpoint(ctx, cmd, parsed)
  local client, err = make_client(ctx)
  if not client then return fail(ctx, err) end
  local e = cmd.endpoint
  using(ctx, client, e)
  local params = parsed.params
  if parsed.cli.body then
    if type(parsed.cli.body) ~= "table" or parsed.cli.body[1] ~= nil then
      return fail(ctx, usage("--body: expected a JSON object"))
    end
    for k, v in pairs(parsed.cli.body) do
      if params[k] == nil then params[k] = v end
    end
  end
  if parsed.cli.max_items and not parsed.cli.all then
    return fail(ctx, usage("--max-items goes with --all"))
  end
  local data, meta
  if parsed.cli.all then
    local g, n = e.name:match("^([^.]+)%.(.+)$")
    local method = n == "list" and "each" or ("each_" .. n)
    local progress = progress_printer(ctx)
    local items = alephant.array()
    for item, ierr in client[g][method](client[g], params, { max_items = parsed.cli.max_items }) do
      if item == false then
        if progress then progress(dash(g), #items, true) end
        return closing(client, fail(ctx, ierr)) -- the message scrubbed before the client forgets its token
      end
      items[#items + 1] = item
      if progress then progress(dash(g), #items, false) end
    end
    if progress then progress(dash(g), #items, true) end
    data = items
  else
    data, err, meta = client:call(e.name, params)
    if data == nil then return closing(client, fail(ctx, err)) end
  end
  return closing(client, show(ctx, data, meta))
end

-- Prints a call's answer: a warning for a degraded one, --field, --format.
show = function(ctx, data, meta)
  if meta and meta.degraded then
    local m = type(data) == "table" and data.message
    ctx.stderr:write(messages.show(ctx, "alephant: warning: degraded answer" .. (meta.data_source and (" (data_source "
      .. tostring(meta.data_source) .. ")") or "") .. (type(m) == "string" and (": " .. m) or ""), "line"), "\n")
  end
  data = messages.scrub(ctx, data) -- before any cell is cut, so no piece of a secret shows
  if ctx.global.field then
    data = select_field(data, ctx.global.field)
    if data == nil then return fail(ctx, usage("--field %s: the result has no such field", ctx.global.field)) end
  end
  local uerr = emit(ctx, data)
  if uerr then return fail(ctx, uerr) end
  return cli.EXIT.ok
end

local function run_report(ctx, name, parsed)
  local opts = {}
  for k, v in pairs(parsed.params) do opts[k] = v end
  local fn, why = report_args.adapt(name, parsed.words[3], opts) -- its action, its options in the report's shape
  if not fn then return fail(ctx, usage("%s; see alephant report %s --help", why, name)) end
  local client, err = make_client(ctx)
  if not client then return fail(ctx, err) end
  using(ctx, client, { name = "report " .. name, params = REPORTS[name].params }) -- errors name its flags
  if REPORTS[name].progress then opts.progress = progress_printer(ctx) end
  local r
  r, err = fn(client, opts)
  if not r then return closing(client, fail(ctx, err)) end
  r = messages.scrub(ctx, r)
  local uerr = render.emit_report(ctx, name, r)
  if uerr then return closing(client, fail(ctx, uerr)) end
  return closing(client, cli.EXIT.ok)
end

local function run_request(ctx, parsed)
  local method, path, opts = raw_cli.arguments(parsed, ctx.stdin)
  if not method then return fail(ctx, usage("%s", path)) end
  local client, err = make_client(ctx)
  if not client then return fail(ctx, err) end
  using(ctx, client)
  local data, rerr, meta = client:request(method, path, opts)
  if data == nil then return closing(client, fail(ctx, rerr)) end
  if data == true then data = { status = meta.status } end -- an empty body
  return closing(client, show(ctx, data, meta))
end

local function run_endpoints(ctx)
  local rows = {}
  for _, e in ipairs(core.endpoints()) do
    local g, n = e.name:match("^([^.]+)%.(.+)$")
    rows[#rows + 1] = { command = dash(g) .. " " .. dash(n), name = e.name, method = e.method, path = e.path,
      tokens = help.kinds_text(e.kinds), summary = e.summary }
  end
  if not ctx.columns then ctx.columns = { "command", "method", "path", "tokens", "summary" } end
  local uerr = emit(ctx, ctx.format == "json" and core.endpoints() or rows, { max_cell = 200 })
  if uerr then return fail(ctx, uerr) end
  return cli.EXIT.ok
end

local function stderr_is_tty(getenv)
  local term = getenv("TERM")
  if not term or term == "" or term == "dumb" then return false end
  local r = os.execute("test -t 2")
  return r == true or r == 0
end

local function run(argv, ctx)
  local parsed, perr = cli.parse(argv)
  if not parsed then return fail(ctx, perr) end
  local words, g = parsed.words, parsed.global
  ctx.global = g
  if words[1] == "help" then
    table.remove(words, 1)
    g.help = true
  end
  local f = g.format or "table"
  if f ~= "table" and f ~= "json" and f ~= "csv" then
    return fail(ctx, usage("--format must be table, json or csv, got '%s'", f))
  end
  ctx.format = f
  if g.columns then
    ctx.columns = {}
    for c in g.columns:gmatch("[^,]+") do ctx.columns[#ctx.columns + 1] = c:match("^%s*(.-)%s*$") end
  end
  local out = ctx.stdout
  local w1, w2 = words[1], words[2]
  if g.version or w1 == "version" then
    out:write("alephant-lua ", core.version, "\n")
    return cli.EXIT.ok
  end
  if not w1 then
    if g.help then
      out:write(help.main(), "\n")
      return cli.EXIT.ok
    end
    return fail(ctx, usage("no command; see alephant --help"))
  end
  if w1 == "endpoints" then
    if g.help then
      out:write("alephant endpoints: every catalog entry with its method, path and token kinds\n")
      return cli.EXIT.ok
    end
    if w2 then return fail(ctx, usage("unexpected argument '%s' after alephant endpoints", w2)) end
    return run_endpoints(ctx)
  end
  if w1 == "report" then
    if not w2 then
      if g.help then
        out:write(help.reports(), "\n")
        return cli.EXIT.ok
      end
      return fail(ctx, usage("which report? %s; see alephant report --help", table.concat(REPORT_ORDER, ", ")))
    end
    if not REPORTS[w2] then return fail(ctx, args.unknown_words(words)) end
    if words[3] and not (REPORTS[w2].actions and REPORTS[w2].actions[words[3]] and not words[4]) then
      return fail(ctx, usage("unexpected argument '%s'", words[4] or words[3]))
    end
    if g.help then
      out:write(help.report(w2), "\n")
      return cli.EXIT.ok
    end
    return run_report(ctx, w2, parsed)
  end
  if w1 == "request" then
    if g.help then
      out:write(raw_cli.help(), "\n")
      return cli.EXIT.ok
    end
    return run_request(ctx, parsed)
  end
  local group = groups[undash(w1)]
  if not group then return fail(ctx, args.unknown_words(words)) end
  if not w2 then
    if g.help then
      out:write(help.group(undash(w1)), "\n")
      return cli.EXIT.ok
    end
    return fail(ctx, usage("alephant %s needs a command; see alephant %s --help", w1, w1))
  end
  local e = group.by_name[undash(w2)]
  if not e then return fail(ctx, args.unknown_words(words)) end
  if words[3] then return fail(ctx, usage("unexpected argument '%s'", words[3])) end
  if g.help then
    out:write(help.command(e), "\n")
    return cli.EXIT.ok
  end
  return run_endpoint(ctx, parsed.command, parsed)
end

--- Runs the command line.
-- @tparam {string,...} argv the arguments (`arg` of the script: `argv[1]` is the first)
-- @tparam[opt] table ctx what the command talks to (each defaults to the real one):
--   `stdout`, `stderr` (objects with `write`), `getenv` (like `os.getenv`), `stderr_tty`
--   (boolean: progress on stderr), `new` (a client constructor like `alephant.new`)
-- @treturn integer the exit status (`cli.EXIT`)
function cli.main(argv, ctx)
  ctx = ctx or {}
  local c = {
    stdout = ctx.stdout or io.stdout,
    stderr = ctx.stderr or io.stderr,
    getenv = ctx.getenv or os.getenv,
    new = ctx.new or alephant.new,
    stdin = ctx.stdin or io.stdin,
  }
  c.utf8 = chart.utf8(c.getenv)
  c.stderr_tty = ctx.stderr_tty
  c.isatty = function() return stderr_is_tty(c.getenv) end
  c.width = math.max(math.min(tonumber(c.getenv("COLUMNS") or "") or 80, 200), 40)
  local ok, code = xpcall(function() return run(argv or {}, c) end, debug.traceback) -- Lua 5.1: no xpcall args
  if not ok then
    -- one line; the traceback with ALEPHANT_DEBUG=1
    local msg = c.getenv("ALEPHANT_DEBUG") == "1" and tostring(code) or one_line(tostring(code):match("^[^\n]*"))
    c.stderr:write("alephant internal error: ", core.printable(msg, "lines"), "\n")
    return cli.EXIT.internal
  end
  return code
end

return cli
