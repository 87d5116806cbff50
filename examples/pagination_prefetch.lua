-- Prefetching pages: a loop that makes a call per item, with `prefetch = true`, so that
-- the request for the next page is already at the server while the body works on this
-- one; then the same loop without it. The items are the same; the on_request hook shows
-- when each page was sent (before the loop body got the previous page's first item).
-- token: pat_read
--   ALEPHANT_TOKEN=pat_... ALEPHANT_WORKSPACE_ID=<uuid> lua5.4 examples/pagination_prefetch.lua
local alephant = require "alephant"
local core = require "alephant.core"

local log = {}
local client = assert(alephant.new{
  on_request = function(info)
    if info.endpoint == "agents.list" then log[#log + 1] = "send page " .. info.url:match("[?&]page=(%d+)") end
  end,
})

local now = os.time()
local from, to = os.date("!%Y-%m-%d", now - 6 * 86400), os.date("!%Y-%m-%d", now)

-- the work per item: another call
local function usage_of(agent)
  local usage = client.analytics:usage{ from = from, to = to, agent_id = agent.id }
  return usage and "usage ok" or "no usage"
end

local function walk(prefetch)
  local names = {}
  local t0 = core.monotonic()
  for agent, err in client.agents:each({ page_size = 2 }, { prefetch = prefetch }) do
    if not agent then
      io.stderr:write(tostring(err), "\n")
      os.exit(1)
    end
    log[#log + 1] = ("  %s: %s"):format(agent.name or agent.id, usage_of(agent))
    names[#names + 1] = agent.id
  end
  return names, core.monotonic() - t0
end

local with, with_s = walk(true)
print("with prefetch:")
print(table.concat(log, "\n"))
log = {}
local without, without_s = walk(false)
assert(#with == #without, "the same items either way")
for i = 1, #with do assert(with[i] == without[i], "the same items in the same order") end
print("without prefetch:")
print(table.concat(log, "\n"))
-- times depend on the server: against the emulator both are a few milliseconds
print(("%d agents: %.0f ms with prefetch, %.0f ms without"):format(#with, with_s * 1000, without_s * 1000))
