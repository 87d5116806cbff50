#!/usr/bin/env bash
# make check-valgrind: memory checks that need no sanitizer build.
#  1. memcheck (valgrind) over lua5.4 with BUILD_DIR/lua5.4/alephant/core.so:
#     - scripts/valgrind/driver.lua, every capability once against the emulator (the whole
#       busted suite takes 10 to 20 minutes under memcheck, and its timing assertions can
#       fail there on a busy machine);
#     - the driver again under an aggressive garbage collector (spec/hardening/gc_stress.lua
#       through LUA_INIT), incremental and generational;
#     - the specs without timing assertions (spec/core spec/json spec/catalog and the
#       canary and injection specs; ALEPHANT_VALGRIND_SPECS="spec" runs them all).
#     Each must end with 0 errors (no invalid read or write, no uninitialised use) and
#     0 bytes definitely lost; suppressions (scripts/valgrind/lua.supp) only cover host
#     globals. The summary numbers are printed.
#  2. the whole busted suite under the aggressive collector (incremental, pause 0, a full
#     collection every 1000 instructions) with lua5.4 and with luajit, to shake out __gc
#     order and use after close.
# About 10 minutes on two cores; every stage prints its time.
#   scripts/check-valgrind.sh [BUILD_DIR] [RESULTS_FILE]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${1:-build} results=${2:-/dev/null}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
export LUA_PATH="./lua/?.lua;./lua/?/init.lua;./?.lua;;"
status=0

# Prints the memcheck summary of one run and fails on errors or definite leaks.
summarize() {
  local name=$1 log
  log=$(ls -S "$logs/$name".*.log 2>/dev/null | head -1)
  if [ -z "$log" ]; then echo "valgrind $name: no log"; return 1; fi
  local errors definite indirect
  errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$log" | tail -1)
  definite=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -1)
  indirect=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -1)
  echo "valgrind $name: ${errors:-?} errors, definitely lost ${definite:-0} bytes, indirectly lost ${indirect:-0} bytes"
  if [ "${errors:-x}" != 0 ] || [ "${definite:-0}" != 0 ]; then
    sed -n '/^==[0-9]*== [A-Z]/,$p' "$log" | head -80
    return 1
  fi
}

# driver: plain, then under the aggressive collector
for mode in plain incremental generational; do
  SECONDS=0
  name=driver-$mode
  env=()
  [ "$mode" = plain ] || env=(LUA_INIT="@$root/spec/hardening/gc_stress.lua" ALEPHANT_GC_MODE="$mode")
  if env "${env[@]}" ALEPHANT_VALGRIND_LOG="$logs/$name.%p.log" LUA_CPATH="$build/lua5.4/?.so;;" \
      scripts/valgrind/lua.sh scripts/valgrind/driver.lua > "$logs/$name.out" 2>&1 && summarize "$name"; then
    echo "  $(tail -1 "$logs/$name.out") (${SECONDS}s)"
    echo "1 0" >> "$results"
  else
    cat "$logs/$name.out"
    summarize "$name" || true
    echo "0 1" >> "$results"
    status=1
  fi
done

# the specs that assert no timing, under memcheck
SECONDS=0
read -r -a specs <<< "${ALEPHANT_VALGRIND_SPECS:-spec/core spec/json spec/catalog spec/hardening/canary_spec.lua \
spec/hardening/injection_spec.lua spec/hardening/proxy_gc_spec.lua}"
if ALEPHANT_BUSTED_LUA="$root/scripts/valgrind/lua.sh" ALEPHANT_VALGRIND_LOG="$logs/specs.%p.log" \
    scripts/busted.sh lua5.4 "$build" "$results" "${specs[@]}" && summarize specs; then
  echo "  (${specs[*]} under memcheck, ${SECONDS}s)"
else
  summarize specs || true
  status=1
fi

# the whole suite under the aggressive collector
for lua in lua5.4 luajit; do
  SECONDS=0
  ALEPHANT_GC_MODE=incremental scripts/busted.sh "$lua" "$build" "$results" --helper=spec/hardening/gc_stress.lua \
    spec || status=1
  echo "  (gc stress: the whole suite under $lua with the incremental collector at pause 0, ${SECONDS}s)"
done
exit $status
