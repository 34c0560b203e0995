#!/usr/bin/env bash
# Builds the real node's components from the Go module proxy into a cache
# outside the repository, once per version: containerd (its own
# instance, apart from the Docker engine's), its runc shim, ctr, the pause
# program of every pod sandbox, the local-path provisioner, and Traefik as the ingress controller. The
# kubelet comes with the control plane from build-k8s.sh.
set -euo pipefail
source "$(dirname "$0")/k8s-env.sh"

BINARIES=(containerd containerd-shim-runc-v2 ctr pause traefik local-path-provisioner)

have_all() {
  for b in "${BINARIES[@]}"; do [ -x "$NODE_BIN/$b" ] || return 1; done
}
if have_all; then
  echo "node binaries cached in $NODE_BIN"
  exit 0
fi

mkdir -p "$NODE_BIN"
export GOFLAGS="${GOFLAGS:--buildvcs=false}" CGO_ENABLED=0 GOTOOLCHAIN=local
started=$(date +%s)

build_containerd() {
  echo "building containerd, containerd-shim-runc-v2, ctr $CONTAINERD_VERSION"
  local ld="-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION"
  # btrfs needs cgo and C headers; the node uses overlayfs.
  GOBIN="$NODE_BIN" go install -trimpath -tags no_btrfs -ldflags "$ld" \
    "github.com/containerd/containerd/v2/cmd/containerd@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" \
    "github.com/containerd/containerd/v2/cmd/ctr@$CONTAINERD_VERSION"
}

build_traefik() {
  # Traefik's go.mod replaces modules by local paths, which `go install
  # module@version` refuses; building inside a copy of the module keeps them.
  echo "building traefik $TRAEFIK_VERSION"
  local dir="$ATELIER_CACHE/node/src-traefik-$TRAEFIK_VERSION" src
  if [ ! -f "$dir/go.mod" ]; then
    src=$(cd "$(mktemp -d)" && go mod download -json "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
    rm -rf "$dir" && mkdir -p "$(dirname "$dir")" && cp -r "$src" "$dir" && chmod -R u+w "$dir"
  fi
  (cd "$dir" && go build -trimpath \
    -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION" \
    -o "$NODE_BIN/traefik" ./cmd/traefik)
}

build_local_path() {
  echo "building local-path-provisioner $LOCAL_PATH_VERSION"
  GOBIN="$NODE_BIN" go install -trimpath -ldflags "-s -w" \
    "github.com/rancher/local-path-provisioner@$LOCAL_PATH_VERSION"
}

build_pause() {
  (cd "$REPO_ROOT/hack/node/pause" && go build -trimpath -ldflags "-s -w" -o "$NODE_BIN/pause" .)
}

[ -x "$NODE_BIN/pause" ] || build_pause
[ -x "$NODE_BIN/containerd" ] || build_containerd
[ -x "$NODE_BIN/local-path-provisioner" ] || build_local_path
[ -x "$NODE_BIN/traefik" ] || build_traefik
have_all
echo "node binaries built in $NODE_BIN in $(( $(date +%s) - started ))s"
