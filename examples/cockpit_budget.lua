-- A virtual key looks at its own spend and budget (Cockpit API).
-- token: vk_agent
--   ALEPHANT_TOKEN=vk-... lua5.4 examples/cockpit_budget.lua
local alephant = require "alephant"

local client = assert(alephant.new())

-- Which workspace, key and entity is this key bound to?
local scope = assert(client.cockpit:scope())
print(("workspace %s, key %s"):format(scope.workspace.name or scope.workspace.id, scope.virtual_key.label or "?"))
if scope.entity then print(("bound to %s %s"):format(scope.entity.type, scope.entity.name or scope.entity.id)) end

-- Budget for the last 30 days; a degraded answer is still an answer, flagged in meta.
local budget, err, meta = client.cockpit:budget_status{ period = "30d" }
if not budget then
  io.stderr:write(tostring(err), "\n")
  os.exit(1)
end
local vk = budget.virtual_key_budget or {}
print(("spent %s of %s cents (%s%%)%s"):format(tostring(vk.spent_cents), tostring(vk.budget_cents),
  tostring(vk.usage_pct), meta.degraded and " [degraded]" or ""))

-- Cost per model in the billing cycle.
local models = assert(client.cockpit:cost_by_model{ period = "billing_cycle" })
for _, m in ipairs(models.data or {}) do
  print(("  %-28s %8d cents  %5.1f%%"):format(m.model, m.cost_cents, m.pct))
end
