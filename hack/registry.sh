#!/usr/bin/env bash
# Makes sure Debian's docker-registry (the CNCF distribution registry) is
# installed, for the test that pushes the workspace image; the test runs it on
# 127.0.0.1 itself. Quick when it is there; prints its path on its last line.
set -euo pipefail

if registry=$(command -v docker-registry); then
  echo "$registry"
  exit 0
fi
command -v apt-get >/dev/null || { echo "error: docker-registry is missing and there is no apt-get; install a registry binary as docker-registry" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "error: installing docker-registry needs root; run 'sudo apt-get install --no-install-recommends docker-registry'" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
echo "installing Debian's docker-registry" >&2
# the package's own service is not wanted: policy-rc.d may refuse to start it, which is fine
if ! apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends docker-registry >/dev/null 2>&1; then
  apt-get update -qq -o DPkg::Lock::Timeout=300
  apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends docker-registry >/dev/null
fi
command -v docker-registry
