"""Bulk converge on the local control plane: atelier.workspaces.workspace against kubernetes.core.k8s.

Both sides create the same objects for COUNT workspaces in a namespace of their
own and are then run again unchanged. Wall time is measured around
ansible-playbook; write requests are counted in the API server's audit log.

    .venv/bin/python benchmarks/k8s_bulk.py [--count 200]
"""

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / ".work" / "collections"))

from ansible_collections.atelier.workspaces.plugins.module_utils.args import workspace as workspace_args  # noqa: E402
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import plan as k8s_plan  # noqa: E402
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import workspace_spec as spec  # noqa: E402
from playbooks import run_playbook, write_play  # noqa: E402

KUBECONFIG = REPO_ROOT / ".work" / "kubeconfig"
AUDIT_LOG = REPO_ROOT / ".work" / "kwok" / "clusters" / "atelier" / "logs" / "audit.log"
WRITE_VERBS = ("create", "update", "patch", "delete")
# writes of the cluster's own controllers (pods, endpoints, status) are not the tool's
CLUSTER_AGENTS = ("kube-controller-manager/", "kube-scheduler/", "kwok-controller/")


def writes_in(namespace):
    """Write requests the tool under test sent into its namespace."""
    count = 0
    with open(AUDIT_LOG, encoding="utf-8") as log:
        for line in log:
            if f'"namespace":"{namespace}"' in line:
                event = json.loads(line)
                count += event["verb"] in WRITE_VERBS and not event["userAgent"].startswith(CLUSTER_AGENTS)
    return count


def entry(index):
    return {"name": f"ws-{index:04d}", "env": {"INDEX": str(index)}}


def our_playbook(directory, namespace, count):
    task = {
        "atelier.workspaces.workspace": {
            "backend": "kubernetes", "namespace": namespace, "kubeconfig": str(KUBECONFIG),
            "image": "atelier/busybox:local", "storage": {"size": "1Gi"}, "wait": False,
            "workspaces": [entry(i) for i in range(count)],
        },
    }
    return write_play(directory / "ours.yml", [{"name": "Converge the workspaces", **task}])


def peer_playbook(directory, namespace, count):
    """kubernetes.core.k8s applying the same objects, one task per object in a loop."""
    objects = []
    for index in range(count):
        params = {k: v.get("default") for k, v in workspace_args.argument_spec().items()}
        params.update(backend="kubernetes", namespace=namespace, image="atelier/busybox:local",
                      storage={"size": "1Gi", "subpath_prefix": "workspaces"}, **entry(index))
        model, errors = spec.build_model(params)
        assert not errors, errors
        objects.extend(k8s_plan.desired_objects(model, 1))
    (directory / "objects.json").write_text(json.dumps(objects))
    tasks = [
        {"name": "Create the namespace", "kubernetes.core.k8s": {
            "kubeconfig": str(KUBECONFIG), "name": namespace, "kind": "Namespace", "api_version": "v1"}},
        {"name": "Apply every object", "kubernetes.core.k8s": {
            "kubeconfig": str(KUBECONFIG), "definition": "{{ item }}", "apply": True},
         "loop": "{{ lookup('ansible.builtin.file', '" + str(directory / "objects.json") + "') | from_json }}",
         "loop_control": {"label": "{{ item.kind }}/{{ item.metadata.name }}"}},
    ]
    return write_play(directory / "peer.yml", tasks)


def measure(name, playbook, namespace):
    first = run_playbook(playbook)
    writes_first = writes_in(namespace)
    second = run_playbook(playbook)
    writes_second = writes_in(namespace) - writes_first
    print(f"{name:28} converge {first:8.1f} s  {writes_first:5d} writes | re-run {second:7.1f} s "
          f"{writes_second:5d} writes")
    return first, second, writes_second


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    count = parser.parse_args().count
    suffix = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        print(f"{count} workspaces (StatefulSet, Service, Secret, PersistentVolumeClaim each), local control plane")
        ours = measure("atelier.workspaces (bulk)", our_playbook(directory, f"bench-ours-{suffix}", count),
                       f"bench-ours-{suffix}")
        # the service IP range of a small test cluster does not hold both sides at once
        cleanup(f"bench-ours-{suffix}")
        peer = measure("kubernetes.core.k8s (loop)", peer_playbook(directory, f"bench-peer-{suffix}", count),
                       f"bench-peer-{suffix}")
    print(f"converge speed-up: {peer[0] / ours[0]:.1f}x   re-run speed-up: {peer[1] / ours[1]:.1f}x   "
          f"re-run writes: {ours[2]} vs {peer[2]}")
    cleanup(f"bench-peer-{suffix}")


def cleanup(namespace):
    """Delete a namespace and wait until it is gone (its Services' addresses are free again)."""
    import kubernetes

    core = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(config_file=str(KUBECONFIG)))
    core.delete_namespace(namespace)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if namespace not in [n.metadata.name for n in core.list_namespace().items]:
            return
        time.sleep(1)


if __name__ == "__main__":
    main()
