#!/usr/bin/env bash
# Build (once) a Debian sid root holding Asterisk 22, for the end-to-end tests.
#
# Debian bookworm ships no asterisk package; sid does. The tests run Asterisk
# chrooted into this root (see rig/sandbox/asterisk.ts). The root lives outside
# the checkout so CI and later runs reuse it; it is built only when missing.
#
#   KA_ASTERISK_ROOT   where the root lives   (default /var/cache/kommo-asterisk/sid-root)
#   KA_DEBIAN_MIRROR   Debian mirror           (default: the host's apt mirror, else deb.debian.org)
#
# Idempotent: a marker file is written last; a root without it (an interrupted
# build) is removed and built again. Must run as root.
set -euo pipefail

ROOT="${KA_ASTERISK_ROOT:-/var/cache/kommo-asterisk/sid-root}"
MARKER="$ROOT/.kommo-asterisk-root-ready"
APT_OPTS=(-o Acquire::Check-Valid-Until=false -o Dpkg::Use-Pty=0)

log() { printf '[asterisk-root] %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (debootstrap, chroot, mount)" >&2
  exit 1
fi

detect_mirror() {
  if [ -n "${KA_DEBIAN_MIRROR:-}" ]; then
    printf '%s\n' "$KA_DEBIAN_MIRROR"
    return
  fi
  local src=/etc/apt/sources.list.d/debian.sources uri=""
  if [ -r "$src" ]; then
    uri="$(awk '/^URIs:/ { print $2; exit }' "$src")"
  fi
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

# --- host tools ---------------------------------------------------------------
missing=()
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
command -v lame >/dev/null 2>&1 || missing+=(lame)
[ -x /usr/bin/chromium ] || missing+=(chromium) # the widget's browser tests (puppeteer-core drives it)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing host packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
    || { log "apt-get install failed; trying apt-get update first"; apt-get update && \
         DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; }
else
  log "host packages present: debootstrap sip-tester lame chromium"
fi

# --- proc mount (needed by apt/asterisk inside the root) ---------------------
ensure_proc() {
  if ! mountpoint -q "$ROOT/proc"; then
    log "mounting proc on $ROOT/proc"
    mkdir -p "$ROOT/proc"
    mount -t proc proc "$ROOT/proc"
  fi
}

if [ -f "$MARKER" ]; then
  ensure_proc
  log "root ready at $ROOT ($(cat "$MARKER"))"
  exit 0
fi

# --- build ------------------------------------------------------------------------
start=$(date +%s)
MIRROR="$(detect_mirror)"

if [ -e "$ROOT" ]; then
  log "found an incomplete root at $ROOT (no marker): removing it"
  if mountpoint -q "$ROOT/proc"; then umount "$ROOT/proc" || umount -l "$ROOT/proc"; fi
  rm -rf --one-file-system "$ROOT"
fi
mkdir -p "$(dirname "$ROOT")"

log "debootstrap --variant=minbase sid $ROOT $MIRROR"
debootstrap --variant=minbase sid "$ROOT" "$MIRROR"

ensure_proc
# Name resolution inside the root (apt needs the mirror's address).
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
# No service starts inside the chroot during install.
printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"

log "apt-get update (inside the root)"
chroot "$ROOT" apt-get "${APT_OPTS[@]}" update
log "apt-get install asterisk asterisk-modules (inside the root)"
chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive \
  apt-get "${APT_OPTS[@]}" install -y --no-install-recommends asterisk asterisk-modules
chroot "$ROOT" apt-get clean

version="$(chroot "$ROOT" asterisk -V 2>/dev/null || echo 'asterisk ?')"
elapsed=$(( $(date +%s) - start ))
printf '%s, built %s in %ss\n' "$version" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$elapsed" > "$MARKER"
log "done: $version at $ROOT in ${elapsed}s"
