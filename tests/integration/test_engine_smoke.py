"""Proof that the harness talks to real engines, not to stand-ins."""

import time
import uuid

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes.client import AppsV1Api, CoreV1Api  # noqa: E402
from kubernetes.client.exceptions import ApiException  # noqa: E402

SMOKE_LABEL = {"app.kubernetes.io/managed-by": "atelier.workspaces-tests"}


def _wait_for(predicate, timeout=120, interval=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


@pytest.fixture()
def namespace(k8s_api):
    core = CoreV1Api(k8s_api)
    name = f"smoke-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name, "labels": SMOKE_LABEL}})
    yield name
    core.delete_namespace(name)


def test_k8s_scheduler_places_gpu_statefulset_on_gpu_node(k8s_api, namespace):
    apps, core = AppsV1Api(k8s_api), CoreV1Api(k8s_api)
    pod_spec = {
        "nodeSelector": {"nvidia.com/gpu.product": "nvidia-tesla-t4"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "containers": [{
            "name": "main",
            "image": "atelier/busybox:local",
            "resources": {"limits": {"nvidia.com/gpu": "1"}},
        }],
    }
    apps.create_namespaced_stateful_set(namespace, {
        "metadata": {"name": "gpu"},
        "spec": {
            "replicas": 1,
            "serviceName": "gpu",
            "selector": {"matchLabels": {"app": "gpu"}},
            "template": {"metadata": {"labels": {"app": "gpu"}}, "spec": pod_spec},
        },
    })

    def running_pod():
        try:
            pod = core.read_namespaced_pod("gpu-0", namespace)
        except ApiException as error:
            if error.status == 404:
                return None
            raise
        return pod if pod.status.phase == "Running" else None

    pod = _wait_for(running_pod)
    assert pod.spec.node_name == "node-gpu"


def test_k8s_scheduler_keeps_untolerated_pod_off_gpu_node(k8s_api, namespace):
    core = CoreV1Api(k8s_api)
    core.create_namespaced_pod(namespace, {
        "metadata": {"name": "plain"},
        "spec": {
            "nodeSelector": {"topology.kubernetes.io/zone": "zone-b"},
            "containers": [{"name": "main", "image": "atelier/busybox:local"}],
        },
    })
    pod = _wait_for(lambda: (p := core.read_namespaced_pod("plain", namespace)).spec.node_name and p)
    assert pod.spec.node_name == "node-zone-b"


def test_k8s_api_server_rejects_invalid_quantity(k8s_api, namespace):
    core = CoreV1Api(k8s_api)
    with pytest.raises(ApiException) as raised:
        core.create_namespaced_pod(namespace, {
            "metadata": {"name": "bad"},
            "spec": {"containers": [{
                "name": "main",
                "image": "atelier/busybox:local",
                "resources": {"requests": {"memory": "-1Gi"}},
            }]},
        })
    assert raised.value.status == 422
    assert "resources.requests" in raised.value.body
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod("bad", namespace)
    assert missing.value.status == 404


def test_k8s_default_storage_class_binds_claims(k8s_api, namespace):
    core = CoreV1Api(k8s_api)
    core.create_namespaced_persistent_volume_claim(namespace, {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    })
    claim = _wait_for(
        lambda: (c := core.read_namespaced_persistent_volume_claim("data", namespace)).status.phase == "Bound" and c
    )
    assert claim.spec.storage_class_name == "standard"
    assert claim.spec.volume_name


def test_docker_volume_keeps_file_across_container_recreate(docker_client):
    volume = docker_client.volumes.create(f"smoke-{uuid.uuid4().hex[:8]}", labels=SMOKE_LABEL)
    try:
        docker_client.containers.run(
            "atelier/busybox:local",
            ["sh", "-c", "echo kept > /data/proof"],
            volumes={volume.name: {"bind": "/data", "mode": "rw"}},
            remove=True,
        )
        output = docker_client.containers.run(
            "atelier/busybox:local",
            ["cat", "/data/proof"],
            volumes={volume.name: {"bind": "/data", "mode": "ro"}},
            remove=True,
        )
        assert output.decode().strip() == "kept"
    finally:
        volume.remove(force=True)
