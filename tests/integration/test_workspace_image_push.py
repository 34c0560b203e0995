"""The role workspace_image pushes the image it built to a registry the user names: a real
registry (Debian's docker-registry, hack/registry.sh) on 127.0.0.1, which the Docker engine
speaks plain HTTP to. A second run builds and pushes nothing."""

import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest
from ansible_runner import REPO_ROOT, VENV_BIN

TAG = "push-test"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def registry(tmp_path):
    """host:port of a registry that stores into tmp_path, stopped after the test."""
    found = subprocess.run(["bash", str(REPO_ROOT / "hack" / "registry.sh")], capture_output=True, text=True,
                           timeout=900, check=False)
    if found.returncode != 0:
        message = f"docker-registry (hack/registry.sh) is not available: {(found.stdout + found.stderr)[-2000:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    address = f"127.0.0.1:{_free_port()}"
    config = tmp_path / "registry.yml"
    config.write_text(json.dumps({"version": 0.1, "log": {"level": "warn"},
                                  "storage": {"filesystem": {"rootdirectory": str(tmp_path / "data")}},
                                  "http": {"addr": address}}))
    with open(tmp_path / "registry.log", "w") as log:
        server = subprocess.Popen([found.stdout.strip().splitlines()[-1], "serve", str(config)],
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        for _attempt in range(100):
            try:
                urllib.request.urlopen(f"http://{address}/v2/", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, (tmp_path / "registry.log").read_text()
                time.sleep(0.1)
        yield address
    finally:
        server.terminate()
        server.wait(timeout=30)


def _build_image(*extra):
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0")
    completed = subprocess.run(
        [str(VENV_BIN / "ansible-playbook"), "playbooks/build_image.yml", "-e", f"workspace_image_tag={TAG}",
         "-e", "workspace_image_base=atelier/debian:local", *extra],
        capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=1800, check=False,
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    return completed.stdout


def test_role_pushes_image_to_named_registry(docker_client, registry):
    push = ["-e", f"workspace_image_registry={registry}", "-e", "workspace_image_push=true"]
    reference = f"{registry}/atelier/workspace:{TAG}"
    try:
        first = _build_image(*push)
        assert re.search(r"localhost\s+: ok=\d+\s+changed=[1-9]", first)
        with urllib.request.urlopen(f"http://{registry}/v2/atelier/workspace/tags/list", timeout=10) as response:
            assert json.load(response)["tags"] == [TAG]
        local = docker_client.images.get(reference)
        assert any(digest.startswith(f"{registry}/atelier/workspace@sha256:") for digest in local.attrs["RepoDigests"])

        again = _build_image(*push)
        assert re.search(r"localhost\s+: ok=\d+\s+changed=0 ", again), again
    finally:
        if docker_client.images.list(name=reference):
            docker_client.images.remove(reference)
