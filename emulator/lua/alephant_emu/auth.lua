-- Token kinds and the per-family auth rules (docs/api-notes.md#token-kinds-and-route-families).
local store = require("alephant_emu.store")
local util = require("alephant_emu.util")

local M = {}

-- Bearer token from the Authorization header (scheme is case-insensitive).
function M.bearer(headers)
  local h = headers["authorization"]
  if type(h) == "table" then h = h[1] end
  if type(h) ~= "string" then return nil end
  local tok = h:match("^%s*[Bb][Ee][Aa][Rr][Ee][Rr]%s+(%S+)%s*$")
  return tok
end

function M.cookie_token(headers)
  local c = headers["cookie"]
  if type(c) == "table" then c = table.concat(c, "; ") end
  if type(c) ~= "string" then return nil end
  return c:match("alephant_token=([^;%s]+)")
end

-- Prefix rule: vk- -> virtual key, pat_ -> PAT, anything else -> JWT.
function M.kind(tok)
  if tok:sub(1, 3) == "vk-" then return "vk" end
  if tok:sub(1, 4) == "pat_" then return "pat" end
  return "jwt"
end

local function expired(iso)
  if type(iso) ~= "string" then return false end
  local t = util.parse_iso(iso)
  return t ~= nil and t <= ngx.time()
end
M.expired = expired

-- Validate a token.  Returns ident or nil, message.
-- ident = { kind, token, workspace_id (vk/pat), user_id (pat/jwt), scopes (pat),
--           workspaces (jwt, a set), vk = item, pat = item, jwt = fixture }
function M.identify(tok)
  local kind = M.kind(tok)
  local found = store.lookup_token(tok)
  if kind == "vk" then
    local vk = found and found.kind == "vk" and found.item
    if not vk or vk.status ~= "active" or vk.deleted_at or expired(vk.expires_at)
      or not store.workspace(vk.workspace_id) then
      return nil, "Missing or invalid virtual key"
    end
    return { kind = "vk", token = tok, vk = vk, workspace_id = vk.workspace_id }
  elseif kind == "pat" then
    local pat = found and found.kind == "pat" and found.item
    if not pat then return nil, "Authentication failed" end
    if type(pat.revoked_at) == "string" then return nil, "Token has been revoked" end
    if expired(pat.expires_at) then return nil, "Token has expired" end
    local scopes = {}
    for _, s in ipairs(pat.scopes or {}) do scopes[s] = true end
    return { kind = "pat", token = tok, pat = pat, workspace_id = pat.workspace_id, user_id = pat.user_id,
      scopes = scopes }
  else
    local j = found and found.kind == "jwt" and found.jwt
    if not j then return nil, "Authentication failed" end
    if j.exp <= ngx.time() then return nil, "Token has expired" end
    local set = {}
    for _, w in ipairs(j.workspaces or {}) do set[w] = true end
    return { kind = "jwt", token = tok, jwt = j, user_id = j.sub, workspaces = set }
  end
end

-- scope implication: admin > write > read
function M.has_scope(ident, need)
  if ident.kind ~= "pat" then return true end
  local s = ident.scopes
  if need == "read" then return s.read or s.write or s.admin end
  if need == "write" then return s.write or s.admin end
  return s.admin
end

-- X-Workspace-Id -> uuid or nil, problem ("missing" | "invalid")
function M.workspace_header(headers)
  local w = headers["x-workspace-id"]
  if type(w) == "table" then w = w[1] end
  if w == nil or w == "" then return nil, "missing" end
  w = util.trim(w)
  if not util.is_uuid(w) then return nil, "invalid" end
  return w:lower()
end

-- May this identity act on workspace ws?  Returns true or nil, message.
function M.workspace_allowed(ident, ws)
  if ident.kind == "pat" then
    if ident.workspace_id ~= ws then
      return nil, "PAT is bound to a different workspace than X-Workspace-Id"
    end
  elseif ident.kind == "vk" then
    if ident.workspace_id ~= ws then
      return nil, "Virtual key belongs to a different workspace than X-Workspace-Id"
    end
  else
    if not ident.workspaces[ws] then
      return nil, "You do not have access to this workspace"
    end
  end
  if not store.workspace(ws) then return nil, "Workspace not found or not accessible" end
  return true
end

return M
