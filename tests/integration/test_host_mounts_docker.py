"""Host directories on the real Docker engine: mounted only under the cluster setting WORKSPACE_ALLOWED_HOST_PATHS,
never the host's root, /etc and the like, whatever the setting lists; bad input creates nothing."""

import os
import uuid

import pytest
from ansible_runner import run_module
from docker_workspaces import (
    allowed_host_paths,
    converge_twice,
    exec_as_user,
    kept_control_documents,
    remove_workspaces,
)
from docker_workspaces import container as workspace_container

MODULE = "atelier.workspaces.workspace"
NEVER = "is never mounted into a workspace (it would hand over the host)"


@pytest.fixture()
def name(docker_client):
    workspace = f"mounts-{uuid.uuid4().hex[:8]}"
    yield workspace
    remove_workspaces(docker_client, workspace)
    for volume in docker_client.volumes.list(filters={"name": f"{workspace}-cache"}):
        volume.remove(force=True)


@pytest.fixture()
def allowed(tmp_path):
    """A host directory the workspace user (uid 1000) can write."""
    path = tmp_path / "allowed"
    path.mkdir()
    os.chmod(path, 0o777)  # the workspace runs as uid 1000, the test as root
    return path


def _args(name, **overrides):
    return {"name": name, "backend": "docker", "image": "atelier/busybox:local", "command": ["sleep", "infinity"],
            "user_code_path": "/data", "wait_timeout": 30, **overrides}


def _with_allowed(value, allowed):
    """The options with {allowed} replaced by the allowed directory."""
    if isinstance(value, dict):
        return {key: _with_allowed(item, allowed) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_allowed(item, allowed) for item in value]
    return value.replace("{allowed}", str(allowed)) if isinstance(value, str) else value


def _nothing_created(docker_client, name):
    selector = {"label": f"workspaces.atelier.dev/name={name}"}
    assert docker_client.containers.list(all=True, filters=selector) == []
    assert docker_client.volumes.list(filters=selector) == []


@pytest.mark.parametrize(("overrides", "message"), [
    ({"container_config": {"volumes": ["/:/host"]}},
     f"container_config.volumes[0]: host path '/' {NEVER}; mount a named volume, or a directory under one of "
     f"WORKSPACE_ALLOWED_HOST_PATHS"),
    ({"container_config": {"volumes": ["/etc:/host-etc:rw"]}},
     f"container_config.volumes[0]: host path '/etc' {NEVER}"),
    ({"container_config": {"volumes": ["/var/run/docker.sock:/var/run/docker.sock"]}},
     "container_config.volumes[0]: host path '/var/run/docker.sock' is a socket"),
    ({"container_config": {"volumes": ["{allowed}/../../../etc:/x"]}}, "has a '..' component"),
    ({"storage": {"shared_path": "/", "subpath_prefix": "etc"}}, f"storage.shared_path: host path '/' {NEVER}"),
    ({"storage": {"shared_path": "/proc", "subpath_prefix": "1"}}, f"storage.shared_path: host path '/proc' {NEVER}"),
], ids=["root", "etc", "docker-socket", "dot-dot", "shared-root", "shared-proc"])
def test_what_hands_over_the_host_is_refused_whatever_the_list_and_creates_nothing(docker_client, name, allowed,
                                                                                   overrides, message):
    args = _args(name, **_with_allowed(overrides, allowed))
    with allowed_host_paths(docker_client, allowed, "/srv"):
        result = run_module(MODULE, args, expect_failure=True)
    assert message in result["msg"], result["msg"]
    assert result.get("changed") is False
    _nothing_created(docker_client, name)
    assert not os.path.exists(f"/etc/{name}")


def test_a_directory_outside_the_list_is_refused_naming_the_setting(docker_client, name, allowed, tmp_path):
    other = tmp_path / "allowed-not"  # shares the listed directory's name as a prefix, not its path
    other.mkdir()
    with allowed_host_paths(docker_client, allowed):
        result = run_module(MODULE, _args(name, container_config={"volumes": [f"{other}:/data"]}),
                            expect_failure=True)
    assert (f"container_config.volumes[0]: host path '{other}' is not under the cluster setting "
            f"WORKSPACE_ALLOWED_HOST_PATHS ({allowed}); ask the administrator to add its directory (docker_host "
            f"role variable docker_host_allowed_host_paths)") in result["msg"]
    _nothing_created(docker_client, name)


def test_a_directory_under_the_list_is_mounted_and_written_through(docker_client, name, allowed):
    (allowed / "project").mkdir()
    os.chmod(allowed / "project", 0o777)
    volumes = [f"{allowed}/project:/project", f"{name}-cache:/cache"]
    args = _args(name, container_config={"volumes": volumes})
    with allowed_host_paths(docker_client, allowed):
        first = converge_twice(args)
        assert first["actions"][-2:] == ["create container", "start"]
        container = workspace_container(docker_client, name)
        exec_as_user(container, "echo from-the-workspace > /project/note.txt && test -d /cache")
        assert (allowed / "project" / "note.txt").read_text() == "from-the-workspace\n"
        mounts = {m["Destination"]: (m["Type"], m.get("Source"), m.get("Name")) for m in container.attrs["Mounts"]}
        assert mounts["/project"][:2] == ("bind", f"{allowed}/project")
        assert mounts["/cache"][0] == "volume" and mounts["/cache"][2] == f"{name}-cache"

    # without the directory in the list, the workspace can still be removed
    removed = run_module(MODULE, {**args, "state": "absent"})
    assert removed["actions"] == ["remove container"]
    assert workspace_container(docker_client, name) is None
    assert (allowed / "project" / "note.txt").exists()


def test_cluster_settings_module_sets_the_list_keeping_the_other_settings(docker_client, name, allowed):
    settings = {"backend": "docker", "settings": {"WORKSPACE_ALLOWED_HOST_PATHS": [str(allowed)]}}
    with kept_control_documents(docker_client):
        before = run_module("atelier.workspaces.workspace_cluster_settings", {"backend": "docker", "settings": {}})
        assert before["changed"] is False
        predicted = run_module("atelier.workspaces.workspace_cluster_settings", settings, check=True)
        assert predicted["changed"] is True
        assert run_module("atelier.workspaces.workspace_cluster_settings",
                          {"backend": "docker", "settings": {}})["settings"] == before["settings"]

        written = run_module("atelier.workspaces.workspace_cluster_settings", settings)
        assert written["settings"] == {**before["settings"], "WORKSPACE_ALLOWED_HOST_PATHS": str(allowed)}
        assert run_module("atelier.workspaces.workspace_cluster_settings", settings)["changed"] is False
        converge_twice(_args(name, container_config={"volumes": [f"{allowed}:/project:ro"]}))

        refused = run_module("atelier.workspaces.workspace_cluster_settings",
                             {"backend": "docker", "settings": {"WORKSPACE_ALLOWED_HOST_PATHS": "/etc"}},
                             expect_failure=True)
        assert refused["msg"].startswith("cluster settings (cluster-settings) WORKSPACE_ALLOWED_HOST_PATHS: '/etc' is "
                                         "never mounted")
        removed = run_module("atelier.workspaces.workspace_cluster_settings",
                             {"backend": "docker", "settings": {"WORKSPACE_ALLOWED_HOST_PATHS": []}})
        assert removed["settings"] == before["settings"]
