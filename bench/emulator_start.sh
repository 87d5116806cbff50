#!/usr/bin/env bash
# How long `emulator/emulator start` takes until it answers (issue 4's "under two
# seconds"), and `stop`: RUNS starts, median and spread. A benchmark: never fails.
#   bench/emulator_start.sh [RUNS]
set -euo pipefail
runs=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
now() { date +%s.%N; }
starts=() stops=()
for _ in $(seq "$runs"); do
  t0=$(now)
  out=$("$root/emulator/emulator" start --rm-on-exit --watch-pid $$)
  t1=$(now)
  dir=$(printf '%s\n' "$out" | sed -n 's/^export ALEPHANT_EMULATOR_DIR=//p')
  eval "dir=$dir"
  "$root/emulator/emulator" stop "$dir" --rm >/dev/null
  t2=$(now)
  starts+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
  stops+=("$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')")
done
summary() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "median %.3f s (min %.3f, max %.3f, %d runs)", v[int((NR + 1) / 2)], v[1], v[NR], NR }'; }
echo "emulator start: $(summary "${starts[@]}")"
echo "emulator stop:  $(summary "${stops[@]}")"
