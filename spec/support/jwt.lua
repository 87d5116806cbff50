-- Builds unsigned-looking JWTs for specs: header.payload.signature in base64url.
local jwt = {}

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

function jwt.b64url(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = 2 + (b and 1 or 0) + (c and 1 or 0)
    for k = 1, chars do
      local shift = 18 - 6 * (k - 1)
      local idx = math.floor(n / 2 ^ shift) % 64
      out[#out + 1] = alphabet:sub(idx + 1, idx + 1)
    end
  end
  return table.concat(out)
end

-- payload_json is the literal JSON text of the claims.
function jwt.make(payload_json)
  return jwt.b64url('{"alg":"HS256","typ":"JWT"}') .. "." .. jwt.b64url(payload_json) .. "." .. jwt.b64url("sig")
end

return jwt
