#!/usr/bin/env bash
# Builds the local test images without any registry:
#   atelier/busybox:local  - busybox-static on scratch, for fast engine tests
#   atelier/debian:local   - a debootstrap'ed Debian with python3 (Molecule
#                            targets, base of the workspace image)
# The debootstrap tarball is cached outside the repository.
set -euo pipefail

CACHE="${ATELIER_CACHE:-$HOME/.cache/atelier-workspaces}/images"
SUITE="${DEBIAN_SUITE:-bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$CACHE"

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

need_pkg() {
  command -v "$1" >/dev/null && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "error: '$1' is missing; install Debian's $2" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null; }
}

build_busybox() {
  image_exists atelier/busybox:local && return 0
  [ -x /bin/busybox ] || need_pkg busybox busybox-static
  local root; root=$(mktemp -d)
  mkdir -p "$root"/{bin,tmp,data,etc}
  # /data belongs to the non-root user the workspace tests run as, so a volume
  # mounted there starts out writable for it
  chown 1000:0 "$root/data" && chmod 0775 "$root/data"
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/data:/bin/sh\n' > "$root/etc/passwd"
  printf 'root:x:0:\nuser:x:1000:\n' > "$root/etc/group"
  chmod 1777 "$root/tmp"
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' - atelier/busybox:local >/dev/null
  rm -rf "$root"
  echo "built atelier/busybox:local"
}

build_debian() {
  image_exists atelier/debian:local && return 0
  local tarball="$CACHE/debian-$SUITE-rootfs.tar"
  if [ ! -s "$tarball" ]; then
    need_pkg debootstrap debootstrap
    local root; root=$(mktemp -d)
    echo "debootstrap $SUITE (minbase + python3) from $MIRROR"
    debootstrap --variant=minbase --include=python3,ca-certificates "$SUITE" "$root" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
      || { echo "error: debootstrap failed; see $CACHE/debootstrap.log" >&2; tail -n 20 "$CACHE/debootstrap.log" >&2; exit 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  docker import -c 'CMD ["/bin/bash"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tarball" atelier/debian:local >/dev/null
  echo "built atelier/debian:local"
}

build_busybox
build_debian
