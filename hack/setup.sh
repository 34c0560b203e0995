#!/usr/bin/env bash
# One idempotent setup: the Python venv with pinned tools, the collection link
# that lets ansible find this repository as atelier.workspaces, a running Docker
# engine and the local test images.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO_ROOT"

PY="${PYTHON:-python3}"
command -v "$PY" >/dev/null || { echo "error: python3 (>= 3.11) is needed; install it (Debian: apt-get install python3 python3-venv)" >&2; exit 1; }
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: python >= 3.11 is needed, found $("$PY" --version)" >&2; exit 1; }
free_mb=$(df -Pm "$REPO_ROOT" | awk 'NR==2{print $4}')
[ "$free_mb" -gt 4000 ] || { echo "error: at least 4 GiB of free disk is needed in $REPO_ROOT (have ${free_mb} MiB)" >&2; exit 1; }

# venv, reinstalled only when the pins change
stamp=.venv/.requirements.sha
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "creating .venv with the pinned tools"
  "$PY" -m venv .venv || { echo "error: 'python3 -m venv' failed; install python3-venv" >&2; exit 1; }
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

# ansible_collections/atelier/workspaces -> this repository
mkdir -p .work/collections/ansible_collections/atelier
ln -sfn "$REPO_ROOT" .work/collections/ansible_collections/atelier/workspaces

# ansible-test's shellcheck sanity test needs the shellcheck program
if ! command -v shellcheck >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's shellcheck"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null 2>&1 \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null; }
  else
    echo "error: shellcheck is missing (ansible-test sanity needs it); install it with your package manager" >&2
    exit 1
  fi
fi

bash hack/docker-up.sh
bash hack/build-images.sh
bash hack/chromium.sh >/dev/null  # the browser of the end-to-end test
echo "setup done"
