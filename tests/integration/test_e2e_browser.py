"""End to end on the local Docker engine: a real browser opens the workspace's IDE from the URL the
module returns, and the data in /home/workspace/code outlives stop, start, removal and re-creation
until purge. Every state change runs twice; the second run changes nothing."""

import re
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest
from docker_workspaces import container as workspace_container
from docker_workspaces import converge_twice, exec_as_user, remove_workspaces

CODE = "/home/workspace/code"
# only the JupyterLab application draws these, in the browser: the shell and a file browser entry
LAB_SHELL = re.compile(r'<div[^>]*\bclass="[^"]*\bjp-LabShell\b[^"]*"[^>]*\bid="main"')
LISTED = '<span class="jp-DirListing-itemText"[^>]*><span>{}</span>'


@pytest.fixture()
def name(docker_client):
    workspace = f"e2e-{uuid.uuid4().hex[:8]}"
    yield workspace
    remove_workspaces(docker_client, workspace)


def _wait_http(url, timeout=90):
    """The page's HTML as served, once the IDE answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _browser_dom(chromium, url, profile, wanted, attempts=5):
    """The DOM after Chromium ran the page's scripts; retried until every pattern in `wanted` is drawn."""
    dom = ""
    for _attempt in range(attempts):
        completed = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             f"--user-data-dir={profile}", "--virtual-time-budget=30000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert completed.returncode == 0, completed.stderr[-2000:]
        dom = completed.stdout
        if all(re.search(pattern, dom) for pattern in wanted):
            return dom
        time.sleep(1)
    missing = [pattern for pattern in wanted if not re.search(pattern, dom)]
    raise AssertionError(f"the browser did not draw {missing} at {url}; DOM starts with:\n{dom[:2000]}")


def _open_ide(chromium, tmp_path, result, proof):
    """Open the IDE at the module's URL in Chromium; the file browser must list `proof`."""
    url = result["workspace"]["url"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", url)
    served = _wait_http(url + "lab")
    assert "<title>JupyterLab</title>" in served
    listed = LISTED.format(re.escape(proof))
    # what the server sends is a shell of scripts: the IDE itself exists only once a browser ran them
    assert not LAB_SHELL.search(served)
    assert not re.search(listed, served)
    dom = _browser_dom(chromium, url + "lab", tmp_path / "profile", [LAB_SHELL.pattern, listed])
    assert "<title>JupyterLab</title>" in dom


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
    _open_ide(chromium, tmp_path, created, proof)

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
    _open_ide(chromium, tmp_path, recreated, proof)

    purged = converge_twice({**args, "state": "absent", "purge": True})
    assert purged["actions"] == ["remove container", "remove volume (purge)"]
    assert workspace_container(docker_client, name) is None
    assert docker_client.volumes.list(filters={"name": f"atelier-{name}-data"}) == []
