-- Bad input is refused before any request: run this anywhere, no network needed.
-- token: none
--   lua5.4 examples/check_inputs.lua
local alephant = require "alephant"

-- An unrecognised token is a config error that names the accepted forms.
local client, err = alephant.new({ token = "sk-not-an-alephant-token" })
assert(client == nil and err.kind == "config")
print(tostring(err))

-- A personal access token is bound to one workspace: its id is required.
client, err = alephant.new({ token = "pat_wsa3f8c2_0123456789abcdef0123456789abcdef" })
assert(client == nil and err.field == "workspace_id")
print(tostring(err))

-- A virtual key works on its own; printing the client never shows the token.
client = assert(alephant.new({ token = "vk-agent-0123456789abcdef3f8a" }))
print(tostring(client), client:token_kind())

-- The same validators the client uses are available directly.
local core = alephant.core
local ok
ok, err = core.validate_date_range("2026-11-27", "2026-11-01", "from", "to")
assert(not ok and err.field == "from")
print(tostring(err))
ok, err = core.validate_exclusive({ agent_id = "a", member_id = "b" }, { "agent_id", "member_id", "department_id" })
assert(not ok)
print(tostring(err))

-- The core's calendar and URL policy, for a script's own values: seconds since the
-- epoch of a date or datetime, and a base URL checked as alephant.new checks it.
print(core.parse_date("2026-11-01"), core.parse_datetime("2026-11-27T08:00:00+01:00"))
assert(core.parse_datetime("2026-11-27T08:00:00+01:00") - core.parse_date("2026-11-27") == 7 * 3600)
ok, err = core.parse_date("2026-02-29", "from")
assert(not ok and err.field == "from")
print(tostring(err))
print(core.check_base_url("https://alephant.io/v1/"))
ok, err = core.check_base_url("http://gateway.example/v1?key=secret", "gateway_url")
assert(not ok and err.kind == "config" and not err.message:find("secret", 1, true))
print(tostring(err))
