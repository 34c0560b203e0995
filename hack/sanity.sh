#!/usr/bin/env bash
# ansible-test needs the collection under ansible_collections/<ns>/<name>; it
# runs on a copy of the files git would commit, so stray local files never count.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
dest="$REPO_ROOT/.work/sanity/ansible_collections/atelier/workspaces"
rm -rf "$dest" && mkdir -p "$dest"
cd "$REPO_ROOT"
git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - | tar -C "$dest" -xf -
# ansible-test bootstraps pip in its venvs with a script from a host outside
# the package registries; give it the offline stand-in under the name it looks for.
pip_version=$(grep -oP '^pip==\K[0-9.]+' "$REPO_ROOT"/.venv/lib/python3.*/site-packages/ansible_test/_data/requirements/ansible-test.txt 2>/dev/null || echo 24.2)
mkdir -p "$HOME/.ansible/test/cache"
cp "$REPO_ROOT/hack/get-pip-offline.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
cd "$dest"
git init -q . && git add -A >/dev/null
"$REPO_ROOT/.venv/bin/ansible-test" sanity --venv --requirements --python 3.11 --color no "$@"
