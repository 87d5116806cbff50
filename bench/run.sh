#!/usr/bin/env bash
# The benchmark (`make bench`): the SDK against a raw libcurl loop, LuaSocket + cjson and
# wrk, against one local nginx location serving a fixed analytics.usage answer (also with
# 1 ms of server time, and over TLS against LuaSec); where the SDK's time goes; the C
# core's prepare rate and instruction count; the SDK's memory over many calls; and nginx
# under SDK traffic (bench/ngx_bench.lua, the OpenResty integration's benchmark).
# Prints one table and writes it, with the machine's description, to OUT
# (default bench/RESULTS.md).
#
#   bench/run.sh [--runs N] [--calls N] [--batch-calls N] [--delayed-calls N] [--tls-calls N] [--luasec-calls N]
#                [--memory N1,N2] [--clients N] [--wrk-seconds S] [--prepare-seconds S]
#                [--ngx-seconds S] [--out FILE] [--smoke [--results FILE]]
#
# --smoke: 1 run, 200 calls each, short stretches, output to .tmp/bench-smoke.md; it
# checks that every variant runs and has its row (no goals are checked) and appends
# "1 0" (or "0 1") to --results, the `make test` tally. A benchmark never fails on
# its numbers.
#
# The module is built with CMAKE_BUILD_TYPE=Release (what the rock installs) into
# BENCH_BUILD (default .tmp/bench-build), never into the shared build/ tree.
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"

runs=5 batch_calls=50 calls=5000 delayed_calls=1000 tls_calls=2000 luasec_calls=200 mem=1000,100000 clients=5000 wrk_seconds=3 prepare_seconds=0.5 instr_calls=5000
net_instr_calls=500
ngx_seconds=5 instr_cases="typical logs_all request_logs_all" instr_paths="lua5.4 luajit c"
out="$root/bench/RESULTS.md" results="" smoke=""
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --calls) calls=$2; shift 2 ;;
    --batch-calls) batch_calls=$2; shift 2 ;;
    --delayed-calls) delayed_calls=$2; shift 2 ;;
    --tls-calls) tls_calls=$2; shift 2 ;;
    --luasec-calls) luasec_calls=$2; shift 2 ;;
    --memory) mem=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --wrk-seconds) wrk_seconds=$2; shift 2 ;;
    --prepare-seconds) prepare_seconds=$2; shift 2 ;;
    --ngx-seconds) ngx_seconds=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --smoke) smoke=1 runs=1 batch_calls=20 calls=200 delayed_calls=50 tls_calls=50 luasec_calls=10 mem=100,200 clients=200 wrk_seconds=1 prepare_seconds=0.05
             instr_calls=200 net_instr_calls=20 ngx_seconds=1 instr_cases=typical instr_paths="lua5.4 c"
             out="$root/.tmp/bench-smoke.md"; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench: unknown option $1" >&2; exit 2 ;;
  esac
done
mem1=${mem%,*} mem2=${mem#*,}
build=${BENCH_BUILD:-$root/.tmp/bench-build}
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

for tool in gcc cmake pkg-config curl wrk valgrind openssl lua5.4 luajit "$nginx_bin"; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (run make setup)" >&2; exit 1; }
done

# Another job's load skews every number: show it before anything runs.
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: load average at start: $load_start ($(nproc) cores)"

work=$(mktemp -d "${TMPDIR:-/tmp}/alephant-bench.XXXXXX")
raw="$work/raw.txt"
: > "$raw"
master=""

# Stops our nginx (the master whose pid file is in $work, nothing else) and removes $work.
cleanup() {
  local rc=$? i
  if [ -z "$master" ] && [ -s "$work/nginx.pid" ]; then master=$(cat "$work/nginx.pid"); fi
  if [ -n "$master" ] && kill -0 "$master" 2>/dev/null; then
    kill -QUIT "$master" 2>/dev/null || true
    for i in $(seq 1 150); do kill -0 "$master" 2>/dev/null || break; sleep 0.02; done
    kill -KILL "$master" 2>/dev/null || true
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- build: the module (Release), the C programs ----------------------------------
echo "bench: building the module (Release) in ${build#"$root"/}"
[ -f "$build/CMakeCache.txt" ] ||
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DALEPHANT_TESTS=OFF >/dev/null
cmake --build "$build" -j2 >/dev/null
cflags=(-O2 -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror)
# shellcheck disable=SC2046
gcc "${cflags[@]}" "$root/bench/curl_calls.c" $(pkg-config --cflags --libs libcurl) -o "$work/curl_calls"
gcc "${cflags[@]}" -I"$root/src/core" "$root/bench/prepare_core.c" "$root"/src/core/*.c -lm -o "$work/prepare_core"
# the floor under any decoder (bench/tables_floor.c), a Lua module for each ABI; built as
# the module is (CMakeLists.txt: -fno-plt where the compiler has it), so that the floor
# pays for a C-API call what the decoder pays
modflags=(-fPIC -shared)
gcc -fno-plt -E -x c /dev/null >/dev/null 2>&1 && modflags+=(-fno-plt)
for lua in lua5.4 luajit; do
  mkdir -p "$work/$lua"
  # shellcheck disable=SC2046
  gcc "${cflags[@]}" "${modflags[@]}" $(pkg-config --cflags "$lua") "$root/bench/tables_floor.c" \
    -o "$work/$lua/tables_floor.so"
  # the floor under prepare's request table (bench/prepare_floor.c)
  # shellcheck disable=SC2046
  gcc "${cflags[@]}" "${modflags[@]}" $(pkg-config --cflags "$lua") "$root/bench/prepare_floor.c" \
    -o "$work/$lua/prepare_floor.so"
done

# `with_lua INTERPRETER cmd...`: runs cmd with lua/ and the module built for that ABI
with_lua() {
  local lua=$1
  shift
  LUA_PATH="$root/lua/?.lua;$root/lua/?/init.lua;;" LUA_CPATH="$build/$lua/?.so;$work/$lua/?.so;;" "$@"
}

# ---- nginx: a temp prefix on a free 127.0.0.1 port --------------------------------
port_in_use() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# the Lua module (for the delayed location) as Debian installs it, or compiled in
modules=""
for d in /usr/share/nginx/modules /usr/lib/nginx/modules; do
  if [ -f "$d/ngx_http_lua_module.so" ]; then
    [ -f "$d/ndk_http_module.so" ] && modules="load_module \"$d/ndk_http_module.so\";"
    modules="$modules load_module \"$d/ngx_http_lua_module.so\";"
    break
  fi
done
[ -n "$modules" ] || "$nginx_bin" -V 2>&1 | grep -q lua ||
  { echo "bench: the nginx Lua module is missing (run make setup)" >&2; exit 1; }

mkdir -p "$work/tmp"
cp "$root/bench/usage_body.json" "$work/usage_body.json"
# a CA for this run and a certificate for 127.0.0.1 signed by it (as the emulator makes them)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$work/ca.key" \
  -out "$work/ca.pem" -days 2 -subj "/CN=alephant bench CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" >/dev/null 2>&1
openssl req -x509 -CA "$work/ca.pem" -CAkey "$work/ca.key" -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
  -nodes -keyout "$work/server.key" -out "$work/server.pem" -days 2 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -addext "basicConstraints=critical,CA:FALSE" \
  -addext "extendedKeyUsage=serverAuth" >/dev/null 2>&1
user_line=""
[ "$(id -u)" = 0 ] && user_line="user root root;" # workers must read the temp prefix
port=""
for attempt in $(seq 1 20); do
  p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 12000 ))
  t=$(( p + 1 )) h2=$(( p + 2 ))
  port_in_use "$p" && continue
  port_in_use "$t" && continue
  port_in_use "$h2" && continue
  conf=$(<"$root/bench/nginx.conf.in")
  conf=${conf//@USER_LINE@/$user_line}
  conf=${conf//@MODULES@/$modules}
  conf=${conf//@DIR@/$work}
  conf=${conf//@PORT@/$p}
  conf=${conf//@TLS_PORT@/$t}
  conf=${conf//@H2_PORT@/$h2}
  printf '%s\n' "$conf" > "$work/nginx.conf"
  if "$nginx_bin" -p "$work" -c "$work/nginx.conf" -e "$work/error.log" >"$work/start.log" 2>&1; then
    port=$p
    break
  fi
  grep -q "Address already in use" "$work/start.log" || { cat "$work/start.log" >&2; exit 1; }
done
[ -n "$port" ] || { echo "bench: no free port for nginx after $attempt attempts" >&2; exit 1; }
base="http://127.0.0.1:$port"
query="dateFrom=2026-10-29&dateTo=2026-11-27"
url="$base/api/v1/analytics/usage?$query"
delayed_url="$base/delayed/api/v1/analytics/usage?$query"
tls_base="https://127.0.0.1:$((port + 1))"
tls_url="$tls_base/api/v1/analytics/usage?$query"
for i in $(seq 1 250); do
  [ -s "$work/nginx.pid" ] && curl -sf -o /dev/null "$url" && break
  sleep 0.02
done
master=$(cat "$work/nginx.pid")
for u in "$url" "$delayed_url" "$tls_url"; do
  curl -sf --cacert "$work/ca.pem" -o /dev/null "$u" || { echo "bench: nginx does not answer $u" >&2; exit 1; }
done
echo "bench: nginx $master on 127.0.0.1:$port, runs=$runs calls=$calls"

# A made-up PAT and workspace id: the location answers every request the same way.
# BENCH_CAFILE: the run's CA, which every TLS client verifies the server against.
export BENCH_TOKEN=pat_bench0000_00000000000000000000
export BENCH_WORKSPACE=123e4567-e89b-12d3-a456-426614174000
export BENCH_CAFILE="$work/ca.pem"

record() { echo "$*" >> "$raw"; }

# Runs one networked variant: the command prints "calls=N seconds=S"; the access log
# tells how many requests arrived and on how many TCP connections.
log_lines() { wc -l < "$work/access.log"; }
count_conns() { # before after -> distinct connection numbers in those log lines
  tail -n +"$(($1 + 1))" "$work/access.log" | head -n "$(($2 - $1))" | cut -d' ' -f1 | sort -u | wc -l
}
net_run() { # variant run command...
  local variant=$1 run=$2 before after res n secs i
  shift 2
  before=$(log_lines)
  res=$("$@") || { echo "bench: $variant failed" >&2; exit 1; }
  n=$(sed -n 's/.*calls=\([0-9]*\).*/\1/p' <<<"$res")
  secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$res")
  [ -n "$n" ] && [ -n "$secs" ] || { echo "bench: $variant printed no figure: $res" >&2; exit 1; }
  for i in $(seq 1 50); do # nginx logs right after answering; wait for the last line
    after=$(log_lines)
    [ $((after - before)) -ge "$n" ] && break
    sleep 0.02
  done
  record calls "$variant" "$run" "$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')" \
    "conns=$(count_conns "$before" "$after")" "requests=$((after - before))"
}

wrk_run() { # run
  local before after res rate
  before=$(log_lines)
  res=$(wrk -t1 -c1 -d"${wrk_seconds}s" -H "Accept: application/json" -H "Authorization: Bearer $BENCH_TOKEN" \
    -H "X-Workspace-Id: $BENCH_WORKSPACE" "$url")
  rate=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$res")
  [ -n "$rate" ] || { echo "bench: wrk printed no rate: $res" >&2; exit 1; }
  sleep 0.05
  after=$(log_lines)
  record calls wrk "$1" "$rate" "conns=$(count_conns "$before" "$after")" "requests=$((after - before))"
}


# ---- 1. sequential calls over one connection (variants interleaved per run) --------
echo "bench: 1. sequential calls ($calls per variant and run) [${SECONDS}s]"
for r in $(seq 1 "$runs"); do
  for lua in lua5.4 luajit; do
    net_run "sdk_$lua" "$r" with_lua "$lua" "$lua" bench/sdk_calls.lua calls "$base" "$calls"
  done
  net_run libcurl "$r" "$work/curl_calls" "$url" "$calls"
  for lua in lua5.4 luajit; do
    net_run "luasocket_$lua" "$r" "$lua" bench/luasocket_calls.lua "$url" "$calls"
  done
  wrk_run "$r"
  # where the SDK's time goes: its transport alone, and its CPU without the network
  for lua in lua5.4 luajit; do
    net_run "transport_$lua" "$r" with_lua "$lua" "$lua" bench/transport_calls.lua "$url" "$calls"
    net_run "floor_$lua" "$r" with_lua "$lua" "$lua" bench/transport_calls.lua "$url" tables "$calls"
    net_run "contract_$lua" "$r" with_lua "$lua" "$lua" bench/transport_calls.lua "$url" contract "$calls"
    with_lua "$lua" "$lua" bench/pipeline.lua bench/usage_body.json "$prepare_seconds" |
      while read -r label ops; do record cpu "$lua:$label" "$r" "${ops#ops=}"; done
  done
  # the same calls when the server takes 1 ms
  for lua in lua5.4 luajit; do
    net_run "delayed_sdk_$lua" "$r" with_lua "$lua" "$lua" bench/sdk_calls.lua calls "$base/delayed" "$delayed_calls"
  done
  net_run delayed_libcurl "$r" "$work/curl_calls" "$delayed_url" "$delayed_calls"
  # over TLS, as the real API is: one session kept by the SDK, a handshake per call by LuaSec
  for lua in lua5.4 luajit; do
    net_run "tls_sdk_$lua" "$r" with_lua "$lua" "$lua" bench/sdk_calls.lua calls "$tls_base" "$tls_calls"
  done
  net_run tls_libcurl "$r" "$work/curl_calls" "$tls_url" "$tls_calls"
  for lua in lua5.4 luajit; do
    net_run "tls_luasec_$lua" "$r" "$lua" bench/luasec_calls.lua "$tls_url" "$luasec_calls"
  done
  net_run tls_luasec_nodelay "$r" lua5.4 bench/luasec_calls.lua "$tls_url" "$luasec_calls" nodelay
done

# ---- 1d. per call, in the client process: instructions and heap allocations ----------
# Counted by valgrind (callgrind's instructions, memcheck's "total heap usage"), as the
# difference between N + K and N calls against the same nginx: reproducible on a busy
# machine where times are not. The raw libcurl loop shows what libcurl itself costs.
echo "bench: 1d. instructions and allocations per call (valgrind) [${SECONDS}s]"
net_count() { # label tool(instr|allocs) command... (the command takes the call count last)
  local label=$1 tool=$2 a b
  shift 2
  if [ "$tool" = instr ]; then
    a=$(collected "$@" "$net_instr_calls")
    b=$(collected "$@" "$((2 * net_instr_calls))")
  else
    a=$(heap_allocs "$@" "$net_instr_calls")
    b=$(heap_allocs "$@" "$((2 * net_instr_calls))")
  fi
  [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ] ||
    { echo "bench: valgrind gave no $tool count for $label" >&2; exit 1; }
  record "$tool" "net:$label" 1 "$(awk -v a="$a" -v b="$b" -v n="$net_instr_calls" 'BEGIN { printf "%.1f", (b - a) / n }')"
}
collected() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
heap_allocs() { valgrind --tool=memcheck "$@" 2>&1 >/dev/null |
  sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,; }
for tool in instr allocs; do
  net_count libcurl "$tool" "$work/curl_calls" "$url"
  for lua in lua5.4 luajit; do
    with_lua "$lua" net_count "transport_$lua" "$tool" "$lua" bench/transport_calls.lua "$url"
    # the ceiling and the contract's floor of 1a, counted: stable where their rates are not
    if [ "$tool" = instr ]; then
      with_lua "$lua" net_count "floor_$lua" "$tool" "$lua" bench/transport_calls.lua "$url" tables
      with_lua "$lua" net_count "contract_$lua" "$tool" "$lua" bench/transport_calls.lua "$url" contract
    fi
    with_lua "$lua" net_count "sdk_$lua" "$tool" "$lua" bench/sdk_calls.lua calls "$base"
  done
done
# The same count without the network, to split an SDK call: the whole call with the
# in-memory transport (bench/pipeline.lua) and the decoding of the answer alone.
for lua in lua5.4 luajit; do
  for c in pipeline decode tables; do
    a=$(with_lua "$lua" collected "$lua" bench/pipeline.lua bench/usage_body.json count "$c" "$net_instr_calls")
    b=$(with_lua "$lua" collected "$lua" bench/pipeline.lua bench/usage_body.json count "$c" "$((2 * net_instr_calls))")
    [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ] ||
      { echo "bench: callgrind gave no instruction count for $lua $c" >&2; exit 1; }
    record instr "mem:${c}_$lua" 1 "$(awk -v a="$a" -v b="$b" -v n="$net_instr_calls" 'BEGIN { printf "%.1f", (b - a) / n }')"
  done
done

# ---- 2. the C core alone: prepare ---------------------------------------------------
echo "bench: 2. prepare [${SECONDS}s]"
for r in $(seq 1 "$runs"); do
  for lua in lua5.4 luajit; do
    with_lua "$lua" "$lua" bench/prepare.lua "$prepare_seconds" |
      while read -r label name ops; do record prepare "$lua:$label" "$r" "${ops#ops=}" "endpoint=$name"; done
  done
  "$work/prepare_core" "$prepare_seconds" |
    while read -r label name ops; do record prepare "c:$label" "$r" "${ops#ops=}" "endpoint=$name"; done
done
# Instructions per call, counted by callgrind (the difference between N calls and none):
# reproducible where the timings above are not. floor_c and floor_lua (bench/prepare.lua):
# the floor under the typical case's request table, for the interpreters.
for c in $instr_cases floor_c floor_lua; do
  for p in $instr_paths; do
    if [ "$p" = c ]; then
      case $c in floor_*) continue ;; esac
      a=$(collected "$work/prepare_core" count "$c" 0)
      b=$(collected "$work/prepare_core" count "$c" "$instr_calls")
    else
      a=$(with_lua "$p" collected "$p" bench/prepare.lua count "$c" 0)
      b=$(with_lua "$p" collected "$p" bench/prepare.lua count "$c" "$instr_calls")
    fi
    [ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ] ||
      { echo "bench: callgrind gave no instruction count for $p $c" >&2; exit 1; }
    record instr "$p:$c" 1 $(( (b - a) / instr_calls ))
  done
done

# ---- 3. memory over many calls ------------------------------------------------------
echo "bench: 3. memory (after $mem1 and $mem2 calls) [${SECONDS}s]"
for r in $(seq 1 "$runs"); do
  for lua in lua5.4 luajit; do
    mem_out=$(with_lua "$lua" "$lua" bench/sdk_calls.lua memory "$base" "$mem1" "$mem2")
    record memory "$lua" "$r" "$mem_out"
  done
done

# ---- 3b. what a client costs to create (bench/client_new.lua, no network) ----------
echo "bench: 3b. client creation ($clients clients) [${SECONDS}s]"
for r in $(seq 1 "$runs"); do
  for lua in lua5.4 luajit; do
    record client_new "$lua" "$r" "$(with_lua "$lua" "$lua" bench/client_new.lua "$clients")"
  done
done

# ---- 3c. concurrent calls: client:batch against one call after another ------------
# 50 calls to a location that answers after 20 ms: sequential client:call, client:batch
# over HTTP/1.1 (8 connections at most) and over TLS with HTTP/2 (one connection).
echo "bench: 3c. client:batch ($batch_calls calls, 20 ms each) [${SECONDS}s]"
for r in $(seq 1 "$runs"); do
  for lua in lua5.4 luajit; do
    record batch "$lua" "$r" "$(with_lua "$lua" "$lua" bench/batch.lua "$base/slow" "https://127.0.0.1:$((port + 2))/slow" \
      "$work/ca.pem" "$work/access.log" "$batch_calls")"
  done
done

# ---- 3d. pagination with and without prefetch (bench/prefetch.lua) -----------------
# 20 pages of 20 ms of server time each, with 20 ms of the caller's work per page.
echo "bench: 3d. each() with and without prefetch (20 pages, 20 ms each) [${SECONDS}s]"
for r in $(seq 1 "$runs"); do
  for lua in lua5.4 luajit; do
    record prefetch "$lua" "$r" "$(with_lua "$lua" "$lua" bench/prefetch.lua "$base/slow" 20)"
  done
done

# ---- 4. nginx under SDK traffic: the OpenResty benchmark (bench/ngx_bench.lua) -----
# It starts its own emulator and nginx (one worker, a thread pool) and measures a plain
# location with wrk while other wrk connections make SDK calls through alephant.ngx in
# worker-thread mode, in blocking mode, or not at all. Run once per run (RUNS=1) so
# that every run's figures can be summarised here; nginx loads this Release build.
if [ -f bench/ngx_bench.lua ]; then
  echo "bench: 4. nginx under SDK traffic (bench/ngx_bench.lua, ${ngx_seconds}s per mode) [${SECONDS}s]"
  record ngx_source bench/ngx_bench.lua
  for r in $(seq 1 "$runs"); do
    ngx_out=$(RUNS=1 DURATION=$ngx_seconds ALEPHANT_BUILD=$build \
      LUA_PATH="$root/lua/?.lua;$root/?.lua;;" LUA_CPATH="$build/luajit/?.so;;" luajit bench/ngx_bench.lua) ||
      { echo "bench: bench/ngx_bench.lua failed: $ngx_out" >&2; exit 1; }
    # "mode p50 p99 plain_rps sdk_calls_per_s" lines
    awk -v r="$r" '$1 ~ /^(none|thread|blocking)$/ && NF == 5 {
      print "ngx", $1, r, $4, "p50=" $2, "p99=" $3, "sdk=" $5 }' <<<"$ngx_out" >> "$raw"
  done
else
  record ngx_missing
fi

# ---- the machine, the table ---------------------------------------------------------
record info cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
record info cores "$(nproc)"
record info memory "$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
record info kernel "$(uname -sr)"
record info compiler "$(gcc --version | head -n 1)"
record info lua "$(lua5.4 -v 2>&1 | cut -d' ' -f1-2)"
record info luajit "$(luajit -v 2>&1 | cut -d' ' -f1-2)"
record info libcurl "$(pkg-config --modversion libcurl)"
record info nginx "$("$nginx_bin" -v 2>&1 | sed 's/^nginx version: //')"
record info openssl "$(openssl version | cut -d" " -f1-2)"
lualibs='print(require("socket")._VERSION .. ", LuaSec " .. require("ssl")._VERSION .. ", lua-cjson "
  .. require("cjson")._VERSION)'
record info lualibs "$(lua5.4 -e "$lualibs")"
record info wrk "$(wrk --version 2>&1 | head -n 1 | cut -d' ' -f2)"
record info body_bytes "$(wc -c < bench/usage_body.json | tr -d " ")"
record info date "$(date -u '+%Y-%m-%d %H:%M UTC')"
record info load_start "$load_start"
record info load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
record info params "runs=$runs calls=$calls delayed=$delayed_calls tls=$tls_calls luasec=$luasec_calls" \
  "memory=$mem1,$mem2 clients=$clients wrk=${wrk_seconds}s" \
  "prepare=${prepare_seconds}s instr=$instr_calls net_instr=$net_instr_calls ngx=${ngx_seconds}s"

mkdir -p "$(dirname "$out")"
status=0
lua5.4 bench/report.lua "$raw" "$out" ${smoke:+--smoke} || status=1
echo "bench: written to ${out#"$root"/} [${SECONDS}s]"
# the smoke run counts as one check in the `make test` tally
if [ -n "$smoke" ] && [ -n "$results" ]; then echo "$((1 - status)) $status" >> "$results"; fi
exit $status
