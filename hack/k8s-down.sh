#!/usr/bin/env bash
# Stops and removes the real node (its processes, containers, mounts and
# network) and the local control plane, with their state.
set -euo pipefail
source "$(dirname "$0")/k8s-env.sh"
source "$REPO_ROOT/hack/node/lib.sh"
[ -d "$NODE_DIR" ] && stop_node
if command -v kwokctl >/dev/null && kwokctl get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  kwokctl delete cluster --name "$CLUSTER_NAME"
fi
rm -f "$KUBECONFIG_PATH"
echo "control plane $CLUSTER_NAME removed"
