#!/usr/bin/env bash
# The collection on every ansible-core it claims (meta/runtime.yml), each in its
# own cached venv (hack/core-venv.sh): ansible-test sanity with that core's
# tests and the unit tests on each, the Docker smoke (tests/core-smoke) with
# that core's ansible-playbook on the oldest and the newest. 2.19, the dev
# pin, is left out: make sanity, test-unit and test-integration run it.
# CORE_MATRIX and SMOKE_CORES override the choice; the last lines are a table.
set -uo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$REPO_ROOT" || exit 1
# core:python - each core on a Python its controller supports, so that
# together they cover every Python from 3.11 to 3.13
CORE_MATRIX="${CORE_MATRIX:-2.16:3.11 2.17:3.12 2.18:3.13 2.20:3.12 2.21:3.13}"
SMOKE_CORES="${SMOKE_CORES-2.16 2.21}"
logs="$REPO_ROOT/.work/core-matrix"
mkdir -p "$logs"

# one step, its output in a log and its outcome in the table
declare -a table
status=0
step() {
  local cell="$1" what="$2"; shift 2
  local log="$logs/$cell-$what.log" start=$SECONDS outcome
  if "$@" >"$log" 2>&1; then outcome=passed; else outcome=FAILED; status=1; fi
  table+=("$(printf '%-14s %-7s %-7s %4ss  %s' "$cell" "$what" "$outcome" $((SECONDS - start)) "$log")")
  echo "${table[-1]}"
  [ "$outcome" = passed ] || tail -n 30 "$log"
}

for row in $CORE_MATRIX; do
  core="${row%%:*}" python="${row##*:}" cell="$core-py$python"
  if ! venv=$(bash hack/core-venv.sh "$core" "$python" 2>"$logs/$cell-venv.log"); then
    cat "$logs/$cell-venv.log" >&2
    table+=("$(printf '%-14s %-7s %-7s' "$cell" venv FAILED)"); status=1
    continue
  fi
  echo "== ansible-core $("$venv/bin/python" -c 'import ansible.release as r; print(r.__version__)') on Python $python"
  step "$cell" sanity env SANITY_VENV="$venv" SANITY_PYTHON="$python" bash hack/sanity.sh
  step "$cell" unit "$venv/bin/pytest" -q -p no:cacheprovider tests/unit
  if [[ " $SMOKE_CORES " == *" $core "* ]]; then
    # the collection from this repository, run by this core on this core's Python
    step "$cell" smoke env ANSIBLE_CONFIG="$REPO_ROOT/ansible.cfg" ANSIBLE_COLLECTIONS_PATH="$REPO_ROOT/.work/collections" \
      "$venv/bin/ansible-playbook" tests/core-smoke/docker.yml \
      -e smoke_name="core-smoke-${cell//./-}" -e ansible_python_interpreter="$venv/bin/python"
  fi
done

echo "== core matrix"
printf '%s\n' "${table[@]}"
exit $status
