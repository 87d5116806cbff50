--- A cache shared by all nginx workers: values live in a `lua_shared_dict` (as JSON, with
-- the dict's own expiry) behind a small per-worker LRU, and a lock in the same dict
-- lets one request per key fetch while the others wait for its answer.
-- Used by `alephant.ngx` for virtual-key contexts and `cockpit.budget_status` answers.
-- @module alephant.ngx.cache
local core = require "alephant.core"
local errors = require "alephant.errors"

local ngx = ngx -- luacheck: ignore 113 (the host's API table, only inside nginx)

local M = {}

--- Entries kept per worker in front of the shared dict.
M.lru_size = 1000

local Cache = {}
Cache.__index = Cache

-- One cache per dict per worker, so that clients made per request share the LRU.
local caches = {}

--- The cache over the shared dict `name` (one object per worker and dict).
-- @tparam string name a `lua_shared_dict` name
-- @return the cache, or nil and a `config` error when nginx.conf does not declare the dict
function M.new(name)
  if caches[name] then return caches[name] end
  local dict = ngx.shared[name]
  if not dict then
    return nil, errors.new("config", ("alephant.ngx: lua_shared_dict '%s' is not declared: add "
      .. "`lua_shared_dict %s 1m;` to the http block of nginx.conf"):format(name, name), { field = "shared_dict" })
  end
  -- loaded here, not at require time: resty.lrucache needs nginx's `ngx` table
  local lru = assert(require("resty.lrucache").new(M.lru_size))
  local c = setmetatable({ name = name, dict = dict, lru = lru, seq = 0 }, Cache)
  caches[name] = c
  return c
end

--- The value stored under `key`, or nil when absent or expired.
function Cache:get(key)
  local v = self.lru:get(key)
  if v ~= nil then return v end
  local s = self.dict:get(key)
  if type(s) ~= "string" then return nil end
  local entry = core.json_decode(s)
  if type(entry) ~= "table" or type(entry.expires_at) ~= "number" then return nil end
  local ttl = entry.expires_at - ngx.now()
  if ttl <= 0 or entry.value == nil then return nil end
  self.lru:set(key, entry.value, ttl)
  return entry.value
end

--- Stores `value` (plain data) for `ttl` seconds in the dict and this worker's LRU.
-- A full dict evicts its oldest entries; a value that cannot be stored is only kept
-- in the LRU (the cache is an optimisation, never a reason to fail a call).
function Cache:set(key, value, ttl)
  if ttl <= 0 or ttl ~= ttl then return false end
  local s = core.json_encode({ value = value, expires_at = ngx.now() + ttl })
  if s then self.dict:set(key, s, ttl) end
  self.lru:set(key, value, ttl)
  return true
end

--- Removes `key` from the dict and this worker's LRU.
function Cache:delete(key)
  self.dict:delete(key)
  self.lru:delete(key)
end

--- The value under `key`; when absent, either a lock to go and fetch it, or (while
-- another request holds the lock) the value that request stores, waiting at most
-- `wait` seconds (polling with `ngx.sleep`; 0 when the phase cannot sleep).
-- @return value; or nil and a lock handle (pass it to `release`); or nil, nil when the
--   wait ran out (the caller fetches without a lock)
function Cache:acquire(key, wait)
  local v = self:get(key)
  if v ~= nil then return v end
  local lock_key = key .. ":lock"
  self.seq = self.seq + 1
  local handle = ngx.worker.pid() .. ":" .. self.seq
  -- the lock expires by itself, so a request that dies while holding it blocks nobody for long
  local lock_ttl = wait > 0 and wait or 1
  local deadline = ngx.now() + wait
  local delay = 0.002
  while true do
    if self.dict:add(lock_key, handle, lock_ttl) then
      -- the holder before us (another worker) may have stored the value and let go
      -- between our look and our add: then there is nothing to fetch
      v = self:get(key)
      if v == nil then return nil, handle end
      self:release(key, handle)
      return v
    end
    if wait <= 0 or ngx.now() >= deadline then return nil, nil end
    ngx.sleep(delay)
    delay = math.min(delay * 2, 0.02)
    v = self:get(key)
    if v ~= nil then return v end
  end
end

--- Releases a lock taken by `acquire` (only if it is still the caller's).
function Cache:release(key, handle)
  if handle == nil then return end
  local lock_key = key .. ":lock"
  if self.dict:get(lock_key) == handle then self.dict:delete(lock_key) end
end

return M
