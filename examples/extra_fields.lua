-- Fields the catalog does not know, with the call option `extra`: sent verbatim under
-- their wire names, into the JSON body of a POST, PUT or PATCH, or else the query string.
-- A name the endpoint already has is refused before anything is sent, so the catalog's
-- own checks cannot be bypassed by accident.
-- token: pat_write
--   ALEPHANT_TOKEN=pat_... ALEPHANT_WORKSPACE_ID=<uuid> lua5.4 examples/extra_fields.lua
local alephant = require "alephant"

local client = assert(alephant.new())

local function check(v, err)
  if v == nil then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  return v
end

-- A GET: the extra field goes into the query string (percent-encoded by the core).
local agents = check(client.agents:list({ page_size = 3 }, { extra = { sort = "name" } }))
print(("agents.list with sort=name: %d agents"):format(#agents))

-- A POST: the extra field goes into the JSON body, next to the catalog's parameters.
local master = check(client.master_keys:list())[1]
local key = check(client.virtual_keys:create({ label = "extra-example", master_key_id = master.id },
  { extra = { budgetCents = 2500 } }))
print(("virtual key %s created with budgetCents = %s"):format(key.label, tostring(key.budgetCents)))
check(client.virtual_keys:revoke({ id = key.id }))

-- A name the endpoint already has (as a Lua or a wire name) is refused: pass it as a
-- parameter, where it is checked.
local _, err = client.virtual_keys:create({ label = "x", master_key_id = master.id }, { extra = { label = "y" } })
print(("refused (%s): %s"):format(err.kind, err.message))
assert(err.kind == "validation" and err.field == "label", "a parameter's own name must be refused")
