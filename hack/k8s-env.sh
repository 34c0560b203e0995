# shellcheck shell=bash disable=SC2034
# Sourced by the k8s-* scripts: where the binaries and the cluster live.
K8S_VERSION="${K8S_VERSION:-v1.37.2}"
ATELIER_CACHE="${ATELIER_CACHE:-$HOME/.cache/atelier-workspaces}"
K8S_BIN="$ATELIER_CACHE/k8s/$K8S_VERSION/bin"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK_DIR="$REPO_ROOT/.work"
KUBECONFIG_PATH="$WORK_DIR/kubeconfig"
CLUSTER_NAME="${ATELIER_CLUSTER:-atelier}"
export KWOK_WORKDIR="$WORK_DIR/kwok"
export PATH="$K8S_BIN:$PATH"
