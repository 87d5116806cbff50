#!/usr/bin/env bash
# make check-asan: the C core and the Lua module built with AddressSanitizer and
# UndefinedBehaviorSanitizer (cmake -DALEPHANT_SANITIZE=ON), the C unit tests, then the
# whole busted suite under lua5.4 loading BUILD_DIR/lua5.4/alephant/core.so. Passes only
# with zero reports: every sanitizer halts on its first error, and the report files
# (log_path) are counted as well, so a report cannot hide behind an exit status.
#   scripts/check-asan.sh [BUILD_DIR] [RESULTS_FILE] [busted args...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build-asan} results=${2:-/dev/null}
shift 2 || shift $#
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(spec)

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DALEPHANT_SANITIZE=ON -DALEPHANT_WERROR=ON >/dev/null
cmake --build "$build" -j"${JOBS:-2}" >/dev/null
ctest --test-dir "$build" --output-on-failure | tail -3

# lua5.4 is not instrumented: the runtimes are preloaded into it (scripts/asan/lua.sh),
# and a shim takes LD_PRELOAD out of its environment again so that the emulator's
# bash, nginx and openssl, started from the specs, run without them.
gcc -std=c99 -Wall -Wextra -Werror -shared -fPIC -O1 -o "$build/drop_preload.so" scripts/asan/drop_preload.c
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
export ALEPHANT_ASAN_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so) $root/$build/drop_preload.so"
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1:log_path=$reports/asan"
export LSAN_OPTIONS="suppressions=$root/scripts/asan/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
status=0
ALEPHANT_BUSTED_LUA="$root/scripts/asan/lua.sh" scripts/busted.sh lua5.4 "$build" "$results" "${specs[@]}" || status=1

n=$(find "$reports" -type f | wc -l)
if [ "$n" -ne 0 ]; then
  echo "check-asan: $n sanitizer report(s):"
  for f in "$reports"/*; do echo "== $f"; head -60 "$f"; done
  status=1
fi
echo "check-asan: C unit tests and busted (lua5.4) under ASan+UBSan: $n reports"
exit $status
