#!/usr/bin/env bash
# Runs every role's Molecule scenarios (create, converge, idempotence, verify, destroy).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
status=0
for scenario_dir in "$REPO_ROOT"/roles/*/molecule; do
  [ -d "$scenario_dir" ] || continue
  role_dir="${scenario_dir%/molecule}"
  echo "== molecule test: role $(basename "$role_dir")"
  (cd "$role_dir" && molecule test --all) || status=1
done
exit $status
