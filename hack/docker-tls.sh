#!/usr/bin/env bash
# A second, TLS-only Docker engine next to the main one, for tests of the
# docker_host / tls_verify / cert_path options against a real engine.
#
#   bash hack/docker-tls.sh [CERT_DIR]          start it (or reuse it when it answers)
#   bash hack/docker-tls.sh --stop [CERT_DIR]   stop it (its data root is kept)
#
# CERT_DIR (default .work/docker-tls) receives a CA, a server certificate for
# 127.0.0.1 and localhost, and a client certificate:
#   CERT_DIR/ca/{ca.pem,ca-key.pem}
#   CERT_DIR/server/{ca.pem,cert.pem,key.pem}
#   CERT_DIR/client/{ca.pem,cert.pem,key.pem}   <- cert_path / DOCKER_CERT_PATH
# They are kept while they are valid. The engine listens on
# tcp://127.0.0.1:$ATELIER_TLS_PORT (2376) with --tlsverify and, without TLS, on
# unix://$ATELIER_TLS_RUN/docker.sock (/run/atelier-tls). It has its own data
# root, exec root, containerd, pid file and default bridge ($ATELIER_TLS_BRIDGE,
# atelier-tls0) and sets no iptables rules, so it leaves the main engine alone
# (log: /var/log/atelier/dockerd-tls.log). Its networks take free subnets from
# Docker's default pools (dockerd skips those with a host route). The images in
# $ATELIER_TLS_IMAGES (atelier/busybox:local) are copied into it from the main
# engine when missing.
# On success the last lines are shell exports for a client:
#   eval "$(bash hack/docker-tls.sh)" && docker version
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"

PORT="${ATELIER_TLS_PORT:-2376}"
RUN_DIR="${ATELIER_TLS_RUN:-/run/atelier-tls}"
DATA_ROOT="${ATELIER_TLS_DATA_ROOT:-/var/lib/atelier-tls}"
LOG_DIR="${ATELIER_LOG_DIR:-/var/log/atelier}"
LOG="$LOG_DIR/dockerd-tls.log"
BRIDGE="${ATELIER_TLS_BRIDGE:-atelier-tls0}"
BRIDGE_CIDR="${ATELIER_TLS_BRIDGE_CIDR:-10.212.0.1/24}"
IMAGES="${ATELIER_TLS_IMAGES:-atelier/busybox:local}"
SOCK="unix://$RUN_DIR/docker.sock"
PIDFILE="$RUN_DIR/dockerd.pid"
CERT_DAYS=30
# the main engine (images come from there); DOCKER_* left by an earlier
# 'eval "$(bash hack/docker-tls.sh)"' must not send these calls to this engine
MAIN_HOST="${DOCKER_HOST:-unix:///var/run/docker.sock}"
[ "$MAIN_HOST" != "tcp://127.0.0.1:$PORT" ] || MAIN_HOST=unix:///var/run/docker.sock
unset DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT

action=start
if [ "${1:-}" = "--stop" ]; then
  action=stop
  shift
fi
case "${1:-}" in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  -*) echo "error: unknown option $1; use [--stop] [CERT_DIR]" >&2; exit 2 ;;
esac
CERT_DIR="${1:-$REPO_ROOT/.work/docker-tls}"
mkdir -p "$CERT_DIR"
CERT_DIR="$(cd "$CERT_DIR" && pwd)"

log() { echo "docker-tls: $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "a second dockerd needs root"
command -v dockerd >/dev/null || die "dockerd is missing; run 'bash hack/docker-up.sh' first (it installs docker.io)"
command -v openssl >/dev/null || die "openssl is missing; install it (Debian: apt-get install openssl)"

mkdir -p "$RUN_DIR"
# one run at a time (parallel test workers call this too)
exec 9>"$RUN_DIR/lock"
flock -w 300 9 || die "another hack/docker-tls.sh run holds $RUN_DIR/lock"

local_answers() { docker -H "$SOCK" version --format '{{.Server.Version}}' >/dev/null 2>&1; }
tls_answers() {
  docker -H "tcp://127.0.0.1:$PORT" --tlsverify \
    --tlscacert "$CERT_DIR/client/ca.pem" --tlscert "$CERT_DIR/client/cert.pem" --tlskey "$CERT_DIR/client/key.pem" \
    version --format '{{.Server.Version}}' >/dev/null 2>&1
}
engine_pid() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q dockerd "/proc/$pid/comm" 2>/dev/null && echo "$pid"
}

stop_engine() {
  local pid
  if ! pid=$(engine_pid); then
    log "not running"
    return 0
  fi
  log "stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  # dockerd stops its containers first (10s grace each, in parallel)
  for _ in $(seq 1 120); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "stopped"
      return 0
    fi
    sleep 0.5
  done
  die "dockerd (pid $pid) did not stop within 60s; see $LOG"
}

# --- certificates ---------------------------------------------------------

certs_valid() {
  local dir
  for dir in server client; do
    [ -s "$CERT_DIR/$dir/cert.pem" ] && [ -s "$CERT_DIR/$dir/key.pem" ] && [ -s "$CERT_DIR/$dir/ca.pem" ] || return 1
    openssl verify -CAfile "$CERT_DIR/ca/ca.pem" "$CERT_DIR/$dir/cert.pem" >/dev/null 2>&1 || return 1
    openssl x509 -checkend 86400 -noout -in "$CERT_DIR/$dir/cert.pem" >/dev/null || return 1
  done
}

# sign DIR CN EXTENSIONS: a key and a certificate signed by the CA in CERT_DIR/DIR
sign() {
  local dir="$CERT_DIR/$1" cn="$2" extensions="$3"
  mkdir -p "$dir"
  openssl genrsa -out "$dir/key.pem" 2048 2>/dev/null
  openssl req -new -key "$dir/key.pem" -subj "/CN=$cn" -out "$dir/req.csr"
  printf '%b' "$extensions" >"$dir/extensions.cnf"
  openssl x509 -req -in "$dir/req.csr" -CA "$CERT_DIR/ca/ca.pem" -CAkey "$CERT_DIR/ca/ca-key.pem" \
    -CAcreateserial -days "$CERT_DAYS" -sha256 -extfile "$dir/extensions.cnf" -out "$dir/cert.pem" 2>/dev/null
  cp "$CERT_DIR/ca/ca.pem" "$dir/ca.pem"
  rm -f "$dir/req.csr" "$dir/extensions.cnf"
  chmod 0600 "$dir/key.pem"
}

make_certs() {
  log "creating a CA, a server and a client certificate in $CERT_DIR"
  rm -rf "$CERT_DIR/ca" "$CERT_DIR/server" "$CERT_DIR/client"
  mkdir -p "$CERT_DIR/ca"
  openssl genrsa -out "$CERT_DIR/ca/ca-key.pem" 2048 2>/dev/null
  chmod 0600 "$CERT_DIR/ca/ca-key.pem"
  openssl req -x509 -new -key "$CERT_DIR/ca/ca-key.pem" -sha256 -days "$CERT_DAYS" \
    -subj "/CN=atelier-workspaces test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$CERT_DIR/ca/ca.pem"
  local common="basicConstraints=critical,CA:FALSE\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
  sign server localhost "${common}keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
  sign client atelier-workspaces-client "${common}keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
}

# --- the engine -----------------------------------------------------------

start_engine() {
  if ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q .; then
    die "something else listens on 127.0.0.1:$PORT; stop it or set ATELIER_TLS_PORT"
  fi
  mkdir -p "$LOG_DIR" "$DATA_ROOT" "$RUN_DIR/exec"
  # A bridge of its own. dockerd deletes the host's docker0 (the main engine's
  # bridge) at start with --bridge=none, and also with --default-address-pool
  # once it has a default network to clear; so neither option is used.
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  ip -4 addr show dev "$BRIDGE" | grep -q "inet $BRIDGE_CIDR " || ip addr add "$BRIDGE_CIDR" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # its own (empty) daemon.json: settings of the main engine must not leak in
  printf '{}\n' >"$RUN_DIR/daemon.json"
  log "starting dockerd on tcp://127.0.0.1:$PORT and $SOCK (log: $LOG)"
  nohup dockerd \
    --config-file "$RUN_DIR/daemon.json" \
    --data-root "$DATA_ROOT" \
    --exec-root "$RUN_DIR/exec" \
    --pidfile "$PIDFILE" \
    -H "$SOCK" \
    -H "tcp://127.0.0.1:$PORT" \
    --tlsverify \
    --tlscacert "$CERT_DIR/server/ca.pem" \
    --tlscert "$CERT_DIR/server/cert.pem" \
    --tlskey "$CERT_DIR/server/key.pem" \
    --bridge "$BRIDGE" \
    --iptables=false \
    --ip-forward=false \
    --ip-masq=false \
    >"$LOG" 2>&1 9>&- &
  local pid=$!
  for _ in $(seq 1 120); do
    if local_answers && tls_answers; then
      log "dockerd answers (pid $pid): $(docker -H "$SOCK" version --format '{{.Server.Version}}')"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  echo "error: the TLS dockerd did not answer within 60s; last lines of $LOG:" >&2
  tail -n 20 "$LOG" >&2
  kill -TERM "$pid" 2>/dev/null || true
  exit 1
}

load_images() {
  local image started
  for image in $IMAGES; do
    docker -H "$SOCK" image inspect "$image" >/dev/null 2>&1 && continue
    docker -H "$MAIN_HOST" image inspect "$image" >/dev/null 2>&1 \
      || die "image $image is not on the main engine ($MAIN_HOST) either; build it first (make image)"
    started=$(date +%s%N)
    docker -H "$MAIN_HOST" save "$image" | docker -H "$SOCK" load -q >/dev/null
    log "loaded $image ($(docker -H "$SOCK" image inspect -f '{{.Size}}' "$image") bytes)" \
      "in $(( ($(date +%s%N) - started) / 1000000 )) ms"
  done
}

if [ "$action" = stop ]; then
  stop_engine
  exit 0
fi

certs_fresh=yes
certs_valid || { make_certs; certs_fresh=no; }
if engine_pid >/dev/null && local_answers && tls_answers && [ "$certs_fresh" = yes ]; then
  log "reusing the running TLS dockerd (pid $(engine_pid))"
else
  # a running engine with other certificates (or half up) is restarted
  stop_engine
  start_engine
fi
load_images

printf 'export DOCKER_HOST=%q\n' "tcp://127.0.0.1:$PORT"
printf 'export DOCKER_TLS_VERIFY=1\n'
printf 'export DOCKER_CERT_PATH=%q\n' "$CERT_DIR/client"
