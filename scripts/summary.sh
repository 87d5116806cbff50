#!/usr/bin/env bash
# Adds up the "passed failed" lines the suites wrote and prints the closing line.
set -euo pipefail
awk '{ p += $1; f += $2 } END { printf "total: %d passed, %d failed\n", p, f; exit (f > 0) }' "$1"
