#!/usr/bin/env bash
# lua5.4 with the ASan and UBSan runtimes preloaded: lua5.4 itself is not instrumented,
# the alephant module it loads is, and ASan must be the first library of the process.
# ALEPHANT_ASAN_PRELOAD (set by scripts/check-asan.sh) lists the runtimes and the shim
# that keeps them out of child processes. Used as busted's interpreter.
set -euo pipefail
: "${ALEPHANT_ASAN_PRELOAD:?run through scripts/check-asan.sh}"
LD_PRELOAD="$ALEPHANT_ASAN_PRELOAD" exec lua5.4 "$@"
