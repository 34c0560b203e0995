"""The README's first command: the demo playbook brings up a real IDE without a warning, and a re-run changes
nothing."""

import os
import re
import subprocess
import urllib.request
import uuid

from ansible_runner import REPO_ROOT, VENV_BIN, run_module
from ide_browser import access_token, http_status


def _play(name):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    completed = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "playbooks/demo.yml", "-e", f"demo_workspace={name}"],
        capture_output=True, text=True, env=env, cwd=REPO_ROOT, check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    # what a newcomer sees first: no warning (the playbooks bring their own inventory)
    assert "WARNING" not in completed.stdout + completed.stderr, completed.stdout + completed.stderr
    return completed.stdout


def test_demo_serves_jupyterlab_and_is_idempotent(docker_client):
    name = f"it-demo-{uuid.uuid4().hex[:6]}"
    try:
        first = _play(name)
        assert re.search(r"localhost\s+: ok=4\s+changed=1 ", first)
        second = _play(name)
        assert re.search(r"localhost\s+: ok=4\s+changed=0 ", second)
        url = re.search(r"open (http://127\.0\.0\.1:\d+/lab)", second.replace("\n", " ").replace("  ", " ")).group(1)
        # the IDE lets in only who has the workspace's access secret, which the demo never prints
        assert http_status(url) == 302
        secret = access_token({"name": name, "backend": "docker"})
        assert secret not in first + second
        with urllib.request.urlopen(f"{url}?token={secret}", timeout=10) as response:
            page = response.read().decode()
        assert "<title>JupyterLab</title>" in page
        container = docker_client.containers.get(f"atelier-{name}")
        code, output = container.exec_run(["sh", "-c", "id -u; echo $USER_CODE_PATH"])
        assert code == 0 and output.decode().split() == ["1000", "/home/workspace/code"]
    finally:
        removal = {"name": name, "backend": "docker", "state": "absent", "purge": True}
        run_module("atelier.workspaces.workspace", removal)
