#!/usr/bin/env bash
# Installs every Debian package the project needs (`make test`, `make demo`, `make bench`)
# on a Debian 12 that has only git, make and ca-certificates; `make check-fresh` proves
# that list complete in a fresh debootstrap root. Idempotent: packages that are
# already installed are skipped, so a second run does nothing and needs no network.
#
# LuaJIT: the nginx Lua module is built against Debian's OpenResty LuaJIT fork
# (luajit2, libluajit2-5.1-dev). Debian's other LuaJIT (luajit, libluajit-5.1-dev)
# conflicts with it and apt would silently remove libnginx-mod-http-lua, so the
# three are always installed together and the other pair is never named here.
set -euo pipefail

packages=(
  # build tools
  gcc clang libclang-rt-14-dev make cmake pkg-config libc6-dev
  # Lua 5.4 and LuaJIT (OpenResty flavour), headers for both ABIs
  lua5.4 liblua5.4-dev luajit2 libluajit2-5.1-dev
  # runtime libraries; LuaSocket + LuaSec + lua-cjson are what bench/ compares the SDK with
  # (and the specs' own HTTP helpers use LuaSocket)
  libcurl4-openssl-dev lua-cjson lua-socket lua-sec ca-certificates
  # nginx with the Lua module (emulator, OpenResty tests)
  nginx libnginx-mod-http-lua
  # test, lint, docs, packaging
  lua-busted lua-check lua-ldoc luarocks openssl curl valgrind
  procps  # pgrep/pkill: the emulator and spec/support/nginx.lua find their nginx workers
  wrk  # bench/ngx_bench.lua
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
# apt's and dpkg's output goes to a log, shown only if the install fails
log="$(cd "$(dirname "$0")/.." && pwd)/.tmp/setup.log"
mkdir -p "$(dirname "$log")"
if ! { "${sudo_cmd[@]}" apt-get update -qq \
       && "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } > "$log" 2>&1; then
  cat "$log" >&2
  echo "setup: apt-get failed (log: $log)" >&2
  exit 1
fi

# The nginx Lua module must have survived the install (see the LuaJIT note above).
dpkg-query -W -f='${Status}' libnginx-mod-http-lua | grep -q 'install ok installed' \
  || { echo "setup: libnginx-mod-http-lua was removed; a conflicting LuaJIT package is installed" >&2; exit 1; }
echo "setup: done"
