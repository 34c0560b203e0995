"""An engine that already runs someone else's workspace: env-policy and role tasks about the test's own
workspaces neither report nor change it. (The whole integration session also runs beside such a workspace:
see the `bystander` fixture in conftest.py, which checks it is untouched when the session ends.)"""

import uuid

import pytest
from ansible_runner import run_module
from docker_workspaces import container, control_files, kept_control_documents, remove_workspaces

WORKSPACE = "atelier.workspaces.workspace"
POLICY = "atelier.workspaces.workspace_env_policy"
ROLE = "atelier.workspaces.workspace_role"


def _args(name, **extra):
    return {"name": name, "backend": "docker", "image": "atelier/busybox:local", "command": ["sleep", "infinity"],
            "user_code_path": "/data", "wait_timeout": 30, **extra}


def _state(docker_client, name):
    found = container(docker_client, name)
    found.reload()
    return {"id": found.id, "status": found.status, "labels": found.labels, "env": sorted(found.attrs["Config"]["Env"])}


def _documents(docker_client):
    return {name: content for name, (_member, content) in control_files(docker_client).items()}


@pytest.fixture()
def foreign(docker_client):
    """Someone's workspace, with a role of its own, there before the tests and after them."""
    name = f"foreign-{uuid.uuid4().hex[:6]}"
    # it sets no ENV: a policy with an ENV pattern makes it stale
    run_module(WORKSPACE, _args(name, env={"OWNER": "someone-else"}))
    run_module(ROLE, {"backend": "docker", "workspace": name, "role": "owner",
                      "subject": {"kind": "user", "name": "someone-else"}})
    yield name
    run_module(WORKSPACE, _args(name, state="absent", purge=True))
    remove_workspaces(docker_client, name)


def test_the_suite_leaves_a_foreign_workspace_as_it_was(docker_client, foreign):
    before, documents = _state(docker_client, foreign), _documents(docker_client)
    mine = f"mine-{uuid.uuid4().hex[:6]}"
    with kept_control_documents(docker_client):
        try:
            run_module(WORKSPACE, _args(mine))
            policy = {"backend": "docker", "inherit": True, "workspace_env_pattern": "dev_{workspace_name}"}
            predicted = run_module(POLICY, policy, check=True)
            assert foreign in [row["name"] for row in predicted["stale"]], "the policy should concern it too"

            # a task about its own workspaces neither reports nor restarts the foreign one
            applied = run_module(POLICY, {**policy, "workspace_names": [mine], "apply_to_existing": "restart"})
            assert applied["restarted"] == [mine] and applied["stale"] == []
            role = run_module(ROLE, {"backend": "docker", "workspace": mine, "role": "viewer",
                                     "subject": {"kind": "user", "name": "me"}})
            holders = [row["subject"]["name"] for row in role["assignments"]]
            assert "me" in holders and "someone-else" not in holders
            assert _state(docker_client, foreign) == before
        finally:
            remove_workspaces(docker_client, mine)
    assert _documents(docker_client) == documents

    assert _state(docker_client, foreign) == before
    info = run_module("atelier.workspaces.workspace_info", {"backend": "docker", "name": foreign})
    (view,) = info["workspaces"]
    assert view["env_stale"] is False
    assert [row["subject"]["name"] for row in view["roles"] if row["scope"] == "workspace"] == ["someone-else"]
    assert _documents(docker_client) == documents
