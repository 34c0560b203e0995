#!/usr/bin/env bash
# Builds the local test images without any registry:
#   atelier/busybox:local  - busybox-static on scratch, for fast engine tests
#   atelier/debian:local   - a debootstrap'ed Debian with python3 (Molecule
#                            targets, base of the workspace image)
# The debootstrap tarball is cached outside the repository. Packages come from
# the machine's own sources: the Debian mirror of its apt sources
# (hack/debian-mirror.sh, ATELIER_DEBIAN_MIRROR overrides it) and the index of
# its pip configuration.
set -euo pipefail

HACK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${ATELIER_CACHE:-$HOME/.cache/atelier-workspaces}/images"
SUITE="${DEBIAN_SUITE:-bookworm}"
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
    local mirror; mirror=$(bash "$HACK/debian-mirror.sh" "$SUITE")
    local root; root=$(mktemp -d)
    echo "debootstrap $SUITE (minbase + python3) from $mirror"
    debootstrap --variant=minbase --include=python3,ca-certificates "$SUITE" "$root" "$mirror" >"$CACHE/debootstrap.log" 2>&1 \
      || { echo "error: debootstrap failed; see $CACHE/debootstrap.log" >&2; tail -n 20 "$CACHE/debootstrap.log" >&2; exit 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  docker import -c 'CMD ["/bin/bash"]' -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$tarball" atelier/debian:local >/dev/null
  echo "built atelier/debian:local"
}

# One pip setting as pip on this machine sees it: its PIP_* variable, else its
# configuration files (global, then install section); empty when unset.
pip_setting() {
  local variable; variable="PIP_$(echo "$1" | tr 'a-z-' 'A-Z_')"
  if [ -n "${!variable:-}" ]; then echo "${!variable}"; return 0; fi
  local pip=("$HACK/../.venv/bin/python" -m pip)
  [ -x "${pip[0]}" ] || pip=(python3 -m pip)
  # a setting given on several lines is one space-separated value in a PIP_* variable
  { "${pip[@]}" config get "global.$1" 2>/dev/null || "${pip[@]}" config get "install.$1" 2>/dev/null || true; } \
    | tr -s '\n' ' ' | sed 's/^ //; s/ $//'
}

# --build-arg for each index setting the machine's pip has, so the image build
# installs from the same index (the build stage that sees them is discarded).
pip_build_args() {
  local setting value
  for setting in index-url extra-index-url trusted-host; do
    value=$(pip_setting "$setting")
    [ -z "$value" ] || printf -- '--build-arg\0PIP_%s=%s\0' "$(echo "$setting" | tr 'a-z-' 'A-Z_')" "$value"
  done
}

image_label() { docker image inspect -f "{{index .Config.Labels \"$2\"}}" "$1" 2>/dev/null; }

# The default workspace image. It carries a hash of its build context and of
# the base image, and is rebuilt when either changed. A lock keeps runs that
# overlap (hack/setup.sh calls this script too) from building it twice.
build_workspace() {
  local ctx; ctx="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/images/workspace"
  local label=workspaces.atelier.dev/image-context
  local ca="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
  local log="$CACHE/workspace-build.log"
  [ -f "$ctx/Dockerfile" ] || { echo "error: $ctx/Dockerfile is missing; restore images/workspace from git" >&2; exit 1; }
  image_exists atelier/debian:local || { echo "error: atelier/debian:local is missing; build it first (build_debian)" >&2; exit 1; }
  # the CA bundle only serves the downloads and is left out of the hash
  local hash; hash=$(
    { docker image inspect -f '{{.Id}}' atelier/debian:local
      cd "$ctx" && find . -type f ! -name ca-certificates.crt -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    } | sha256sum | cut -c1-16
  )
  [ "$(image_label atelier/workspace:local "$label")" = "$hash" ] && return 0
  (
    flock 9
    [ "$(image_label atelier/workspace:local "$label")" = "$hash" ] && exit 0
    if [ -s "$ca" ]; then
      cp "$ca" "$ctx/ca-certificates.crt"
    else
      # an empty file: the build trusts the base image's CA store
      : > "$ctx/ca-certificates.crt"
    fi
    local pip_args=()
    mapfile -d '' -t pip_args < <(pip_build_args)
    echo "building atelier/workspace:local (log: $log)"
    DOCKER_BUILDKIT=0 docker build --rm --force-rm --label "$label=$hash" "${pip_args[@]}" \
      -t atelier/workspace:local "$ctx" >"$log" 2>&1 \
      || { echo "error: building atelier/workspace:local failed; see $log (behind another TLS proxy, point CA_BUNDLE at its CA bundle)" >&2
           tail -n 20 "$log" >&2; exit 1; }
    # drop the build stage and the image this one replaced
    docker image prune -f --filter label=workspaces.atelier.dev/image-stage=build >/dev/null
    docker image prune -f --filter "label=$label" >/dev/null
    echo "built atelier/workspace:local"
  ) 9>"$CACHE/workspace.lock"
}

build_busybox
build_debian
build_workspace
