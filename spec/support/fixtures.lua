-- Made-up credentials and ids for the specs that need no server, shaped like real ones
-- and never real. (The emulator's own are in its fixtures file: emu.tokens, emu.ids.)
return {
  WS = "123e4567-e89b-12d3-a456-426614174000", -- a workspace id
  ID = "9d7c5b3a-1e2f-4a6b-8c9d-0e1f2a3b4c5d", -- any other UUID
  VK = "vk-agent-a3f8c2d1e4b7aaaa3f8a", -- a virtual key
  PAT = "pat_wsa3f8c2_e4b7e4b7e4b7e4b7e4b7", -- a personal access token
}
