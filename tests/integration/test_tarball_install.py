"""The README's "install from the tarball" path, outside this repository: build the collection
tarball, install it into an empty collections path, build the workspace image with the collection's
own playbook and role, run the demo by FQCN, remove the demo workspace."""

import json
import os
import re
import subprocess
import uuid

import pytest
from ansible_runner import REPO_ROOT, VENV_BIN

IMAGE = "atelier/workspace"
TAG = "tarball-test"


def _run(command, cwd, env):
    completed = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=1800, check=False)
    assert completed.returncode == 0, f"{command}:\n{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}"
    return completed.stdout


@pytest.fixture()
def user_env(tmp_path):
    """A user's shell: the venv's tools on PATH, no setting of this repository, an empty collections path."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(PATH=f"{VENV_BIN}:{env.get('PATH', '')}", ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"),
               ANSIBLE_FORCE_COLOR="0", HOME=env.get("HOME", str(tmp_path)))
    (tmp_path / "collections").mkdir()
    return env


def test_tarball_builds_image_and_runs_demo_by_fqcn(docker_client, tmp_path, user_env):
    dist = tmp_path / "dist"
    _run([str(VENV_BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(dist), str(REPO_ROOT)],
         cwd=tmp_path, env=user_env)
    tarball = next(dist.glob("atelier-workspaces-*.tar.gz"))
    _run(["ansible-galaxy", "collection", "install", str(tarball)], cwd=tmp_path, env=user_env)
    installed = tmp_path / "collections" / "ansible_collections" / "atelier" / "workspaces"
    assert (installed / "images" / "workspace" / "Dockerfile").is_file()
    assert not (installed / "images" / "workspace" / "ca-certificates.crt").exists()
    listed = _run(["ansible-galaxy", "collection", "list", "atelier.workspaces", "--format", "json"],
                  cwd=tmp_path, env=user_env)
    assert list(json.loads(listed)) == [str(tmp_path / "collections" / "ansible_collections")]

    name = f"it-tarball-{uuid.uuid4().hex[:6]}"
    try:
        image_args = ["-e", f"workspace_image_tag={TAG}", "-e", "workspace_image_base=atelier/debian:local"]
        _run(["ansible-playbook", "atelier.workspaces.build_image", *image_args], cwd=tmp_path, env=user_env)
        again = _run(["ansible-playbook", "atelier.workspaces.build_image", *image_args], cwd=tmp_path, env=user_env)
        assert re.search(r"localhost\s+: ok=\d+\s+changed=0 ", again), again
        assert docker_client.images.get(f"{IMAGE}:{TAG}").labels["workspaces.atelier.dev/image-context"]

        demo = _run(["ansible-playbook", "atelier.workspaces.demo", "-e", f"demo_workspace={name}",
                     "-e", f"demo_image={IMAGE}:{TAG}"], cwd=tmp_path, env=user_env)
        # create, read the access secret, wait for the IDE with it, say where to open it
        assert re.search(r"localhost\s+: ok=4\s+changed=1 ", demo), demo
        assert re.search(r"open\s+http://127\.0\.0\.1:\d+/lab", demo), demo
        container = docker_client.containers.get(f"atelier-{name}")
        assert container.attrs["Config"]["Image"] == f"{IMAGE}:{TAG}"
    finally:
        _run(["ansible", "localhost", "-m", "atelier.workspaces.workspace",
              "-a", f"name={name} backend=docker state=absent purge=true"], cwd=tmp_path, env=user_env)
    assert docker_client.containers.list(all=True, filters={"name": f"atelier-{name}"}) == []
    assert docker_client.volumes.list(filters={"name": f"atelier-{name}-data"}) == []
    docker_client.images.remove(f"{IMAGE}:{TAG}")
