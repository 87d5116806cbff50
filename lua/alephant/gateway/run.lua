--- A run context: one task execution whose gateway calls and agent events all carry
-- the same attribution.
--
--     local run = assert(client:run{ agent_id = "agt_support_bot", session = { id = "sess_42" } })
--     print(run.run_id)                          -- "run_<uuid>" unless one was given
--     run:event{ type = "run.started" }          -- agent_id and run_id filled in
--     local reply = run:chat{ model = ..., messages = ... }
--     for ev, err in run:chat_stream{ model = ..., messages = ..., session = { path = "/draft" } } do ... end
--
-- A call's own tracking options override the run's; `session`, `properties` and
-- `cache` are merged key by key (a call can add a session path or a property).
-- @module alephant.gateway.run
local core = require "alephant.core"
local errors = require "alephant.errors"
local gateway = require "alephant.gateway"
local tracking = require "alephant.gateway.tracking"
local util = require "alephant.util"

local run = {}

local Run = {}
Run.__index = Run

local copy = util.copy -- markers kept: an alephant.array{} stays an array

--- Creates a run context (`client:run{...}`).
-- @tparam table client the client
-- @tparam[opt] table options tracking options except `request_id` (one per call):
--   `agent_id`, `agent_name`, `run_id` (default `"run_" .. uuid4`), `session`
--   (`id = "auto"` makes one for the run: `run.session_id`), `properties`, `cache`, ...
-- @return the run, or nil and a `validation` error
function run.new(client, options)
  if options ~= nil and type(options) ~= "table" then
    error(("alephant: client:run: options must be a table, got %s"):format(type(options)), 3)
  end
  local opts = copy(options or {})
  if opts.request_id ~= nil then
    return nil, errors.new("validation", "request_id is per call, not per run: pass it to the run's methods",
      { field = "request_id" })
  end
  if opts.run_id == nil then opts.run_id = "run_" .. core.uuid4() end
  -- one generated session id for the whole run
  if type(opts.session) == "table" and opts.session.id == "auto" then opts.session.id = tracking.session_id() end
  local _, err = tracking.headers(opts)
  if err then return nil, err end
  return setmetatable({ run_id = opts.run_id, agent_id = opts.agent_id,
    session_id = type(opts.session) == "table" and opts.session.id or nil, _client = client, _options = opts }, Run)
end

-- The call's parameters with the run's tracking options merged under its own.
function Run:_params(params, events)
  if params ~= nil and type(params) ~= "table" then return params end -- gateway raises
  local body, own = tracking.split(params, events)
  if not body then return params end -- a misspelled option: the call refuses it
  for k, v in pairs(tracking.merge(self._options, own)) do body[k] = v end
  return body
end

-- Every gateway method with the run's attribution: `run:chat{}`, `run:responses{}`,
-- `run:embeddings{}`, ... (as `client.gateway:<method>`), and the streams
-- `run:chat_stream{}`, `run:responses_stream{}`, `run:messages_stream{}`,
-- `run:completions_stream{}`.
for _, e in ipairs(core.endpoints()) do
  local method = e.name:match("^gateway%.(.+)$")
  if method then
    local events = e.name == "gateway.agent_events"
    Run[method] = function(self, params, opts)
      return self._client:call(e.name, self:_params(params, events), opts)
    end
  end
end
for method in pairs(gateway.streams) do
  Run[method] = function(self, params, opts)
    return gateway.stream(self._client, method, self:_params(params), opts)
  end
end

--- Sends one agent event or a batch `{events = {...}}` with the run's `agent_id` and
-- `run_id` filled into every event that has none (`client.gateway:agent_events`).
function Run:event(params, opts)
  return self._client:call("gateway.agent_events", self:_params(params, true), opts)
end

---------------------------------------------------------------------------
-- Steps
---------------------------------------------------------------------------
local Step = {}
Step.__index = Step

-- The step fields a caller may give (`attempt` is counted, never given).
local STEP_FIELDS = { id = true, parent_id = true, kind = true, source = true, input_hash = true,
  tool_call_id = true, handoff_id = true, graph_node = true, iteration = true, state_hash = true }

local function new_step(owner, r, parent_id, fields, level)
  if fields ~= nil and type(fields) ~= "table" then
    error(("alephant: step: options must be a table, got %s"):format(type(fields)), level)
  end
  local f = copy(fields or {})
  for k in pairs(f) do
    if not STEP_FIELDS[k] then
      return nil, errors.new("validation", ('step does not take "%s"%s (known: id, parent_id, kind, source, '
        .. "input_hash, tool_call_id, handoff_id, graph_node, iteration, state_hash)"):format(tostring(k),
        k == "attempt" and ": attempts are counted, one per call made on the step" or ""), { field = "step." .. k })
    end
  end
  if f.id == nil then f.id = "step_" .. core.uuid4() end
  if f.parent_id == nil then f.parent_id = parent_id end
  local _, err = tracking.headers{ step = f }
  if err then return nil, err end
  return setmetatable({ id = f.id, parent_id = f.parent_id, kind = f.kind, attempts = 0, run = r,
    _fields = f, _owner = owner }, Step)
end

--- A step of the run (`run:step{ kind = "tool_call", ... }`): its gateway calls carry
-- the run's attribution plus the step headers `alephant-step-id`, `alephant-parent-step-id`,
-- `alephant-step-attempt` and the fields given. A step is one unit of work (one model
-- or tool call): each call made on it is one attempt (1, 2, ... in `step.attempts`), so
-- calling again after a failure is a retry of the step; new work is a new step.
-- `step:step{...}` makes a child step (its `parent_id` is the step's id).
--
--     local llm = assert(run:step{ kind = "llm_call", iteration = 1 })
--     local reply = assert(llm:chat_stream{ model = ..., messages = ..., tools = ... }:collect())
--     local tool = assert(llm:step{ kind = "tool_call", tool_call_id = reply.tool_calls[1].id })
--
-- @tparam[opt] table fields `kind`, `source`, `input_hash`, `tool_call_id`, `handoff_id`,
--   `graph_node`, `iteration`, `state_hash`; `id` (default `"step_" .. uuid4`), `parent_id`
-- @return the step (`step.id`, `step.parent_id`, `step.attempts`), or nil and a `validation` error
function Run:step(fields)
  return new_step(self, self, nil, fields, 3)
end

--- A child step: `parent_id` is this step's id (see `Run:step`).
function Step:step(fields)
  return new_step(self, self.run, self.id, fields, 3)
end

-- The call's parameters with the step's fields (and this attempt) under its own (the
-- run's method then adds the run's).
function Step:_params(params)
  if params ~= nil and type(params) ~= "table" then return params end -- gateway raises
  self.attempts = self.attempts + 1
  local own = {}
  for k, v in pairs(params or {}) do own[k] = v end
  local step = copy(self._fields)
  step.attempt = self.attempts
  if type(own.step) == "table" then
    for k, v in pairs(own.step) do step[k] = v end
  end
  own.step = step
  return own
end

for name, fn in pairs(Run) do
  if type(fn) == "function" and name ~= "step" and name ~= "headers" and name:sub(1, 1) ~= "_"
    and name:sub(1, 2) ~= "__" then
    Step[name] = function(self, params, opts)
      return self.run[name](self.run, self:_params(params), opts)
    end
  end
end

--- Sends an agent event for the step: `step_id`, `parent_step_id` and `attempt` are
-- filled in where the event has none (and the run's `agent_id`, `run_id`).
function Step:event(params, opts)
  if params ~= nil and type(params) ~= "table" then return self.run:event(params, opts) end
  local ev = copy(params or {})
  local function fill(e)
    if type(e) ~= "table" then return end
    if e.step_id == nil then e.step_id = self.id end
    if e.parent_step_id == nil then e.parent_step_id = self.parent_id end
    if e.attempt == nil and self.attempts > 0 then e.attempt = self.attempts end
  end
  if type(ev.events) == "table" then
    for _, e in ipairs(ev.events) do fill(e) end
  else
    fill(ev)
  end
  return self.run:event(ev, opts)
end

function Step:__tostring()
  return ("alephant.step<%s %s>"):format(self.id, self.kind or "?")
end

--- The run's tracking headers, e.g. for another HTTP client talking to the gateway.
function Run:headers()
  return assert(tracking.headers(self._options))
end

function Run:__tostring()
  return ("alephant.run<%s>"):format(self.run_id)
end

return run
