--- Agent run and step events (`POST /v1/agent/events`, docs/api-notes.md#gateway): checks
-- before sending, and the run attribution filled into each event.
--
-- The body is one event or a batch `{source?, framework?, events = {...}}`. Each event
-- needs `type` (or its alias `event`); the enum fields must hold one of the documented
-- values. The gateway would record an unknown value as `"unknown"` with a warning;
-- the client refuses it instead, with the allowed list, because a typo (`tool-call`,
-- `LLM_CALL`) would otherwise silently turn the step into "unknown" in every report.
-- The gateway also accepts framework aliases: send the canonical value.
-- @module alephant.gateway.events
local core = require "alephant.core"
local errors = require "alephant.errors"

local events = {}

local FRAMEWORKS = { "alephant", "langgraph", "openai_agents", "n8n", "crewai", "mastra", "unknown" }

--- The allowed values of each enum field.
events.enums = {
  step_kind = { "planning", "reasoning", "llm_call", "tool_call", "tool_result", "handoff", "approval",
    "checkpoint", "final_answer", "retry", "error_recovery", "unknown" },
  step_source = { "runtime", "gateway", "rule", "heuristic", "unknown" },
  step_confidence = { "high", "medium", "low", "unknown" },
  event_phase = { "before", "after", "state", "unknown" },
  policy_stage = { "pre_action", "post_action", "audit_only" },
  event_source_trust = { "self_reported", "adapter_detected", "gateway_observed", "registered" },
  source = FRAMEWORKS,
  framework = FRAMEWORKS,
}
local ENUM_ORDER = { "step_kind", "step_source", "step_confidence", "event_phase", "policy_stage",
  "event_source_trust", "source", "framework" }
local allowed = {}
for name, list in pairs(events.enums) do
  allowed[name] = {}
  for _, v in ipairs(list) do allowed[name][v] = true end
end

-- Fields that must be strings when present.
local STRING_FIELDS = { "version", "event_id", "name", "agent_name", "agentName", "agent_id", "run_id", "step_id",
  "parent_step_id", "tool_call_id", "handoff_id", "graph_node", "input_hash" }

local function fail(field, message)
  return nil, errors.new("validation", message, { field = field })
end

local function check_enum(t, name, prefix)
  local v = t[name]
  if v == nil then return true end
  local field = prefix .. name
  if type(v) ~= "string" or not allowed[name][v] then
    local got = type(v) == "string" and ('"' .. v:sub(1, 64):gsub("[%c\128-\255]", "?") .. '"') or type(v)
    return fail(field, ("%s must be one of %s, got %s"):format(field, table.concat(events.enums[name], ", "), got))
  end
  return true
end

local function check_event(ev, prefix)
  if type(ev) ~= "table" then
    return fail(prefix ~= "" and prefix:sub(1, -2) or "event",
      ("%s must be a table, got %s"):format(prefix ~= "" and prefix:sub(1, -2) or "an event", type(ev)))
  end
  local etype = ev.type
  if etype == nil then etype = ev.event end
  if type(etype) ~= "string" or etype == "" then
    return fail(prefix .. "type", ("%stype is required: a non-empty string such as \"run.started\" or "
      .. "\"step.started\" (or its alias event)"):format(prefix))
  end
  local ok, err
  for _, name in ipairs(ENUM_ORDER) do
    ok, err = check_enum(ev, name, prefix)
    if not ok then return nil, err end
  end
  for _, name in ipairs(STRING_FIELDS) do
    local v = ev[name]
    if v ~= nil and type(v) ~= "string" then
      return fail(prefix .. name, ("%s%s must be a string, got %s"):format(prefix, name, type(v)))
    end
  end
  if ev.sequence ~= nil then
    ok, err = core.validate_integer(ev.sequence, prefix .. "sequence", 0)
    if not ok then return nil, err end
  end
  if ev.attempt ~= nil then
    ok, err = core.validate_integer(ev.attempt, prefix .. "attempt", 0, 4294967295)
    if not ok then return nil, err end
  end
  if ev.timestamp ~= nil then
    ok, err = core.validate_datetime(ev.timestamp, prefix .. "timestamp")
    if not ok then return nil, err end
  end
  if ev.metadata ~= nil and type(ev.metadata) ~= "table" then
    return fail(prefix .. "metadata", ("%smetadata must be a table, got %s"):format(prefix, type(ev.metadata)))
  end
  return true
end

--- Checks an agent-events body: one event or a batch `{events = {...}}`.
-- @tparam table body the body as it will be sent
-- @return true, or nil and a `validation` error naming the field (`events[2].step_kind`)
function events.check(body)
  if body.events == nil then return check_event(body, "") end
  local list = body.events
  if type(list) ~= "table" or list[1] == nil then
    return fail("events", "events must be a non-empty array of event tables")
  end
  for _, name in ipairs({ "source", "framework" }) do
    local ok, err = check_enum(body, name, "")
    if not ok then return nil, err end
  end
  for i = 1, #list do
    local ok, err = check_event(list[i], ("events[%d]."):format(i))
    if not ok then return nil, err end
  end
  for k in pairs(list) do
    if type(k) ~= "number" or k < 1 or k > #list or k % 1 ~= 0 then
      return fail("events", "events must be an array (keys 1..n), not a table with other keys")
    end
  end
  return true
end

--- Fills `agent_id`, `run_id` and `agent_name` into the event, or into each event of a
-- batch that has none of its own. Returns the body to send (events are copied, never
-- changed).
-- @tparam table body one event or a batch
-- @tparam[opt] string agent_id
-- @tparam[opt] string run_id
-- @tparam[opt] string agent_name
function events.attribute(body, agent_id, run_id, agent_name)
  if agent_id == nil and run_id == nil and agent_name == nil then return body end
  local function fill(ev)
    if type(ev) ~= "table" then return ev end
    local copy = {}
    for k, v in pairs(ev) do copy[k] = v end
    if copy.agent_id == nil then copy.agent_id = agent_id end
    if copy.run_id == nil then copy.run_id = run_id end
    if copy.agent_name == nil and copy.agentName == nil then copy.agent_name = agent_name end
    return copy
  end
  if body.events == nil or type(body.events) ~= "table" then return fill(body) end
  local out = {}
  for k, v in pairs(body) do out[k] = v end
  local list = setmetatable({}, core.array_mt)
  for i, ev in ipairs(body.events) do list[i] = fill(ev) end
  out.events = list
  return out
end

return events
