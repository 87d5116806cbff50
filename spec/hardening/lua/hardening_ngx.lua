-- Handlers of the nginx that spec/hardening/concurrency_spec.lua starts.
--   /calls?i=N   three SDK calls (gateway.chat, cockpit.budget_status, collector.usage)
--                with a new alephant.ngx client whose requests run in worker threads
--   /thread?i=N  one request made inside a worker thread by hardening_vm (which loads
--                alephant.core in that thread's VM) and the VM's identity
-- The virtual key comes from the Authorization header, URLs from the environment.
local alephant_ngx = require "alephant.ngx"
local core = require "alephant.core"

local ngx = ngx -- luacheck: ignore 113

local M = {}

local function token()
  return (ngx.var.http_authorization or ""):match("^Bearer (.+)$")
end

local function answer(t)
  ngx.header["Content-Type"] = "application/json"
  ngx.say(core.json_encode(t))
end

function M.calls()
  local i = tonumber(ngx.var.arg_i)
  local out = { i = i, pid = ngx.worker.pid() }
  local client, err = alephant_ngx.new({ token = token(), shared_dict = "alephant", max_retries = 0, timeout = 30 })
  if not client then
    out.err = tostring(err)
    return answer(out)
  end
  local reply, cerr = client.gateway:chat({ model = "openai/gpt-4o-mini",
    messages = { { role = "user", content = "call " .. i } } })
  out.reply = reply and reply.choices[1].message.content
  out.chat_err = cerr and tostring(cerr)
  local budget, berr = client.cockpit:budget_status({ period = "30d" })
  out.budget_ok = type(budget) == "table" and type(budget.virtual_key_budget) == "table" or nil
  out.budget_err = berr and tostring(berr)
  local today = os.date("!%Y-%m-%d")
  local usage, uerr = client.collector:usage({ from = today, to = today })
  out.usage_ok = type(usage) == "table" or nil
  out.usage_err = uerr and tostring(uerr)
  out.workspace = (client:context() or {}).workspace_id
  client:close()
  answer(out)
end

function M.thread()
  local i = tonumber(ngx.var.arg_i)
  local url = os.getenv("ALEPHANT_API_BASE_URL") .. "/api/v1/cockpit/scope"
  local ok, vm, status, err, workspace
  -- every VM of the pool busy: wait for one, as alephant.ngx does
  local delay, waited = 0.002, 0
  repeat
    ok, vm, status, err, workspace = ngx.run_worker_thread("alephant", "hardening_vm", "scope", url, token())
    local busy = not ok and tostring(vm):find("no available Lua vm", 1, true)
    if busy then
      ngx.sleep(delay)
      waited = waited + delay
      delay = math.min(delay * 2, 0.05)
    end
  until not busy or waited > 60
  answer({ i = i, pid = ngx.worker.pid(), ok = ok, vm = ok and vm or nil, status = status,
    err = (not ok and tostring(vm)) or err, workspace = workspace })
end

return M
