-- Proxies and the token: what goes through a proxy and what never does (no server needed).
-- token: none
local alephant = require "alephant"

local key = "vk-example-not-a-real-key"

-- An explicit proxy (else libcurl's https_proxy / all_proxy / no_proxy variables). https
-- goes through it as a CONNECT tunnel: the proxy sees the host and port, not the token.
local client = assert(alephant.new{ token = key, proxy = "http://127.0.0.1:3128" })
print(client)

-- Plain http to another host through a proxy would show the token to the proxy: refused
-- before anything is sent, unless allow_http_through_proxy = true.
local insecure = assert(alephant.new{ token = key, base_url = "http://api.example.com",
  allow_insecure_http = true, proxy = "http://someone:secret@127.0.0.1:3128", max_retries = 0 })
local _, err = insecure.cockpit:scope()
print(err.kind, err.field)
print(err.message) -- names the proxy's host, never its credentials

-- A malformed proxy is a config error when the client is made.
local _, bad = alephant.new{ token = key, proxy = "ftp://proxy.example" }
print(bad.kind, bad.message)

-- proxy = "" turns proxies off, environment included; loopback URLs never use one.
assert(alephant.new{ token = key, proxy = "" })
