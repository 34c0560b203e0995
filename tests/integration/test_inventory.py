"""The workspaces inventory plugin: running workspaces become hosts that playbooks really reach."""

import json
import os
import subprocess
import uuid

import pytest
from ansible_runner import REPO_ROOT, VENV_BIN, run_module
from docker_workspaces import remove_workspaces


def _ansible(command, inventory, *args):
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
           "ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / ".work" / "collections"),
           "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '')}"}
    completed = subprocess.run([str(VENV_BIN / command), "-i", str(inventory), *args], capture_output=True, text=True,
                               env=env, cwd=REPO_ROOT, check=False, timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def _plain(value):
    """ansible-inventory marks values from inventory plugins as unsafe (never templated); the tests read the value."""
    if isinstance(value, dict):
        return value["__ansible_unsafe"] if set(value) == {"__ansible_unsafe"} else {
            key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


@pytest.fixture()
def docker_workspaces(docker_client):
    prefix = f"inv-{uuid.uuid4().hex[:4]}"
    yield prefix
    remove_workspaces(docker_client, prefix)


def test_running_docker_workspaces_are_hosts_ansible_reaches(tmp_path, docker_client, docker_workspaces):
    running, stopped = f"{docker_workspaces}-run", f"{docker_workspaces}-off"
    run_module("atelier.workspaces.workspace", {"name": running, "backend": "docker", "wait_timeout": 60})
    run_module("atelier.workspaces.workspace", {"name": stopped, "backend": "docker", "state": "stopped",
                                                "image": "atelier/busybox:local"})
    inventory = tmp_path / "team.workspaces.yml"
    inventory.write_text("plugin: atelier.workspaces.workspaces\nbackend: docker\n"
                         "keyed_groups:\n  - key: workspace_status\n    prefix: status\n")

    listed = _plain(json.loads(_ansible("ansible-inventory", inventory, "--list")))
    assert running in listed["atelier_workspaces"]["hosts"]
    assert stopped not in json.dumps(listed), "a stopped workspace cannot take tasks"
    host_vars = listed["_meta"]["hostvars"][running]
    assert host_vars["ansible_connection"] == "community.docker.docker"
    assert host_vars["ansible_host"] == f"atelier-{running}"
    assert running in listed["status_Running"]["hosts"]

    # a task really runs inside the workspace, as its user, and its file lands in the data volume
    output = _ansible("ansible", inventory, running, "-m", "ansible.builtin.shell",
                      "-a", "id -u && echo from-ansible > $USER_CODE_PATH/proof")
    assert "1000" in output
    container = docker_client.containers.get(f"atelier-{running}")
    assert container.exec_run(["cat", "/home/workspace/code/proof"]).output.decode().strip() == "from-ansible"


def test_kubernetes_workspaces_are_hosts_with_kubectl_connection(tmp_path, k8s_api, kubeconfig):
    from kubernetes.client import CoreV1Api

    namespace = f"inv-{uuid.uuid4().hex[:6]}"
    try:
        run_module("atelier.workspaces.workspace", {"name": "ws", "namespace": namespace, "kubeconfig": kubeconfig,
                                                    "image": "atelier/busybox:local", "wait_timeout": 60})
        inventory = tmp_path / "cluster.workspaces.yml"
        inventory.write_text(f"plugin: atelier.workspaces.workspaces\nbackend: kubernetes\n"
                             f"kubeconfig: {kubeconfig}\nnamespace: {namespace}\n")
        listed = _plain(json.loads(_ansible("ansible-inventory", inventory, "--list")))
        host_vars = listed["_meta"]["hostvars"][f"ws.{namespace}"]
        assert host_vars["ansible_connection"] == "kubernetes.core.kubectl"
        assert host_vars["ansible_kubectl_pod"] == "ws-0"
        assert host_vars["ansible_kubectl_namespace"] == namespace
        assert host_vars["ansible_kubectl_container"] == "workspace"
    finally:
        CoreV1Api(k8s_api).delete_namespace(namespace)
