--- Reports that answer questions in one call: what did we spend and on what
-- (`costs`), who is near a budget (`budgets`), which keys sit idle (`idle_keys`), the
-- workspace at a glance (`dashboard`), unusual days (`anomalies`), two periods side by
-- side (`compare`), where the money goes (`drill_down`), idle agents and keys (`idle`),
-- and the budget policy (`budget_policy`, `budget_policy_set`). Each report's doc says
-- how many API calls it makes.
-- Each takes a client and options and returns a plain table (or `nil, err` like any
-- call); nothing is printed. The `alephant report ...` command renders them.
--
--     local reports = require "alephant.reports"
--     local r = assert(reports.costs(client, { from = "2026-11-01", to = "2026-11-27" }))
--     print(r.total, r.change_pct, r.top.agents[1].name)
--
-- Money is in USD (Lua numbers), percentages are 0..100 (`*_pct`), dates are UTC
-- calendar days `YYYY-MM-DD`. Field names of the API vary (docs/api-notes.md#workspace-analytics: `id`
-- or `entityId`, `name` or `label`, `cost` or `totalCost`); every one is read defensively.
--
-- One file per report (`alephant.reports.costs`, `.budgets`, `.idle_keys`), the
-- payload readers they share in `alephant.reports.fields`, days in
-- `alephant.reports.dates`; this module gathers them.
-- @module alephant.reports
local dates = require "alephant.reports.dates"

local reports = {}

--- Spend for a window against the previous one (see `alephant.reports.costs`).
-- @function costs
reports.costs = require "alephant.reports.costs"

--- Virtual keys and entities near their budget (see `alephant.reports.budgets`).
-- @function budgets
reports.budgets = require "alephant.reports.budgets"

--- Active virtual keys with no recent usage (see `alephant.reports.idle_keys`).
-- @function idle_keys
reports.idle_keys = require "alephant.reports.idle_keys"

--- The workspace on one screen: overview, live 24 h, sparklines (see `alephant.reports.dashboard`).
-- @function dashboard
reports.dashboard = require "alephant.reports.dashboard"

--- Days of unusual spend, with severity and drivers (see `alephant.reports.anomalies`).
-- @function anomalies
reports.anomalies = require("alephant.reports.anomalies").report

--- One entity or the workspace over two periods (see `alephant.reports.compare`).
-- @function compare
reports.compare = require "alephant.reports.compare"

--- Departments → members and agents → models (see `alephant.reports.drill_down`).
-- @function drill_down
reports.drill_down = require "alephant.reports.drill_down"

--- Idle agents and idle keys (see `alephant.reports.idle`).
-- @function idle
reports.idle = require "alephant.reports.idle"

--- The budget-control policy (see `alephant.reports.budget_policy`).
-- @function budget_policy
reports.budget_policy = require("alephant.reports.budget_policy").show

--- Changes the budget-control policy, retried on 409 (see `alephant.reports.budget_policy`).
-- @function budget_policy_set
reports.budget_policy_set = require("alephant.reports.budget_policy").set

-- Exposed for the specs and the command line.
reports._date_of, reports._day_of = dates.date_of, dates.day_of

return reports
