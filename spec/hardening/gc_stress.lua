-- busted helper (--helper=spec/hardening/gc_stress.lua, scripts/check-valgrind.sh): runs
-- the suite with a garbage collector that never rests, to shake out lifecycle bugs of
-- the C module (a userdata collected while C still uses it, __gc order between a client,
-- its transport and open streams, use after close). ALEPHANT_GC_MODE:
--   incremental   pause 0 (a new cycle starts as soon as one ends) and a huge step
--                 multiplier: every allocation, in C too, advances the collector far
--   generational  Lua 5.4's generational mode with the smallest minor multiplier
-- Both also run a full collection every ALEPHANT_GC_EVERY (default 1000) VM instructions
-- (0: never), in the main thread and in every coroutine (busted runs each test in one).
local mode = os.getenv("ALEPHANT_GC_MODE") or "incremental"
local every = tonumber(os.getenv("ALEPHANT_GC_EVERY") or "1000")

if mode == "generational" then
  assert(_VERSION ~= "Lua 5.1" and _VERSION ~= "Lua 5.2" and _VERSION ~= "Lua 5.3",
    "generational mode needs Lua 5.4")
  collectgarbage("generational", 1, 100)
elseif mode == "incremental" then
  -- Lua 5.4: the mode first, then the parameters one by one: collectgarbage("incremental",
  -- 0, ...) would leave the pause at its default (200), since 0 there means "unchanged"
  if _VERSION == "Lua 5.4" then collectgarbage("incremental") end
  collectgarbage("setpause", 0)
  collectgarbage("setstepmul", 1000)
  assert(collectgarbage("setpause", 0) == 0, "gc stress: the pause did not take")
else
  error("ALEPHANT_GC_MODE must be incremental or generational, got " .. mode)
end

-- a hook set on the main thread is inherited by the coroutines it creates (Lua 5.4);
-- LuaJIT's hooks are global
if every > 0 then debug.sethook(function() collectgarbage("collect") end, "", every) end
print(("# gc stress: %s, full collection every %d instructions (%s)"):format(mode, every,
  rawget(_G, "jit") and rawget(_G, "jit").version or _VERSION))
