# shellcheck shell=bash
# Functions of hack/node-up.sh and hack/k8s-down.sh: the real node's processes,
# configuration files and images. Sourced after hack/k8s-env.sh.

CNI_BIN_DIR=/usr/lib/cni
CONTAINERD_SOCKET="$NODE_DIR/containerd.sock"
STORAGE_NAMESPACE=local-path-storage

kubectl_() { kubectl --kubeconfig "$KUBECONFIG_PATH" "$@"; }
ctr_() { "$NODE_BIN/ctr" --address "$CONTAINERD_SOCKET" --namespace k8s.io "$@"; }

node_ip() {
  # the address the API server reaches the kubelet on: the host's default route
  ip -4 route get 192.0.2.1 2>/dev/null | grep -oP 'src \K[0-9.]+' || echo 127.0.0.1
}

install_node_packages() {
  # runc runs the containers, the CNI plugins give pods their network.
  local missing=()
  command -v runc >/dev/null || missing+=(runc)
  [ -x "$CNI_BIN_DIR/bridge" ] || missing+=(containernetworking-plugins)
  command -v iptables >/dev/null || missing+=(iptables)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing ${missing[*]} (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
}

running() { [ -s "$NODE_DIR/pids/$1.pid" ] && kill -0 "$(cat "$NODE_DIR/pids/$1.pid")" 2>/dev/null; }

start_process() {
  # start_process NAME BINARY ARGS...: detached, logged, remembered by pid; a running one is kept
  local name=$1; shift
  if running "$name"; then echo "$name already runs (pid $(cat "$NODE_DIR/pids/$name.pid"))"; return 0; fi
  setsid "$@" >>"$NODE_DIR/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$NODE_DIR/pids/$name.pid"
}

wait_for() {
  # wait_for WHAT SECONDS COMMAND...: until COMMAND succeeds, or fail naming WHAT and the logs
  local what=$1 seconds=$2; shift 2
  for _ in $(seq 1 "$seconds"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  echo "error: $what not reached in ${seconds}s; see $NODE_DIR/logs" >&2
  tail -n 20 "$NODE_DIR"/logs/*.log >&2 || true
  return 1
}

can_lower_oom_score() { (echo -1 > /proc/self/oom_score_adj) 2>/dev/null; }

write_containerd_config() {
  cat > "$NODE_DIR/containerd.toml" <<TOML
version = 3
root = "$NODE_DIR/containerd/root"
state = "$NODE_DIR/containerd/state"

[grpc]
  address = "$CONTAINERD_SOCKET"

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "docker.io/atelier/pause:local"

[plugins.'io.containerd.cri.v1.runtime']
  # these hosts withhold CAP_SYS_RESOURCE even from root, so no process may lower its OOM score
  # (the kubelet asks -998 for every sandbox): keep scores at containerd's own or above
  restrict_oom_score_adj = $(can_lower_oom_score && echo false || echo true)
  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
      BinaryName = "$(command -v runc)"
      SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["$CNI_BIN_DIR"]
    conf_dir = "$NODE_DIR/cni/net.d"
TOML
}

write_cni_config() {
  cat > "$NODE_DIR/cni/net.d/10-atelier.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "atelier-pods",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "atelier-pods0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$POD_SUBNET"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$NODE_DIR/cni/ipam"
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
JSON
}

write_kubelet_config() {
  local ca="$KWOK_WORKDIR/clusters/$CLUSTER_NAME/pki/ca.crt"
  cat > "$NODE_DIR/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# these hosts run cgroup v1, which the kubelet refuses since 1.35 unless told
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CONTAINERD_SOCKET
podLogsDir: $NODE_DIR/pod-logs
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $ca}
authorization:
  mode: Webhook
registerWithTaints:
  - {key: $REAL_NODE_LABEL, value: "true", effect: NoSchedule}
podCIDR: $POD_SUBNET
maxPods: 40
failSwapOn: false
serializeImagePulls: false
# the imported images have no registry to come back from: never collect them
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
YAML
}

ensure_pause_image() {
  docker image inspect atelier/pause:local >/dev/null 2>&1 && return 0
  local dir; dir=$(mktemp -d)
  cp "$NODE_BIN/pause" "$dir/pause"
  tar -C "$dir" -c pause | docker import --change 'ENTRYPOINT ["/pause"]' - atelier/pause:local >/dev/null
  rm -rf "$dir"
}

import_images() {
  # containerd has no registry to pull from: the Docker engine's local images are copied in,
  # again only when one changed
  ensure_pause_image
  local images=(atelier/pause:local atelier/busybox:local atelier/workspace:local) ids
  ids=$(docker image inspect --format '{{.Id}}' "${images[@]}")
  if [ "$ids" = "$(cat "$NODE_DIR/images.imported" 2>/dev/null)" ] && ctr_ images ls -q | grep -q atelier/workspace:local; then
    return 0
  fi
  echo "importing ${images[*]} into the node's containerd"
  docker save "${images[@]}" | ctr_ images import - >/dev/null
  echo "$ids" > "$NODE_DIR/images.imported"
}

start_storage() {
  # local-path-provisioner makes each claim a directory the workspace user can write
  # (mode 0777), which the hostPath provisioner does not: it ignores fsGroup.
  kubectl_ apply --server-side --force-conflicts -f - >/dev/null <<YAML
apiVersion: v1
kind: Namespace
metadata:
  name: $STORAGE_NAMESPACE
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: local-path-config
  namespace: $STORAGE_NAMESPACE
data:
  setup: |-
    #!/bin/sh
    set -eu
    mkdir -m 0777 -p "\$VOL_DIR"
  teardown: |-
    #!/bin/sh
    set -eu
    rm -rf "\$VOL_DIR"
YAML
  cat > "$NODE_DIR/local-path.json" <<JSON
{"nodePathMap": [{"node": "$REAL_NODE", "paths": ["$NODE_DIR/storage"]}]}
JSON
  cat > "$NODE_DIR/local-path-helper.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: helper-pod
spec:
  containers:
    - name: helper-pod
      image: atelier/busybox:local
      imagePullPolicy: Never
YAML
  start_process local-path "$NODE_BIN/local-path-provisioner" start \
    --kubeconfig "$KUBECONFIG_PATH" --namespace "$STORAGE_NAMESPACE" \
    --config "$NODE_DIR/local-path.json" --helper-pod-file "$NODE_DIR/local-path-helper.yaml" \
    --helper-image atelier/busybox:local --service-account-name default
}

start_ingress() {
  # Traefik's ingress-nginx provider serves the nginx IngressClass and its annotations.
  # It reaches the workspace gateway through its own entry point (an auth-url on
  # the ingress), so it trusts the X-Forwarded-* headers it sends itself.
  start_process traefik env KUBECONFIG="$KUBECONFIG_PATH" "$NODE_BIN/traefik" \
    --entryPoints.web.address="$INGRESS_ADDRESS" \
    --entryPoints.web.forwardedHeaders.trustedIPs="${INGRESS_ADDRESS%:*}/32" \
    --providers.kubernetesIngressNGINX=true \
    --log.level=INFO --log.noColor=true --accessLog=true --accessLog.filePath="$NODE_DIR/logs/ingress-access.log"
  echo "$INGRESS_ADDRESS" > "$INGRESS_ADDRESS_FILE"
  wait_for "ingress controller on $INGRESS_ADDRESS" 60 curl -s -o /dev/null "http://$INGRESS_ADDRESS/"
}

stop_process() {
  local name=$1 pid
  running "$name" || return 0
  pid=$(cat "$NODE_DIR/pids/$name.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null || true
}

remove_pod_network() {
  # what the bridge plugin left per pod: network namespaces, masquerade chains, the bridge
  local netns chain
  for netns in /var/run/netns/cni-*; do
    [ -e "$netns" ] || continue
    umount "$netns" 2>/dev/null || true
    rm -f "$netns"
  done
  { iptables-save -t nat 2>/dev/null || true; } | { grep -oP '^-A POSTROUTING .*name: \\?"atelier-pods\\?".* -j \K\S+' || true; } | sort -u \
    | while read -r chain; do
        iptables -t nat -S POSTROUTING | grep -- "-j $chain" | sed 's/^-A/-D/' \
          | while read -r rule; do eval "iptables -t nat $rule" 2>/dev/null || true; done
        iptables -t nat -F "$chain" 2>/dev/null || true
        iptables -t nat -X "$chain" 2>/dev/null || true
      done
  ip link delete atelier-pods0 2>/dev/null || true
}

stop_node() {
  # the kubelet first, so it starts nothing new; then every container and shim of this containerd
  stop_process traefik
  stop_process local-path
  stop_process kubelet
  if running containerd; then
    ctr_ tasks ls -q 2>/dev/null | while read -r task; do ctr_ tasks kill -s KILL "$task" >/dev/null 2>&1 || true; done
  fi
  stop_process containerd
  pkill -KILL -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCKET" 2>/dev/null || true
  # mounts the kubelet and containerd left (volumes, root filesystems, shm), deepest first
  { grep -oP "^\S+ \K$NODE_DIR\S*" /proc/mounts || true; } | sort -r \
    | while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
  remove_pod_network
  rm -rf /run/containerd/runc/k8s.io
  kubectl_ delete node "$REAL_NODE" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  rm -rf "$NODE_DIR" "$INGRESS_ADDRESS_FILE"
}
