"""The idle reaper on the real engines: only workspaces idle past their limit stop, each with its reason."""

import datetime
import json
import time
import uuid

import pytest
from ansible_runner import audit_writes, run_module
from docker_workspaces import kept_control_documents, remove_workspaces

REAPER = "atelier.workspaces.workspace_reaper"
WORKSPACE = "atelier.workspaces.workspace"


def _policy(max_idle):
    return {"termination_policy": {"enable_auto_termination": True, "max_idle_seconds": max_idle}}


@pytest.fixture()
def docker_documents(docker_client):
    """The engine's record of idle stops is shared with its other workspaces: put back as it was."""
    with kept_control_documents(docker_client):
        yield


def test_docker_reaper_stops_the_idle_workspace_and_says_why(docker_client, docker_documents):
    prefix = f"reap-{uuid.uuid4().hex[:4]}"
    idle_name, busy_name, free_name = f"{prefix}-idle", f"{prefix}-busy", f"{prefix}-free"
    base = {"backend": "docker", "image": "atelier/busybox:local", "command": ["sleep", "infinity"],
            "user_code_path": "/data", "wait_timeout": 30}
    try:
        run_module(WORKSPACE, {**base, "name": idle_name, "lifecycle_config": _policy(2)})
        # busy's limit is passed since its start, so only its reported activity keeps it running
        run_module(WORKSPACE, {**base, "name": busy_name, "lifecycle_config": _policy(8)})
        run_module(WORKSPACE, {**base, "name": free_name})
        time.sleep(9)
        busy = docker_client.containers.get(f"atelier-{busy_name}")

        def report_activity():
            code, output = busy.exec_run(
                ["sh", "-c", "mkdir -p /data/.atelier && touch /data/.atelier/last-activity"], user="1000")
            assert code == 0, output

        report_activity()
        predicted = run_module(REAPER, {"backend": "docker"}, check=True)
        assert [row["name"] for row in predicted["stopped"] if row["name"].startswith(prefix)] == [idle_name]
        assert docker_client.containers.get(f"atelier-{idle_name}").status == "running"

        report_activity()
        # by name: other workspaces on the engine may be idle too, and are not this test's to stop. busy first,
        # right after its activity; stopping idle takes the engine's stop timeout
        reaped = {name: run_module(REAPER, {"backend": "docker", "name": name})
                  for name in (busy_name, free_name, idle_name)}
        assert [name for name, result in reaped.items() if result["changed"]] == [idle_name]
        (row,) = reaped[idle_name]["stopped"]
        assert row["name"] == idle_name and row["max_idle_seconds"] == 2 and row["idle_seconds"] >= 3
        assert row["reason"].startswith("idle ") and "no activity reported since start" in row["reason"]
        assert docker_client.containers.get(f"atelier-{idle_name}").status == "exited"
        assert docker_client.containers.get(f"atelier-{busy_name}").status == "running"
        assert docker_client.containers.get(f"atelier-{free_name}").status == "running"

        again = run_module(REAPER, {"backend": "docker", "name": idle_name})
        assert again["changed"] is False
        info = run_module("atelier.workspaces.workspace_info", {"backend": "docker", "name": idle_name})
        assert info["workspaces"][0]["stopped_reason"] == row["reason"]
        # the workspace module keeps an idle-stopped workspace stopped until it is asked to run
        kept = run_module(WORKSPACE, {**base, "name": idle_name, "lifecycle_config": _policy(2)})
        assert kept["changed"] is False
    finally:
        remove_workspaces(docker_client, prefix)


@pytest.fixture()
def namespace(k8s_api):
    from kubernetes.client import CoreV1Api

    name = f"reap-{uuid.uuid4().hex[:6]}"
    yield name
    CoreV1Api(k8s_api).delete_namespace(name)


def test_kubernetes_reaper_scales_the_idle_workspace_to_zero(k8s_api, kubeconfig, namespace):
    from kubernetes.client import AppsV1Api

    apps = AppsV1Api(k8s_api)
    base = {"kubeconfig": kubeconfig, "namespace": namespace, "image": "atelier/busybox:local", "wait": True,
            "wait_timeout": 60}
    run_module(WORKSPACE, {**base, "name": "idle", "lifecycle_config": _policy(2)})
    run_module(WORKSPACE, {**base, "name": "busy", "lifecycle_config": _policy(2)})
    time.sleep(4)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    apps.patch_namespaced_stateful_set("busy", namespace, {"metadata": {"annotations": {
        "workspaces.atelier.dev/last-activity": now}}})

    reaped = run_module(REAPER, {"kubeconfig": kubeconfig, "namespace": namespace})
    assert [row["name"] for row in reaped["stopped"]] == ["idle"]
    statefulset = apps.read_namespaced_stateful_set("idle", namespace)
    assert statefulset.spec.replicas == 0
    assert statefulset.metadata.annotations["workspaces.atelier.dev/stopped-reason"] == reaped["stopped"][0]["reason"]
    assert apps.read_namespaced_stateful_set("busy", namespace).spec.replicas == 1

    writes = audit_writes(namespace)
    assert run_module(REAPER, {"kubeconfig": kubeconfig, "namespace": namespace, "name": "idle"})["changed"] is False
    kept = run_module(WORKSPACE, {**base, "name": "idle", "lifecycle_config": _policy(2)})
    assert kept["changed"] is False, kept["actions"]
    assert audit_writes(namespace) == writes
    info = run_module("atelier.workspaces.workspace_info", {"kubeconfig": kubeconfig, "namespace": namespace,
                                                            "name": "idle"})
    assert info["workspaces"][0]["status"] in ("Stopping", "Stopped")
    assert json.dumps(info["workspaces"][0]).count("idle ") >= 1
