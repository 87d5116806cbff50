#!/usr/bin/env bash
# Builds every fuzz/fuzz_*.c harness with clang's libFuzzer (+ASan +UBSan) against
# the C core and runs each for SECONDS, from the seed corpus in fuzz/corpus/<name>
# (and fuzz/<name>.dict when present). Prints executions per harness; a crash fails.
#   scripts/fuzz.sh SECONDS [RESULTS_FILE] [harness...]
set -euo pipefail
seconds=$1 results=${2:-/dev/null}
shift 2 || shift $#
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/build-fuzz"
mkdir -p "$out"
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  for f in "$root"/fuzz/fuzz_*.c; do n=$(basename "$f" .c); harnesses+=("${n#fuzz_}"); done
fi
status=0
for h in "${harnesses[@]}"; do
  clang -g -O1 -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root/src/core" "$root/fuzz/fuzz_$h.c" "$root"/src/core/*.c -lm -o "$out/fuzz_$h"
  mkdir -p "$out/corpus-$h"
  dict=()
  [ -f "$root/fuzz/$h.dict" ] && dict=(-dict="$root/fuzz/$h.dict")
  log="$out/fuzz_$h.log"
  max_len=4096
  [ "$h" = token ] && max_len=20000 # tokens are accepted up to 16 KB (AL_TOKEN_MAX_LEN)
  if (cd "$out" && "./fuzz_$h" -max_total_time="$seconds" -max_len="$max_len" "${dict[@]}" \
        "corpus-$h" "$root/fuzz/corpus/$h") > "$log" 2>&1; then
    runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log")
    echo "fuzz $h: ${runs:-?} executions in ${seconds}s, no findings"
    echo "1 0" >> "$results"
  else
    echo "fuzz $h: FINDING (crash input in $out, log $log)"
    grep -E "ERROR|runtime error|REQUIRE" "$log" | head -5
    echo "0 1" >> "$results"
    status=1
  fi
done
exit $status
