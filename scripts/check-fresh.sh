#!/usr/bin/env bash
# `make check-fresh`: proves that `make setup` installs everything `make test` and
# `make demo` need. Builds a bare Debian 12 (bookworm, debootstrap --variant=minbase) in a
# temporary root from the Debian mirror this host's own apt sources name, adds only git,
# make and ca-certificates, clones this checkout's committed HEAD into it and runs
# `make test && make demo` there (chroot). The root is unmounted and removed afterwards,
# also on failure or ^C. Needs root; takes a long while (debootstrap, apt, the whole suite).
#
#   scripts/check-fresh.sh            (log also in .tmp/check-fresh.log)
#
# Environment: CHECK_FRESH_MIRROR (default: from /etc/apt/sources.list{,.d/*.sources}),
# CHECK_FRESH_DIR (where the root is made, default /var/tmp), CHECK_FRESH_LOG.
# The last line is `check-fresh: pass` or `check-fresh: fail`.
#
# Uncommitted changes are not tested: commit first. Inside the root the only network
# traffic is apt's to the Debian mirror; the tests use loopback only. Services are not
# started by package installs (policy-rc.d), so nginx's postinst does not bind port 80.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd -P)
log=${CHECK_FRESH_LOG:-$repo/.tmp/check-fresh.log}
mkdir -p "$(dirname "$log")"
: > "$log"
started=$(date +%s)
root=""

say() { echo "check-fresh: $*" | tee -a "$log"; }

elapsed() {
  local s=$(( $(date +%s) - started ))
  printf '%dm%02ds' $((s / 60)) $((s % 60))
}

# The first bookworm (non-security) mirror of the host's apt sources, one-line or deb822.
host_mirror() {
  local f
  if [ -f /etc/apt/sources.list ]; then
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { u = $i; s = $(i + 1); break }
           if (s == "bookworm") { print u; exit } }' /etc/apt/sources.list
  fi
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # stanzas are separated by blank lines; keep the URIs of one whose Suites has bookworm
    awk 'BEGIN { RS = ""; FS = "\n" }
         { uris = ""; ok = 0
           for (i = 1; i <= NF; i++) {
             if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris); split(uris, a, /[ \t]+/); uris = a[1] }
             if ($i ~ /^Suites:/ && $i ~ /[: \t]bookworm([ \t]|$)/) ok = 1
           }
           if (ok && uris != "") { print uris; exit } }' "$f"
  done
}

# Processes still running inside the root (an emulator a failed test left behind): by pid.
root_pids() {
  local p r
  for p in /proc/[0-9]*; do
    r=$(readlink "$p/root" 2>/dev/null) || continue
    [ "$r" = "$root/root" ] && echo "${p#/proc/}"
  done
}

mounted_under() { awk -v r="$root/root" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts; }

cleanup() {
  local rc=$? pids m
  trap - EXIT INT TERM
  if [ -n "$root" ] && [ -d "$root" ]; then
    pids=$(root_pids)
    # shellcheck disable=SC2086
    [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
    for m in dev/pts dev sys proc; do
      mountpoint -q "$root/root/$m" 2>/dev/null && { umount "$root/root/$m" 2>/dev/null || umount -l "$root/root/$m"; }
    done
    if [ -n "$(mounted_under)" ]; then
      echo "check-fresh: still mounted, $root left in place:" >&2; mounted_under >&2
      rc=1
    else
      rm -rf --one-file-system "$root"
    fi
  fi
  say "elapsed $(elapsed)"
  if [ "$rc" -eq 0 ]; then say pass; else say fail; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { say "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (debootstrap, mount, chroot); run it with sudo"
head=$(git -C "$repo" rev-parse HEAD) || fail "not a git checkout: $repo"
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
  say "note: uncommitted changes are not part of the check (it clones HEAD $head)"
fi

if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap on this host"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >> "$log" 2>&1 \
    || { apt-get update -qq >> "$log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >> "$log" 2>&1; } \
    || fail "could not install debootstrap (log: $log)"
fi

mirror=${CHECK_FRESH_MIRROR:-$(host_mirror | head -n 1)}
[ -n "$mirror" ] || fail "no bookworm mirror in /etc/apt/sources.list{,.d/*.sources}; set CHECK_FRESH_MIRROR"

root=$(mktemp -d "${CHECK_FRESH_DIR:-/var/tmp}/alephant-fresh.XXXXXX") || fail "mktemp failed"
target=$root/root
say "debootstrap --variant=minbase bookworm from $mirror into $target (log: $log)"
debootstrap --variant=minbase --include=git,make,ca-certificates bookworm "$target" "$mirror" >> "$log" 2>&1 \
  || fail "debootstrap failed (log: $log)"
# mktemp -d makes 0700; nginx workers run as nobody and must read the checkout (which is
# why it goes to /src, not to root's 0700 home)
chmod 755 "$root" "$target"

# apt inside the root resolves the mirror with the host's resolver; no service starts
cp /etc/resolv.conf "$target/etc/resolv.conf"
grep -qs localhost "$target/etc/hosts" || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$target/etc/hosts"
printf '#!/bin/sh\nexit 101\n' > "$target/usr/sbin/policy-rc.d"
chmod 755 "$target/usr/sbin/policy-rc.d"

mount -t proc proc "$target/proc" && mount -t sysfs sys "$target/sys" \
  && mount --bind /dev "$target/dev" && mount --bind /dev/pts "$target/dev/pts" \
  || fail "mounting proc, sys, dev, dev/pts failed"

git clone -q --no-checkout "$repo" "$target/src/alephant-lua" >> "$log" 2>&1 \
  && git -C "$target/src/alephant-lua" checkout -q --detach "$head" \
  || fail "git clone of $repo failed"
say "cloned $head; running make test && make demo inside (output below and in $log)"

chroot "$target" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  /bin/bash -c 'cd /src/alephant-lua && make test && make demo' 2>&1 | tee -a "$log"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || fail "make test && make demo failed in the fresh root (exit $status)"
