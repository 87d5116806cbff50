#!/usr/bin/env bash
# `make demo`: the SDK end to end on this machine, no account needed. Starts the local
# emulator (emulator/), runs the cost report and a few library calls against it with a
# fixture personal access token, and stops the emulator again, also on failure or ^C.
#   scripts/demo.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

env_lines=$(emulator/emulator start --rm-on-exit --watch-pid $$)
eval "$env_lines"
: "${ALEPHANT_EMULATOR_DIR:?the emulator printed no ALEPHANT_EMULATOR_DIR}"
trap 'emulator/emulator stop "$ALEPHANT_EMULATOR_DIR" --rm >/dev/null 2>&1 || true' EXIT
# a missing URL would send the demo to the real service: stop instead
: "${ALEPHANT_API_BASE_URL:?the emulator printed no ALEPHANT_API_BASE_URL}"
: "${ALEPHANT_ANALYTICS_BASE_URL:?the emulator printed no ALEPHANT_ANALYTICS_BASE_URL}"
: "${ALEPHANT_GATEWAY_BASE_URL:?the emulator printed no ALEPHANT_GATEWAY_BASE_URL}"
export ALEPHANT_API_BASE_URL ALEPHANT_ANALYTICS_BASE_URL ALEPHANT_GATEWAY_BASE_URL

# The fixture token goes into the environment, never onto a command line.
unset ALEPHANT_PAT ALEPHANT_VIRTUAL_KEY
ALEPHANT_TOKEN=$(emulator/emulator tokens | sed -n 's/^pat_read=//p')
ALEPHANT_WORKSPACE_ID=$(emulator/emulator ids | sed -n 's/^id_workspace_1=//p')
: "${ALEPHANT_TOKEN:?emulator/emulator tokens printed no pat_read token}"
: "${ALEPHANT_WORKSPACE_ID:?emulator/emulator ids printed no id_workspace_1}"
export ALEPHANT_TOKEN ALEPHANT_WORKSPACE_ID
export LUA_PATH="$root/lua/?.lua;$root/lua/?/init.lua;;"
export LUA_CPATH="$root/$build/lua5.4/?.so;;"

# each command as a user would type it, in bold on a terminal
if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
say() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }

echo "Emulator at $ALEPHANT_API_BASE_URL; ALEPHANT_TOKEN is the fixture PAT pat_read of workspace Acme Robotics."

say "bin/alephant report costs"
lua5.4 bin/alephant report costs

say "bin/alephant report budgets --threshold 50%"
lua5.4 bin/alephant report budgets --threshold 50%

say "bin/alephant analytics models --from $(date -u -d '-6 days' +%F) --to $(date -u +%F) --columns name,cost,requests"
lua5.4 bin/alephant analytics models --from "$(date -u -d '-6 days' +%F)" --to "$(date -u +%F)" \
  --columns name,cost,requests

say "bin/alephant analytics usage --from 2026-02-30 --to 2026-03-01    # refused before any request"
status=0
lua5.4 bin/alephant analytics usage --from 2026-02-30 --to 2026-03-01 || status=$?
echo "(exit status $status: 2 = invalid input, nothing was sent)"

say "lua5.4 examples/demo.lua"
lua5.4 examples/demo.lua

echo
echo "Against the real service: unset the three ALEPHANT_*_BASE_URL variables, export your own"
echo "ALEPHANT_TOKEN (and ALEPHANT_WORKSPACE_ID for a PAT), and run the same commands (README: Try it)."
