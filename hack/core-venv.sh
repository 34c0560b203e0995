#!/usr/bin/env bash
# Prints the path of a cached venv holding ansible-core <minor> (e.g. 2.16) on
# Python <python> (e.g. 3.12), creating it when missing or when its pins moved:
#   ~/.cache/atelier-workspaces/cores/<minor>-py<python>
# The runtime libraries and pytest keep the versions of requirements-dev.txt.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
core="$1" python="$2"
venv="${ATELIER_CACHE:-$HOME/.cache/atelier-workspaces}/cores/$core-py$python"

# python3.X from PATH, else from pyenv's versions (the machine image has them)
find_python() {
  local found
  for found in $(command -v -a "python$python" 2>/dev/null) "$HOME"/.pyenv/versions/"$python".*/bin/"python$python"; do
    # pyenv's shims exist for versions that are not active: they must answer
    [ -x "$found" ] && "$found" -c 'import venv' 2>/dev/null && { echo "$found"; return 0; }
  done
  return 1
}

pins=$(grep -E '^(kubernetes|docker|requests|pyyaml|pytest)[=<>]' "$REPO_ROOT/requirements-dev.txt")
spec="ansible-core==$core.*"$'\n'"$pins"
want=$(printf '%s' "$spec" | sha256sum | cut -c1-16)
if [ "$(cat "$venv/.spec" 2>/dev/null)" != "$want" ] || [ ! -x "$venv/bin/ansible-playbook" ]; then
  interpreter=$(find_python) || { echo "error: Python $python is not installed (needed for ansible-core $core)" >&2; exit 3; }
  echo "creating $venv" >&2
  rm -rf "$venv"
  "$interpreter" -m venv "$venv"
  printf '%s\n' "$spec" > "$venv/requirements.txt"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$venv/requirements.txt" >&2 \
    || { echo "error: installing ansible-core $core on Python $python failed" >&2; rm -rf "$venv"; exit 1; }
  echo "$want" > "$venv/.spec"
fi
echo "$venv"
