-- Bounded pagination: max_pages and max_items on each() and all(). An iterator that
-- would need more pages than max_pages yields false, err (too_large) once; all() with
-- max_items stops there, and without it fails past 100,000 items.
-- token: pat_read
--   ALEPHANT_TOKEN=pat_... ALEPHANT_WORKSPACE_ID=<uuid> lua5.4 examples/pagination_limits.lua
local alephant = require "alephant"

local client = assert(alephant.new())

-- every agent, two per page
local all, err = client.agents:all{ page_size = 2 }
if not all then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
print(("%d agents in all"):format(#all))

-- each() with max_items: stops after that many items, no error
local n = 0
for agent, aerr in client.agents:each({ page_size = 2 }, { max_items = 3 }) do
  assert(agent, tostring(aerr))
  n = n + 1
end
print(("each with max_items = 3: %d agents"):format(n))

-- each() with max_pages: the items of those pages, then false, err when more pages exist
local seen, failure = 0, nil
for agent, aerr in client.agents:each({ page_size = 2 }, { max_pages = 1 }) do
  if agent == false then
    failure = aerr
  else
    seen = seen + 1
  end
end
print(("each with max_pages = 1: %d agents, then %s"):format(seen, failure and tostring(failure) or "the end"))
assert(#all <= 2 or (failure and failure.kind == "too_large"), "more pages than max_pages must be an error")

-- all() with max_items: at most that many, no error
local some = assert(client.agents:all({ page_size = 2 }, { max_items = 3 }))
print(("all with max_items = 3: %d agents"):format(#some))

-- all() with max_pages: nil, err (too_large) when the list needs more pages
local none, perr = client.agents:all({ page_size = 2 }, { max_pages = 1 })
print(("all with max_pages = 1: %s"):format(none and (#none .. " agents") or tostring(perr)))

-- a limit that is not a whole number of at least 1 is a validation error, before any request
local _, verr = client.agents:all({}, { max_items = 0 })
print(("refused (%s): %s"):format(verr.kind, verr.message))
