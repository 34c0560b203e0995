"""Roles and the workspace lifecycle: shown by workspace_info, exported into Docker workspaces, removed with them."""

import json
import uuid

import pytest
from ansible_runner import run_module
from docker_workspaces import kept_control_documents, remove_workspaces

ROLE = "atelier.workspaces.workspace_role"
WORKSPACE = "atelier.workspaces.workspace"


def _docker_args(name, **extra):
    return {"name": name, "backend": "docker", "image": "atelier/busybox:local", "command": ["sleep", "infinity"],
            "user_code_path": "/data", "wait_timeout": 30, **extra}


@pytest.fixture()
def docker_workspace(docker_client):
    name = f"rw-{uuid.uuid4().hex[:6]}"
    # the roles document is the engine's: put back as it was
    with kept_control_documents(docker_client):
        yield name
        remove_workspaces(docker_client, name)


def _roles_file(docker_client, name):
    container = docker_client.containers.get(f"atelier-{name}")
    code, output = container.exec_run(["cat", "/etc/atelier/roles.json"], user="1000")
    assert code == 0, output
    denied, _output = container.exec_run(["sh", "-c", "echo x > /etc/atelier/roles.json"], user="1000")
    assert denied != 0, "the workspace user must not be able to change its roles"
    return json.loads(output)


def _own(exported):
    return [row for row in exported["assignments"] if row["scope"] == "workspace"]


def test_docker_roles_are_exported_shown_and_removed_with_the_workspace(docker_client, docker_workspace):
    name = docker_workspace
    run_module(WORKSPACE, _docker_args(name))
    alice = {"kind": "user", "name": "alice"}
    assignment = {"backend": "docker", "workspace": name, "role": "viewer", "subject": alice}
    assigned = run_module(ROLE, assignment)
    assert f"export roles into workspace {name}" in assigned["actions"]
    exported = _roles_file(docker_client, name)
    assert exported["enforced"] is False
    # global roles of the engine's users are in the file too; the workspace's own are the test's
    assert _own(exported) == [{"role": "viewer", "subject": alice, "scope": "workspace"}]

    info = run_module("atelier.workspaces.workspace_info", {"backend": "docker", "name": name})
    assert {"role": "viewer", "subject": {"kind": "user", "name": "alice"}, "scope": "workspace"} in (
        info["workspaces"][0]["roles"])

    # a new container (an env change) gets the file again
    run_module(WORKSPACE, _docker_args(name, env={"CHANGED": "1"}))
    assert _own(_roles_file(docker_client, name)) == [{"role": "viewer", "subject": alice, "scope": "workspace"}]

    removed = run_module(WORKSPACE, _docker_args(name, state="absent"))
    assert f"remove workspace:{name} from the roles document" in removed["actions"]
    assert run_module(WORKSPACE, _docker_args(name, state="absent"))["changed"] is False
    run_module(WORKSPACE, _docker_args(name))
    assert _own(_roles_file(docker_client, name)) == []


def test_kubernetes_bindings_go_with_the_workspace(k8s_api, kubeconfig):
    from kubernetes.client import CoreV1Api, RbacAuthorizationV1Api

    namespace, name = f"rw-{uuid.uuid4().hex[:6]}", "ws"
    args = {"name": name, "namespace": namespace, "kubeconfig": kubeconfig, "image": "atelier/busybox:local",
            "wait": False}
    rbac = RbacAuthorizationV1Api(k8s_api)
    try:
        run_module(WORKSPACE, args)
        run_module(ROLE, {"kubeconfig": kubeconfig, "namespace": namespace, "workspace": name, "role": "editor",
                          "subject": {"kind": "group", "name": "data-team"}})
        info = run_module("atelier.workspaces.workspace_info", {"kubeconfig": kubeconfig, "namespace": namespace})
        assert info["workspaces"][0]["roles"] == [
            {"role": "editor", "subject": {"kind": "group", "name": "data-team"}, "scope": "workspace"}]
        assert rbac.list_namespaced_role_binding(namespace).items

        removed = run_module(WORKSPACE, {**args, "state": "absent"})
        assert any(action.startswith("delete RoleBinding/") for action in removed["actions"])
        assert rbac.list_namespaced_role_binding(namespace).items == []
        assert rbac.list_namespaced_role(namespace).items == []
        assert run_module(WORKSPACE, {**args, "state": "absent"})["changed"] is False
    finally:
        CoreV1Api(k8s_api).delete_namespace(namespace)
