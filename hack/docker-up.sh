#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io when dockerd
# is missing and starts it in the background when nothing listens.
set -euo pipefail

LOG_DIR="${ATELIER_LOG_DIR:-/var/log/atelier}"
LOG="$LOG_DIR/dockerd.log"

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

if engine_answers; then
  echo "docker engine answers: $(docker version --format '{{.Server.Version}}')"
  exit 0
fi

if ! command -v dockerd >/dev/null; then
  command -v apt-get >/dev/null || { echo "error: no Docker engine and no apt-get; install Docker Engine and start it, then re-run" >&2; exit 1; }
  [ "$(id -u)" = 0 ] || { echo "error: installing docker.io needs root; run 'sudo apt-get install docker.io' and start dockerd" >&2; exit 1; }
  echo "installing Debian's docker.io"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null
fi

[ "$(id -u)" = 0 ] || { echo "error: dockerd is installed but not running; start it (e.g. 'sudo systemctl start docker')" >&2; exit 1; }
mkdir -p "$LOG_DIR"
echo "starting dockerd (log: $LOG)"
nohup dockerd >"$LOG" 2>&1 &
for _ in $(seq 1 60); do
  engine_answers && { echo "docker engine answers: $(docker version --format '{{.Server.Version}}')"; exit 0; }
  sleep 1
done
echo "error: dockerd did not answer within 60s; last lines of $LOG:" >&2
tail -n 20 "$LOG" >&2
exit 1
