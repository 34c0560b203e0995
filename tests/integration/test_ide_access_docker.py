"""Who opens a Docker workspace's IDE: only a request with the workspace's own access secret gets in, the
secret survives every later run, and it shows up nowhere but in workspace_info with show_access."""

import json
import os
import subprocess
import urllib.request
import uuid

import pytest
from ansible_runner import REPO_ROOT, VENV_BIN, run_module
from docker_workspaces import container, converge_twice, remove_workspaces
from ide_browser import access_token, http_status, wait_http

DOCKERD_LOG = "/var/log/atelier/dockerd.log"
PREFIX = "it-access-"


@pytest.fixture()
def names(docker_client):
    suffix = uuid.uuid4().hex[:6]
    yield f"{PREFIX}{suffix}", f"{PREFIX}open-{suffix}"
    remove_workspaces(docker_client, f"{PREFIX}")


def _play(tasks, tmp_path):
    """ansible-playbook -vvv --diff over the tasks, as a user runs it; its whole output."""
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                                     "tasks": tasks}]))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_PYTHON_INTERPRETER=str(VENV_BIN / "python"))
    completed = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-vvv", "--diff", str(playbook)],
                               capture_output=True, text=True, env=env, cwd=REPO_ROOT, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed.stdout + completed.stderr


def _api(url, secret=None):
    return http_status(url + "api/contents", {"Authorization": f"token {secret}"} if secret else None)


def test_only_the_access_secret_opens_the_ide_and_it_is_never_shown(docker_client, names, tmp_path):
    name, _other = names
    args = {"name": name, "backend": "docker", "state": "running", "wait_timeout": 120}
    workspace = {"atelier.workspaces.workspace": args}
    by_name = {"name": name, "backend": "docker"}
    output = _play([
        {"name": "create", **workspace},
        {"name": "update the env", "atelier.workspaces.workspace": {**args, "env": {"PROJECT": "x"}}},
        {"name": "stop by name", "atelier.workspaces.workspace": {**by_name, "state": "stopped"}},
        {"name": "start by name", "atelier.workspaces.workspace": {**by_name, "state": "running"}},
        {"name": "info", "atelier.workspaces.workspace_info": {"name": name, "backend": "docker"}},
    ], tmp_path)
    secret = access_token(args)
    # in no output of -vvv --diff, and not in the engine's log
    assert secret not in output
    with open(DOCKERD_LOG, encoding="utf-8", errors="replace") as log:
        assert secret not in log.read()

    url = run_module("atelier.workspaces.workspace_info", {"name": name, "backend": "docker"})["workspaces"][0]["url"]
    wait_http(f"{url}api/status?token={secret}")
    assert _api(url) == 403
    assert _api(url, "not-" + secret) == 403
    assert http_status(url + "lab") == 302  # the browser is sent to the login page
    assert _api(url, secret) == 200
    with urllib.request.urlopen(f"{url}lab?token={secret}", timeout=10) as response:
        assert "<title>JupyterLab</title>" in response.read().decode()
    # the IDE reads it from its env, never from a command line that every user of the host sees
    assert secret not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout

    # a restart, a limit changed in place and a new container all keep the secret
    run_module("atelier.workspaces.workspace", {**args, "state": "restarted", "resources": {"memory": "1Gi"}})
    before = container(docker_client, name).id
    converge_twice({**args, "env": {"PROJECT": "y"}})
    assert container(docker_client, name).id != before
    assert access_token(args) == secret
    url = run_module("atelier.workspaces.workspace_info", {"name": name, "backend": "docker"})["workspaces"][0]["url"]
    wait_http(f"{url}api/status?token={secret}")
    assert _api(url) == 403 and _api(url, secret) == 200


def test_auth_none_opens_the_ide_to_anyone_and_says_so(docker_client, names):
    _name, name = names
    args = {"name": name, "backend": "docker", "state": "running", "auth": "none", "wait_timeout": 120,
            "publish": {"bind_address": "0.0.0.0"}}
    created = converge_twice(args)
    assert any("auth: none serves the IDE without authentication on publish.bind_address 0.0.0.0" in warning
               for warning in created.get("warnings", []))
    assert "WORKSPACE_ACCESS_TOKEN" not in "".join(container(docker_client, name).attrs["Config"]["Env"])
    url = created["workspace"]["url"]
    wait_http(url + "api/status")
    assert _api(url) == 200
    info = run_module("atelier.workspaces.workspace_info", {"name": name, "backend": "docker", "show_access": True})
    assert info["workspaces"][0]["auth"] == "none"
    assert info["workspaces"][0]["access"] == {"mode": "none", "token": None, "url": url}

    # by name, the workspace keeps auth: none; asked for a token, it gets one and closes
    restarted = run_module("atelier.workspaces.workspace", {"name": name, "backend": "docker", "state": "restarted"})
    url = restarted["workspace"]["url"]
    wait_http(url + "api/status")
    assert _api(url) == 200
    before = container(docker_client, name).id
    secured = converge_twice({"name": name, "backend": "docker", "auth": "token"})
    assert secured["changed"] is True and container(docker_client, name).id != before
    url = secured["workspace"]["url"]
    secret = access_token({"name": name, "backend": "docker"})
    wait_http(f"{url}api/status?token={secret}")
    assert _api(url) == 403 and _api(url, secret) == 200


def test_a_task_cannot_set_the_access_secret(docker_client, names):
    name, _other = names
    failed = run_module("atelier.workspaces.workspace",
                        {"name": name, "backend": "docker", "env": {"WORKSPACE_ACCESS_TOKEN": "mine"}},
                        expect_failure=True)
    assert "env.WORKSPACE_ACCESS_TOKEN: the collection sets it" in failed["msg"]
    assert container(docker_client, name) is None
