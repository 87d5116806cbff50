#!/usr/bin/env bash
# Runs the busted suite under one interpreter against the module built for its ABI,
# shows failures in full, and appends "passed failed" to the results file.
#   scripts/busted.sh lua5.4|luajit BUILD_DIR RESULTS_FILE [busted args...]
set -uo pipefail
lua=$1 build=$2 results=$3
shift 3
out=$(mktemp)
trap 'rm -f "$out"' EXIT
busted --lua="$lua" --cpath="$build/$lua/?.so" -o TAP "$@" > "$out" 2>&1
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
