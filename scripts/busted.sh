#!/usr/bin/env bash
# Runs the busted suite under one interpreter against the module built for its ABI,
# shows failures in full, and appends "passed failed" to the results file.
#   scripts/busted.sh lua5.4|luajit BUILD_DIR RESULTS_FILE [busted args...]
# ALEPHANT_BUSTED_LUA runs another command as the interpreter (a sanitizer or valgrind
# wrapper, scripts/check-asan.sh) while BUILD_DIR/<lua> still picks the module's ABI.
set -uo pipefail
lua=$1 build=$2 results=$3
shift 3
# A fresh canary token per run: spec/hardening/canary_spec.lua pushes it through every
# public surface and check-secrets.sh fails the run if it ever shows up in the output.
if [ -z "${ALEPHANT_CANARY_TOKEN:-}" ]; then
  ALEPHANT_CANARY_TOKEN="vk-canary-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
fi
export ALEPHANT_CANARY_TOKEN
out=$(mktemp)
trap 'rm -f "$out"' EXIT
busted --lua="${ALEPHANT_BUSTED_LUA:-$lua}" --cpath="$build/$lua/?.so" -o TAP "$@" > "$out" 2>&1
status=$?
# the suite's output must never hold a test token in clear
"$(dirname "$0")/check-secrets.sh" "$out" || status=1
passed=$(grep -c '^ok ' "$out" || true)
failed=$(grep -c '^not ok ' "$out" || true)
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then
  cat "$out"
  [ "$failed" -eq 0 ] && failed=1   # an error outside any test still fails the run
fi
echo "busted ($lua): $passed passed, $failed failed"
echo "$passed $failed" >> "$results"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
