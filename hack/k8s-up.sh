#!/usr/bin/env bash
# Starts (or reuses) the local control plane: etcd, kube-apiserver,
# kube-controller-manager and kube-scheduler run as local processes by kwokctl,
# with fake nodes from the kwok controller (only nodes annotated
# kwok.x-k8s.io/node=fake), and one real node from hack/node-up.sh.
# Writes .work/kubeconfig.
set -euo pipefail
source "$(dirname "$0")/k8s-env.sh"

api_ready() { [ -s "$KUBECONFIG_PATH" ] && kubectl --kubeconfig "$KUBECONFIG_PATH" get --raw /readyz >/dev/null 2>&1; }

bash "$REPO_ROOT/hack/build-k8s.sh"
mkdir -p "$WORK_DIR"
# kwokctl v0.8 files a component's later --extra-args at the index its first one
# had among all of them, so the first one of each component come first, in a row.
# the API server reaches the real kubelet (exec, logs, port-forward) with the cluster's client certificate
PKI="$KWOK_WORKDIR/clusters/$CLUSTER_NAME/pki"
# people with bearer tokens, as an OIDC proxy would present them: the workspace
# gateway's tests give them workspace roles and send their requests through the ingress
USER_TOKENS="$WORK_DIR/user-tokens.csv"
started=$(date +%s)
if [ ! -s "$USER_TOKENS" ]; then
  (umask 077; python3 - "$USER_TOKENS" <<'PY'
import secrets, sys
people = {"alice": "devs", "bob": "devs", "carol": "ops", "dave": ""}
with open(sys.argv[1], "w", encoding="utf-8") as tokens:
    for uid, (name, group) in enumerate(people.items(), 1000):
        tokens.write(f'{secrets.token_hex(24)},{name},{uid},"{group}"\n')
PY
  )
fi

if api_ready; then
  echo "control plane already answers ($KUBECONFIG_PATH)"
elif kwokctl get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"; then
  echo "restarting cluster $CLUSTER_NAME"
  kwokctl start cluster --name "$CLUSTER_NAME" --wait 3m
  kwokctl get kubeconfig --name "$CLUSTER_NAME" > "$KUBECONFIG_PATH"
else
  echo "creating cluster $CLUSTER_NAME (kwokctl, binary runtime, Kubernetes $K8S_VERSION)"
  kwokctl create cluster --name "$CLUSTER_NAME" --runtime binary \
    --etcd-binary "$K8S_BIN/etcd" \
    --kube-apiserver-binary "$K8S_BIN/kube-apiserver" \
    --kube-controller-manager-binary "$K8S_BIN/kube-controller-manager" \
    --kube-scheduler-binary "$K8S_BIN/kube-scheduler" \
    --kwok-controller-binary "$K8S_BIN/kwok" \
    --kube-audit-policy "$REPO_ROOT/hack/k8s/audit-policy.yaml" \
    --extra-args kube-controller-manager=enable-hostpath-provisioner=true \
    --extra-args kube-apiserver=service-cluster-ip-range=10.96.0.0/16 \
    --extra-args kwok-controller=manage-all-nodes=false \
    --extra-args "kube-apiserver=kubelet-client-certificate=$PKI/admin.crt" \
    --extra-args "kube-apiserver=kubelet-client-key=$PKI/admin.key" \
    --extra-args kube-apiserver=kubelet-preferred-address-types=InternalIP \
    --extra-args "kube-apiserver=token-auth-file=$USER_TOKENS" \
    --extra-args kwok-controller=manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --kubeconfig "$KUBECONFIG_PATH" \
    --wait 3m
  kwokctl get kubeconfig --name "$CLUSTER_NAME" > "$KUBECONFIG_PATH"
fi

for _ in $(seq 1 60); do api_ready && break; sleep 1; done
api_ready || { echo "error: kube-apiserver does not answer; see $KWOK_WORKDIR/clusters/$CLUSTER_NAME/logs" >&2; exit 1; }
kubectl --kubeconfig "$KUBECONFIG_PATH" apply --server-side --force-conflicts -f "$REPO_ROOT/hack/k8s/manifests/" >/dev/null
kubectl --kubeconfig "$KUBECONFIG_PATH" wait --for=condition=Ready node --all --timeout=120s >/dev/null
kubectl --kubeconfig "$KUBECONFIG_PATH" wait --for=condition=Established crd --all --timeout=60s >/dev/null
bash "$REPO_ROOT/hack/node-up.sh"
echo "control plane ready in $(( $(date +%s) - started ))s: $(kubectl --kubeconfig "$KUBECONFIG_PATH" version -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["serverVersion"]["gitVersion"])') (kubeconfig: $KUBECONFIG_PATH)"
