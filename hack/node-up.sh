#!/usr/bin/env bash
# Starts (or reuses) the real node next to the control plane: containerd with
# its own socket and state, a kubelet registered as $REAL_NODE (labelled and
# tainted so only workspaces that ask for it land there), the local-path
# provisioner for storage the workspace user can write, and Traefik serving the
# nginx IngressClass on $INGRESS_ADDRESS. Everything runs as local processes.
set -euo pipefail
source "$(dirname "$0")/k8s-env.sh"
source "$REPO_ROOT/hack/node/lib.sh"

[ "$(id -u)" = 0 ] || { echo "error: the real node needs root (containerd, kubelet, CNI)" >&2; exit 1; }
bash "$REPO_ROOT/hack/build-node.sh"
install_node_packages
# the images the node runs come from the local Docker engine (quick when both are there already)
bash "$REPO_ROOT/hack/docker-up.sh" >/dev/null
bash "$REPO_ROOT/hack/build-images.sh"
started=$(date +%s)
mkdir -p "$NODE_DIR"/{logs,pids,cni/net.d,cni/ipam,kubelet,containerd,storage}

write_containerd_config
# its own runc shim, found first on PATH: the Docker engine's containerd has an older one
start_process containerd env PATH="$NODE_BIN:$PATH" "$NODE_BIN/containerd" --config "$NODE_DIR/containerd.toml"
wait_for "containerd socket" 60 ctr_ version
import_images

write_cni_config
write_kubelet_config
start_process kubelet "$K8S_BIN/kubelet" \
  --config "$NODE_DIR/kubelet.yaml" \
  --kubeconfig "$KUBECONFIG_PATH" \
  --root-dir "$NODE_DIR/kubelet" \
  --cert-dir "$NODE_DIR/kubelet/pki" \
  --hostname-override "$REAL_NODE" \
  --node-ip "$(node_ip)" \
  --node-labels "$REAL_NODE_LABEL=true"
wait_for "node $REAL_NODE Ready" 120 kubectl_ wait --for=condition=Ready "node/$REAL_NODE" --timeout=2s

start_storage
start_ingress
echo "real node $REAL_NODE ready in $(( $(date +%s) - started ))s; ingress controller on http://$INGRESS_ADDRESS (written to $INGRESS_ADDRESS_FILE)"
