#!/usr/bin/env bash
# Stops and removes the local control plane and its state.
set -euo pipefail
source "$(dirname "$0")/k8s-env.sh"
if command -v kwokctl >/dev/null && kwokctl get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  kwokctl delete cluster --name "$CLUSTER_NAME"
fi
rm -f "$KUBECONFIG_PATH"
echo "control plane $CLUSTER_NAME removed"
