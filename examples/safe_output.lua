-- What the client prints is safe to print: slips get a "did you mean", a server that
-- echoes the token shows it redacted, and control sequences from a server are escaped.
-- token: vk_agent
local alephant = require "alephant"

local client = assert(alephant.new{ max_retries = 0 })

-- A mistyped method raises with the closest name (and nothing is sent).
local ok, msg = pcall(function() return client.cockpit:usage_sumary{ period = "7d" } end)
assert(not ok)
print(msg) -- ...: alephant: client.cockpit has no method 'usage_sumary' (did you mean 'usage_summary'?)

-- A virtual key on a route for PATs and JWTs is pointed to the route it may call.
local _, err = client.analytics:usage{ from = "2026-11-01", to = "2026-11-07" }
print(err.instead, tostring(err))

-- A careless server echoing the token (the emulator's `echo` fault): it comes back redacted.
_, err = client.cockpit:scope(nil, { headers = { ["X-Emulator-Fault"] = "401;echo" } })
print(tostring(err))

-- A hostile server sending a terminal title sequence: escaped, so printing it is inert.
_, err = client.cockpit:scope(nil, { headers = { ["X-Emulator-Fault"] = "500;message=%1B]0%3Bowned%07" } })
print(tostring(err))

-- Your own log lines: client:scrub redacts the client's secrets, core.printable escapes
-- control characters (as tostring(err) does).
local line = ("calling with %s: %s"):format(os.getenv("ALEPHANT_TOKEN"), "\27[31mred\27[0m")
print(alephant.core.printable(client:scrub(line)))
