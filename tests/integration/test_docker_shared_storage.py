"""Shared storage on the local Docker engine: every workspace gets the sub-directory
<shared_path>/<prefix>/<name> of a host directory at its code path, sees nothing else of it,
can write it as uid 1000, and the sub-directory outlives the workspace."""

import os
import uuid

import pytest
from ansible_runner import run_module
from docker_workspaces import container as workspace_container
from docker_workspaces import converge_twice, exec_as_user, remove_workspaces

CODE = "/home/workspace/code"
PREFIX = "team"


@pytest.fixture()
def names(docker_client):
    base = f"shared-{uuid.uuid4().hex[:6]}"
    workspaces = [f"{base}-a", f"{base}-b"]
    yield workspaces
    remove_workspaces(docker_client, base)


@pytest.fixture()
def shared_path(tmp_path):
    path = tmp_path / "shared"
    path.mkdir()
    return path


def _args(name, shared_path, **overrides):
    args = {
        "name": name,
        "backend": "docker",
        "state": "running",
        "storage": {"shared_path": str(shared_path), "subpath_prefix": PREFIX},
        "wait_timeout": 120,
    }
    args.update(overrides)
    return args


def test_each_workspace_writes_only_its_own_subdirectory(docker_client, names, shared_path):
    for name in names:
        created = converge_twice(_args(name, shared_path))
        assert created["changed"] is True
        assert created["workspace"]["status"] == "Running"
        source = str(shared_path / PREFIX / name)
        assert created["workspace"]["storage"] == {"type": "bind", "source": source, "path": CODE}
        container = workspace_container(docker_client, name)
        assert [(m["Type"], m["Source"], m["Destination"]) for m in container.attrs["Mounts"]] == [
            ("bind", source, CODE)]

    # uid 1000 writes a file and a directory from inside each workspace; the host sees them there
    for name in names:
        container = workspace_container(docker_client, name)
        assert exec_as_user(container, "id -u") == "1000"
        exec_as_user(container, f"echo {name} > {CODE}/owner.txt && mkdir {CODE}/src && echo x > {CODE}/src/main.py")
        assert exec_as_user(container, f"ls -A {CODE}").split() == ["owner.txt", "src"]
        own = shared_path / PREFIX / name
        assert (own / "owner.txt").read_text() == f"{name}\n"
        assert os.stat(own / "owner.txt").st_uid == 1000
        assert os.stat(own / "src" / "main.py").st_uid == 1000
    assert sorted(os.listdir(shared_path / PREFIX)) == sorted(names)
    assert sorted(os.listdir(shared_path)) == [PREFIX]

    # nothing of the other workspace is reachable: only the sub-directory is mounted
    first, second = names
    listing = exec_as_user(workspace_container(docker_client, first), f"cat {CODE}/owner.txt; ls -A {CODE}/..")
    assert listing.split()[0] == first
    assert second not in listing and PREFIX not in listing.split()

    # removal keeps the sub-directory and its files; the other workspace goes on untouched
    removed = converge_twice(_args(first, shared_path, state="absent"))
    assert removed["actions"] == ["remove container"]
    assert workspace_container(docker_client, first) is None
    assert (shared_path / PREFIX / first / "owner.txt").read_text() == f"{first}\n"
    assert workspace_container(docker_client, second).status == "running"
    assert exec_as_user(workspace_container(docker_client, second), f"cat {CODE}/owner.txt") == second

    # re-created under the same name, the workspace finds its files and can still write
    converge_twice(_args(first, shared_path))
    again = workspace_container(docker_client, first)
    assert exec_as_user(again, f"cat {CODE}/owner.txt {CODE}/src/main.py").split() == [first, "x"]
    exec_as_user(again, f"touch {CODE}/after-recreate")

    # purge does not delete a shared sub-directory: it says so
    purged = converge_twice(_args(first, shared_path, state="absent", purge=True))
    assert purged["actions"] == ["remove container"]
    assert any(f"{PREFIX}/{first}" in warning for warning in purged.get("warnings", []))
    assert (shared_path / PREFIX / first / "after-recreate").exists()
    run_module("atelier.workspaces.workspace", _args(second, shared_path, state="absent", purge=True))
    assert workspace_container(docker_client, second) is None
    assert (shared_path / PREFIX / second / "owner.txt").exists()


def test_an_image_without_tools_gets_its_subdirectory_for_another_user(docker_client, names, shared_path,
                                                                       toolless_image):
    name = names[0]
    args = _args(name, shared_path, image=toolless_image, user="1234", command=["sleep", "infinity"])
    created = converge_twice(args)
    assert created["actions"] == [f"create directory {PREFIX}/{name}", "create container", "start"]
    own = shared_path / PREFIX / name
    assert (own.stat().st_uid, own.stat().st_gid, own.stat().st_mode & 0o7777) == (1234, 0, 0o2775)
    assert ((shared_path / PREFIX).stat().st_uid, (shared_path / PREFIX).stat().st_mode & 0o7777) == (0, 0o755)

    container = workspace_container(docker_client, name)
    code, output = container.exec_run(["/bin/busybox", "sh", "-c", f"echo kept > {CODE}/proof && id -u"])
    assert (code, output.decode().strip()) == (0, "1234")
    assert os.stat(own / "proof").st_uid == 1234

    # an existing sub-directory is left as it is, whoever owns it
    os.chown(own, 4321, 4321)
    converge_twice({**args, "state": "absent"})
    recreated = converge_twice(args)
    assert recreated["actions"] == ["create container", "start"]
    assert (own.stat().st_uid, (own / "proof").read_text()) == (4321, "kept\n")
