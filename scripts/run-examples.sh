#!/usr/bin/env bash
# Runs every examples/*.lua under Lua 5.4 and LuaJIT against a fresh emulator.
# An example names the fixture token it needs on a line "-- token: NAME" (or
# "-- token: none" when it needs no server); the runner exports it as ALEPHANT_TOKEN,
# with ALEPHANT_WORKSPACE_ID for PATs and JWTs.
#   scripts/run-examples.sh BUILD_DIR RESULTS_FILE
set -euo pipefail
build=$1 results=$2
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

env_lines=$(emulator/emulator start --rm-on-exit --watch-pid $$)
eval "$env_lines"
trap 'emulator/emulator stop "$ALEPHANT_EMULATOR_DIR" --rm >/dev/null 2>&1 || true' EXIT
export ALEPHANT_API_BASE_URL ALEPHANT_ANALYTICS_BASE_URL ALEPHANT_GATEWAY_BASE_URL ALEPHANT_EMULATOR_CA
eval "$(emulator/emulator tokens | sed 's/^/tok_/')"
eval "$(emulator/emulator ids)"

status=0
for ex in examples/*.lua; do
  name=$(sed -n 's/^-- token: *\([a-z0-9_]*\).*/\1/p' "$ex" | head -n 1)
  for lua in lua5.4 luajit; do
    token_var="tok_$name"
    (
      unset ALEPHANT_TOKEN ALEPHANT_PAT ALEPHANT_VIRTUAL_KEY ALEPHANT_WORKSPACE_ID
      if [ -n "$name" ] && [ "$name" != none ]; then
        export ALEPHANT_TOKEN="${!token_var}"
        case "$name" in pat*|jwt*) export ALEPHANT_WORKSPACE_ID="$id_workspace_1" ;; esac
      fi
      LUA_PATH="./lua/?.lua;./lua/?/init.lua;;" LUA_CPATH="$build/$lua/?.so;;" "$lua" "$ex" > "$build/example.out" 2>&1
      scripts/check-secrets.sh "$build/example.out"
    ) && { echo "ok: $lua $ex"; echo "1 0" >> "$results"; } || {
      echo "FAILED: $lua $ex"; cat "$build/example.out"; echo "0 1" >> "$results"; status=1; }
  done
done
exit $status
