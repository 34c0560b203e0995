"""End to end on the local Docker engine: a real browser opens the workspace's IDE from the URL the
module returns, and the data in /home/workspace/code outlives stop, start, removal and re-creation
until purge. Every state change runs twice; the second run changes nothing."""

import re
import uuid

import pytest
from docker_workspaces import container as workspace_container
from docker_workspaces import converge_twice, exec_as_user, remove_workspaces
from ide_browser import access_token, http_status, open_lab

CODE = "/home/workspace/code"


@pytest.fixture()
def name(docker_client):
    workspace = f"e2e-{uuid.uuid4().hex[:8]}"
    yield workspace
    remove_workspaces(docker_client, workspace)


def _open_ide(chromium, tmp_path, result, proof, args):
    """Open the IDE at the module's URL in Chromium with the workspace's access secret; the file browser must
    list `proof`. Without the secret the IDE lets nobody in."""
    url = result["workspace"]["url"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
    assert http_status(url + "api/contents") == 403
    open_lab(chromium, tmp_path / "profile", url, proof, access_token(args))


def test_browser_opens_ide_and_data_survives_until_purge(docker_client, chromium, name, tmp_path):
    args = {"name": name, "backend": "docker", "state": "running", "wait": True, "wait_timeout": 120}
    proof = f"proof-{uuid.uuid4().hex[:6]}.txt"
    token = uuid.uuid4().hex

    created = converge_twice(args)
    assert created["changed"] is True
    # the shared network exists already unless this is the engine's first workspace
    assert [a for a in created["actions"] if a != "create network"] == ["create volume", "create container", "start"]
    assert created["workspace"]["status"] == "Running"
    container = workspace_container(docker_client, name)
    assert container.attrs["Config"]["Image"] == "atelier/workspace:local"
    exec_as_user(container, f"echo {token} > {CODE}/{proof}")
    assert exec_as_user(container, f"stat -c %u {CODE}/{proof}") == "1000"
    _open_ide(chromium, tmp_path, created, proof, args)

    stopped = converge_twice({**args, "state": "stopped"})
    assert stopped["actions"] == ["stop"]
    assert workspace_container(docker_client, name).status == "exited"
    started = converge_twice(args)
    assert started["actions"] == ["start"]
    assert exec_as_user(workspace_container(docker_client, name), f"cat {CODE}/{proof}") == token

    removed = converge_twice({**args, "state": "absent"})
    assert removed["actions"] == ["remove container"]
    assert workspace_container(docker_client, name) is None
    volume = docker_client.volumes.get(f"atelier-{name}-data")
    assert volume.attrs["Labels"]["workspaces.atelier.dev/name"] == name

    recreated = converge_twice(args)
    assert recreated["actions"] == ["create container", "start"]
    new = workspace_container(docker_client, name)
    assert new.id != container.id
    assert exec_as_user(new, f"cat {CODE}/{proof}") == token
    _open_ide(chromium, tmp_path, recreated, proof, args)

    purged = converge_twice({**args, "state": "absent", "purge": True})
    assert purged["actions"] == ["remove container", "remove volume (purge)"]
    assert workspace_container(docker_client, name) is None
    assert docker_client.volumes.list(filters={"name": f"atelier-{name}-data"}) == []
