#!/usr/bin/env bash
# ansible-test needs the collection under ansible_collections/<ns>/<name>; it
# runs on a copy of the files git would commit, so stray local files never count.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
dest="$REPO_ROOT/.work/sanity/ansible_collections/atelier/workspaces"
rm -rf "$dest" && mkdir -p "$dest"
cd "$REPO_ROOT"
git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - | tar -C "$dest" -xf -
cd "$dest"
git init -q . && git add -A >/dev/null
"$REPO_ROOT/.venv/bin/ansible-test" sanity --venv --requirements --python 3.11 --color no "$@"
