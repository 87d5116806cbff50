#!/usr/bin/env bash
# Fails when any fixture token (emulator/fixtures.json) appears in the given files:
# test output, example output, CLI output. Tokens must only ever show redacted.
# Also the canary of the run (ALEPHANT_CANARY_TOKEN, set by scripts/busted.sh) and any
# whitespace-separated tokens in ALEPHANT_SECRET_TOKENS.
#   scripts/check-secrets.sh FILE...
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tokens=$(grep -oE '"token": *"[^"]+"' "$root/emulator/fixtures.json" | sed -E 's/.*"([^"]+)"$/\1/')
[ -n "$tokens" ] || { echo "check-secrets: no tokens found in fixtures" >&2; exit 2; }
for t in ${ALEPHANT_CANARY_TOKEN:-} ${ALEPHANT_SECRET_TOKENS:-}; do tokens+=$'\n'"$t"; done
leaks=0
for f in "$@"; do
  if grep -F -q -f <(printf '%s\n' "$tokens") "$f"; then
    echo "check-secrets: a test token appears in $f:" >&2
    grep -n -F -f <(printf '%s\n' "$tokens") "$f" | cut -c1-200 >&2
    leaks=1
  fi
done
exit $leaks
