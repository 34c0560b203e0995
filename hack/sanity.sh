#!/usr/bin/env bash
# ansible-test needs the collection under ansible_collections/<ns>/<name>; it
# runs on a copy of the files git would commit, so stray local files never count.
# SANITY_VENV (default .venv) is the venv whose ansible-test runs, on
# SANITY_PYTHON (default 3.11): hack/core-matrix.sh runs it once per core.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
venv="${SANITY_VENV:-$REPO_ROOT/.venv}"
python="${SANITY_PYTHON:-3.11}"
work="$REPO_ROOT/.work/sanity"
[ "$venv" = "$REPO_ROOT/.venv" ] || work="$REPO_ROOT/.work/sanity-$(basename "$venv")"
dest="$work/ansible_collections/atelier/workspaces"
rm -rf "$dest" && mkdir -p "$dest"
cd "$REPO_ROOT"
git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - | tar -C "$dest" -xf -
# ansible-test bootstraps pip in its venvs with a script from a host outside
# the package registries; give it the offline stand-in under the name it looks for.
# Each core names its own pip version(s) in get_venv_packages.
pip_versions=$(grep -hoP "pip='\K[0-9.]+" "$venv"/lib/python3.*/site-packages/ansible_test/_internal/python_requirements.py | sort -u || true)
mkdir -p "$HOME/.ansible/test/cache"
for pip_version in ${pip_versions:-24.2}; do
  cp "$REPO_ROOT/hack/get-pip-offline.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
done
cd "$dest"
git init -q . && git add -A >/dev/null
# the venv's bin first: ansible-test finds python3.X there
PATH="$venv/bin:$PATH" "$venv/bin/ansible-test" sanity --venv --requirements --python "$python" --color no "$@"
