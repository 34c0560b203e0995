#!/usr/bin/env bash
# Makes sure a headless-capable browser is installed for the end-to-end tests:
# Debian's chromium package. Quick when it is already there; prints the path
# of the browser on its last line.
set -euo pipefail

find_browser() { command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null; }

if browser=$(find_browser); then
  echo "$browser"
  exit 0
fi

command -v apt-get >/dev/null || { echo "error: chromium is missing and there is no apt-get; install Chromium and put it on PATH" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "error: installing chromium needs root; run 'sudo apt-get install --no-install-recommends chromium'" >&2; exit 1; }

export DEBIAN_FRONTEND=noninteractive
echo "installing Debian's chromium" >&2
# Lock::Timeout waits for another apt-get (a parallel test worker, a setup run)
# instead of failing at once on the dpkg lock.
if ! apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends chromium >/dev/null 2>&1; then
  apt-get update -qq -o DPkg::Lock::Timeout=300
  apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends chromium >/dev/null
fi

browser=$(find_browser) || { echo "error: the chromium package is installed but no chromium program is on PATH" >&2; exit 1; }
"$browser" --version >&2
echo "$browser"
