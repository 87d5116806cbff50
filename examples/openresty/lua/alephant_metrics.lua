-- Metrics and logs of the SDK's requests in nginx, through the client's observability
-- hook: pass `on_response = metrics.on_response` to `alephant_ngx.new`. Each HTTP
-- attempt (retries included; answers served from the shared budget cache make none)
-- is counted per endpoint and status in a shared dict, with its time, and a failed
-- attempt is logged at `warn` with its request id; `serve()` answers the counts in
-- Prometheus' text format. The hook runs in the request's own phase (the worker thread
-- only does the HTTP), so ngx.log and shared dicts work there.
--
--   lua_shared_dict alephant_metrics 1m;
--   location = /metrics { content_by_lua_block { require("alephant_metrics").serve() } }
local M = { dict = "alephant_metrics" }

--- The `on_response` hook: counts and times one attempt, logs a failed one.
-- @tparam table info endpoint, method, url, attempt, request_id, status, duration, ok, error
function M.on_response(info)
  local dict = ngx.shared[M.dict]
  local outcome = info.status and tostring(info.status) or info.error.kind
  local key = info.endpoint .. "\t" .. outcome
  dict:incr("count\t" .. key, 1, 0)
  dict:incr("seconds\t" .. key, info.duration, 0)
  if not info.ok then
    ngx.log(ngx.WARN, ("alephant: %s %s attempt %d -> %s in %.1f ms (request id %s)"):format(info.method, info.url,
      info.attempt, outcome, info.duration * 1000, info.request_id))
  end
end

--- Answers the counts (content_by_lua), in Prometheus' text exposition format.
function M.serve()
  local dict = ngx.shared[M.dict]
  local lines = {
    "# HELP alephant_requests_total HTTP attempts made by the Alephant SDK.",
    "# TYPE alephant_requests_total counter",
    "# HELP alephant_request_seconds_total Time spent in those attempts.",
    "# TYPE alephant_request_seconds_total counter",
  }
  local keys = dict:get_keys(0)
  table.sort(keys)
  for _, k in ipairs(keys) do
    local what, endpoint, outcome = k:match("^(%a+)\t([^\t]+)\t(.+)$")
    if what then
      local labels = ('{endpoint="%s",status="%s"}'):format(endpoint, outcome)
      if what == "count" then
        lines[#lines + 1] = "alephant_requests_total" .. labels .. " " .. ("%d"):format(dict:get(k) or 0)
      else
        lines[#lines + 1] = "alephant_request_seconds_total" .. labels .. " " .. ("%.6f"):format(dict:get(k) or 0)
      end
    end
  end
  ngx.header["Content-Type"] = "text/plain; version=0.0.4"
  ngx.say(table.concat(lines, "\n"))
end

return M
