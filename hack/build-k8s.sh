#!/usr/bin/env bash
# Builds the local Kubernetes control plane from Go modules into a cache outside
# the repository, once per version. Later runs find the binaries and return.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-v1.37.2}"
ETCD_VERSION="${ETCD_VERSION:-v3.7.3}"
KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"
CACHE="${ATELIER_CACHE:-$HOME/.cache/atelier-workspaces}"
BIN="$CACHE/k8s/$K8S_VERSION/bin"
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet etcd kwok kwokctl)
KUBERNETES_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet)

have_all() {
  for b in "${BINARIES[@]}"; do [ -x "$BIN/$b" ] || return 1; done
}

if have_all; then
  echo "k8s binaries cached in $BIN"
  exit 0
fi

command -v go >/dev/null || { echo "error: Go is needed to build the Kubernetes binaries; install Go >= 1.26 (https://go.dev/doc/install)" >&2; exit 1; }
mkdir -p "$CACHE"
free_mb=$(df -Pm "$CACHE" 2>/dev/null | awk 'NR==2{print $4}' || echo 0)
if [ "${free_mb:-0}" -lt 8000 ]; then
  echo "error: building Kubernetes needs ~8 GiB free disk near $CACHE (have ${free_mb} MiB)" >&2
  exit 1
fi

mkdir -p "$BIN"
export GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED=0 GOTOOLCHAIN=local
started=$(date +%s)

build_kubernetes() {
  local dir="$CACHE/k8s/$K8S_VERSION/src-kubernetes" minor="v0.${K8S_VERSION#v1.}"
  mkdir -p "$dir" && cd "$dir"
  cat > go.mod <<MOD
module atelier.local/k8s-build

go 1.26.0

require k8s.io/kubernetes $K8S_VERSION
MOD
  # The kubernetes module points every k8s.io/* staging module at a local
  # directory; the published v0.X.Y modules carry the same code.
  local staging
  staging=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  grep -oP '^\s+\Kk8s.io/[a-z0-9-]+(?= => ./staging)' "$staging" | grep -v '^k8s.io/sample-' | while read -r mod; do
    echo "replace $mod => $mod $minor" >> go.mod
  done
  cat > tools.go <<'SRC'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
SRC
  go mod tidy -e >/dev/null 2>&1 || true
  go mod download
  local pkgver="k8s.io/component-base/version" cgver="k8s.io/client-go/pkg/version"
  local ld="-s -w"
  for p in "$pkgver" "$cgver"; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2) -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  for cmd in "$@"; do
    echo "building $cmd $K8S_VERSION"
    go build -trimpath -ldflags "$ld" -o "$BIN/$cmd" "k8s.io/kubernetes/cmd/$cmd"
  done
}

build_etcd() {
  local dir="$CACHE/k8s/$K8S_VERSION/src-etcd"
  mkdir -p "$dir" && cd "$dir"
  cat > go.mod <<MOD
module atelier.local/etcd-build

go 1.26.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
MOD
  cat > tools.go <<'SRC'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
SRC
  go mod tidy -e >/dev/null 2>&1 || true
  echo "building etcd $ETCD_VERSION"
  go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3
}

build_kwok() {
  echo "building kwok, kwokctl $KWOK_VERSION"
  GOBIN="$BIN" go install -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
}

if [ ! -x "$BIN/kwokctl" ] || [ ! -x "$BIN/kwok" ]; then build_kwok; fi
[ -x "$BIN/etcd" ] || build_etcd
missing=()
for b in "${KUBERNETES_COMMANDS[@]}"; do [ -x "$BIN/$b" ] || missing+=("$b"); done
[ ${#missing[@]} -eq 0 ] || build_kubernetes "${missing[@]}"
have_all
echo "k8s binaries built in $BIN in $(( $(date +%s) - started ))s"
