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

local run = {}

local Run = {}
Run.__index = Run

local function copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = type(v) == "table" and copy(v) or v end
  return out
end

--- Creates a run context (`client:run{...}`).
-- @tparam table client the client
-- @tparam[opt] table options tracking options except `request_id` (one per call):
--   `agent_id`, `run_id` (default `"run_" .. uuid4`), `session`, `properties`, `cache`,
--   `omit_request`, `omit_response`
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
  local _, err = tracking.headers(opts)
  if err then return nil, err end
  return setmetatable({ run_id = opts.run_id, agent_id = opts.agent_id, _client = client, _options = opts }, Run)
end

-- The call's parameters with the run's tracking options merged under its own.
function Run:_params(params)
  if params ~= nil and type(params) ~= "table" then return params end -- gateway raises
  local body, own = tracking.split(params)
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
    Run[method] = function(self, params, opts)
      return self._client:call(e.name, self:_params(params), opts)
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
  return self._client:call("gateway.agent_events", self:_params(params), opts)
end

--- The run's tracking headers, e.g. for another HTTP client talking to the gateway.
function Run:headers()
  return assert(tracking.headers(self._options))
end

function Run:__tostring()
  return ("alephant.run<%s>"):format(self.run_id)
end

return run
