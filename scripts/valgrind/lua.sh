#!/usr/bin/env bash
# An interpreter under valgrind's memcheck, for busted's --lua (scripts/check-valgrind.sh).
# Only this process is traced: the emulator, nginx and shells it starts are not.
# ALEPHANT_VALGRIND_LUA: the interpreter (default lua5.4); ALEPHANT_VALGRIND_LOG: where
# the reports go (%p is the pid).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec valgrind --tool=memcheck --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,indirect \
  --errors-for-leak-kinds=definite --track-origins=yes --num-callers=30 \
  --suppressions="$here/lua.supp" --gen-suppressions=all --child-silent-after-fork=yes \
  --log-file="${ALEPHANT_VALGRIND_LOG:-/dev/stderr}" \
  "${ALEPHANT_VALGRIND_LUA:-lua5.4}" "$@"
