"""The workspace module against the real Docker engine: every change twice, engine state checked."""

import time
import uuid
from pathlib import Path

import pytest
from ansible_runner import run_module
from docker_workspaces import container as workspace_container
from docker_workspaces import exec_as_user, in_volume, remove_workspaces

IMAGE = "atelier/busybox:local"
# the default user_code_path, which atelier/busybox:local and the image without tools lack
CODE = "/home/workspace/code"
CANARY = "canary-" + uuid.uuid4().hex


def _workspace_args(name, **overrides):
    args = {
        "name": name,
        "backend": "docker",
        "image": IMAGE,
        "command": ["sleep", "infinity"],
        "user_code_path": "/data",
        "env": {"PROJECT": "analytics"},
        "secrets": [{"key": "token", "env_var": "API_TOKEN", "value": CANARY}],
        "wait_timeout": 30,
    }
    args.update(overrides)
    return args


@pytest.fixture()
def workspace_name(docker_client):
    name = f"it-{uuid.uuid4().hex[:8]}"
    yield name
    remove_workspaces(docker_client, name)


def _writes_since(docker_client, since, name):
    """Engine events that changed anything of this workspace after `since`."""
    events = docker_client.events(since=since, until=time.time() + 0.5, decode=True)
    reads = ("exec_create", "exec_start", "exec_die")
    return [
        e for e in events
        if name in str(e.get("Actor", {}).get("Attributes", {})) and e.get("Action") not in reads
    ]


def _converge_twice(docker_client, args, **kwargs):
    first = run_module("atelier.workspaces.workspace", args, **kwargs)
    started = time.time()
    second = run_module("atelier.workspaces.workspace", args, **kwargs)
    assert second["changed"] is False, second["actions"]
    assert second["actions"] == []
    assert _writes_since(docker_client, started, args["name"]) == []
    return first, second


def test_create_runs_container_with_env_volume_and_labels(docker_client, workspace_name):
    first, _second = _converge_twice(docker_client, _workspace_args(workspace_name))
    assert first["changed"] is True
    assert first["actions"][-2:] == ["create container", "start"]
    container = workspace_container(docker_client, workspace_name)
    assert container.status == "running"
    env = dict(line.split("=", 1) for line in exec_as_user(container, "env").splitlines())
    assert env["PROJECT"] == "analytics"
    assert env["API_TOKEN"] == CANARY
    assert env["USER_CODE_PATH"] == "/data"
    assert container.labels["app.kubernetes.io/managed-by"] == "atelier.workspaces"
    assert exec_as_user(container, "id -u") == "1000"
    attrs = container.attrs
    assert attrs["HostConfig"]["SecurityOpt"] == ["no-new-privileges"]
    assert attrs["HostConfig"]["CapDrop"] == ["ALL"]
    mount = next(m for m in attrs["Mounts"] if m["Destination"] == "/data")
    assert mount["Name"] == f"atelier-{workspace_name}-data"
    binding = attrs["NetworkSettings"]["Ports"]["8888/tcp"][0]
    assert binding["HostIp"] == "127.0.0.1"
    assert first["workspace"]["url"] == f"http://127.0.0.1:{binding['HostPort']}/"
    assert CANARY not in first["_output"]
    assert {"name": "API_TOKEN", "value": "********", "source": "secret", "secret": True} in first["env"]


def test_data_survives_stop_start_absent_and_recreate_until_purge(docker_client, workspace_name):
    args = _workspace_args(workspace_name)
    run_module("atelier.workspaces.workspace", args)
    exec_as_user(workspace_container(docker_client, workspace_name), "echo kept > /data/proof")

    _converge_twice(docker_client, {**args, "state": "stopped"})
    assert workspace_container(docker_client, workspace_name).status == "exited"
    _converge_twice(docker_client, {**args, "state": "running"})
    assert exec_as_user(workspace_container(docker_client, workspace_name), "cat /data/proof") == "kept"

    _converge_twice(docker_client, {**args, "state": "absent"})
    assert workspace_container(docker_client, workspace_name) is None
    assert docker_client.volumes.get(f"atelier-{workspace_name}-data")

    run_module("atelier.workspaces.workspace", args)
    assert exec_as_user(workspace_container(docker_client, workspace_name), "cat /data/proof") == "kept"

    first, _second = _converge_twice(docker_client, {**args, "state": "absent", "purge": True})
    assert "remove volume (purge)" in first["actions"]
    assert docker_client.volumes.list(filters={"name": f"atelier-{workspace_name}-data"}) == []


def test_env_change_replaces_container_on_same_data(docker_client, workspace_name):
    args = _workspace_args(workspace_name)
    run_module("atelier.workspaces.workspace", args)
    old = workspace_container(docker_client, workspace_name)
    exec_as_user(old, "echo kept > /data/proof")

    first, _second = _converge_twice(docker_client, {**args, "env": {"PROJECT": "billing"}})
    assert first["actions"][0] == "remove container (settings changed)"
    new = workspace_container(docker_client, workspace_name)
    assert new.id != old.id
    assert "PROJECT=billing" in exec_as_user(new, "env").splitlines()
    assert exec_as_user(new, "cat /data/proof") == "kept"
    assert new.labels["workspaces.atelier.dev/config-hash"] != old.labels["workspaces.atelier.dev/config-hash"]


def test_limits_change_in_place(docker_client, workspace_name):
    args = _workspace_args(workspace_name, resources={"cpu": "500m", "memory": "64Mi"})
    run_module("atelier.workspaces.workspace", args)
    old = workspace_container(docker_client, workspace_name)
    assert old.attrs["HostConfig"]["Memory"] == 64 * 1024**2
    assert old.attrs["HostConfig"]["CpuQuota"] == 50000

    first, _second = _converge_twice(docker_client, {**args, "resources": {"cpu": "1", "memory": "128Mi"}})
    assert first["actions"] == ["update limits"]
    new = workspace_container(docker_client, workspace_name)
    assert new.id == old.id
    assert new.attrs["HostConfig"]["Memory"] == 128 * 1024**2
    assert new.attrs["HostConfig"]["CpuQuota"] == 100000


def test_present_keeps_stopped_workspace_stopped_and_restarted_restarts(docker_client, workspace_name):
    args = _workspace_args(workspace_name)
    run_module("atelier.workspaces.workspace", {**args, "state": "stopped"})
    assert workspace_container(docker_client, workspace_name).status == "created"
    _converge_twice(docker_client, args)
    assert workspace_container(docker_client, workspace_name).status == "created"

    run_module("atelier.workspaces.workspace", {**args, "state": "running"})
    started_at = workspace_container(docker_client, workspace_name).attrs["State"]["StartedAt"]
    result = run_module("atelier.workspaces.workspace", {**args, "state": "restarted"})
    assert result["changed"] is True and result["actions"] == ["restart"]
    assert workspace_container(docker_client, workspace_name).attrs["State"]["StartedAt"] != started_at


def test_check_mode_predicts_and_changes_nothing(docker_client, workspace_name):
    args = _workspace_args(workspace_name)
    since = time.time()
    result = run_module("atelier.workspaces.workspace", args, check=True, diff=True)
    assert result["changed"] is True
    assert result["actions"] == ["create volume", "create container", "start"]
    assert workspace_container(docker_client, workspace_name) is None
    assert docker_client.volumes.list(filters={"name": f"atelier-{workspace_name}-data"}) == []
    assert _writes_since(docker_client, since, workspace_name) == []
    assert result["diff"]["after"]["env"]["API_TOKEN"] == "********"
    assert CANARY not in result["_output"]

    run_module("atelier.workspaces.workspace", args)
    changed = run_module(
        "atelier.workspaces.workspace",
        {**args, "secrets": [{"key": "token", "env_var": "API_TOKEN", "value": CANARY + "-new"}]},
        check=True, diff=True,
    )
    assert changed["changed"] is True
    assert changed["diff"]["before"]["env"]["API_TOKEN"] == "********"
    assert CANARY not in changed["_output"]
    assert f"API_TOKEN={CANARY}" in workspace_container(docker_client, workspace_name).attrs["Config"]["Env"]


BAD_INPUT = [
    ({"name": "Bad_Name"}, "name:"),
    ({"name": "x" * 53}, "name:"),
    ({"resources": {"memory": "lots"}}, "resources.memory:"),
    ({"resources": {"cpu": "-1"}}, "resources.cpu:"),
    ({"resources": {"cpu": "0.0001"}}, "resources.cpu:"),
    ({"container_config": "image: [unclosed"}, "container_config:"),
    ({"container_config": {"replicas": 2}}, "container_config.replicas:"),
    ({"container_config": {"volumes": ["nodest"]}}, "container_config.volumes[0]:"),
    ({"container_config": {"volumes": ["/var/run/docker.sock:/var/run/docker.sock"]}}, "container_config.volumes[0]:"),
    ({"tolerations": [{"key": "gpu", "operator": "Exists"}]}, "tolerations:"),
    ({"node_selector": {"zone": "a"}}, "node_selector:"),
    ({"runtime_class_name": "kata"}, "runtime_class_name:"),
    ({"secrets": [{"env_var": "X"}]}, "secrets[0].key:"),
    ({"secrets": [{"key": "missing"}]}, "secrets[0]"),
    ({"cert_path": "/nonexistent/certs", "tls_verify": True}, "cert_path:"),
    ({"publish": {"host_port": 70000}}, "publish.host_port:"),
    ({"image": "atelier/not-built:local"}, "image:"),
]


@pytest.mark.parametrize(("overrides", "field"), BAD_INPUT, ids=[field for _overrides, field in BAD_INPUT])
def test_bad_input_names_the_field_and_creates_nothing(docker_client, workspace_name, overrides, field):
    args = {**_workspace_args(workspace_name), **overrides}
    result = run_module("atelier.workspaces.workspace", args, expect_failure=True)
    assert field in result["msg"]
    assert result.get("changed") is False
    name = args["name"]
    assert docker_client.containers.list(all=True, filters={"label": f"workspaces.atelier.dev/name={name}"}) == []
    assert docker_client.volumes.list(filters={"label": f"workspaces.atelier.dev/name={name}"}) == []


def test_unreachable_engine_is_a_clear_error(workspace_name):
    result = run_module(
        "atelier.workspaces.workspace",
        _workspace_args(workspace_name, docker_host="tcp://127.0.0.1:1"),
        expect_failure=True,
    )
    assert result["msg"].startswith("docker_host: cannot reach the Docker engine at tcp://127.0.0.1:1")


def test_info_lists_gets_and_explains_a_failed_workspace(docker_client, workspace_name):
    # a label of this test alone: the engine's other workspaces may well have a team label
    args = _workspace_args(workspace_name, labels={"team": workspace_name})
    run_module("atelier.workspaces.workspace", args)
    failing = f"{workspace_name}-bad"
    try:
        crashed = run_module("atelier.workspaces.workspace", _workspace_args(
            failing, command=["sh", "-c", "echo cannot find the project >&2; exit 3"]), expect_failure=True)
        assert "exit code 3" in crashed["msg"]
        assert "cannot find the project" in crashed["msg"]

        listed = run_module("atelier.workspaces.workspace_info",
                            {"backend": "docker", "labels": {"team": workspace_name}})
        assert [w["name"] for w in listed["workspaces"]] == [workspace_name]
        assert listed["changed"] is False

        one = run_module("atelier.workspaces.workspace_info", {"backend": "docker", "name": workspace_name})
        (view,) = one["workspaces"]
        container = workspace_container(docker_client, workspace_name)
        assert view["status"] == "Running"
        assert view["container_id"] == container.id
        port = container.attrs["NetworkSettings"]["Ports"]["8888/tcp"][0]["HostPort"]
        assert view["url"] == f"http://127.0.0.1:{port}/"
        assert view["storage"] == {"type": "volume", "source": f"atelier-{workspace_name}-data", "path": "/data"}

        # the engine restarts a crashing container: between exits it runs for an instant
        deadline = time.monotonic() + 20
        while True:
            failed = run_module("atelier.workspaces.workspace_info", {"backend": "docker", "name": failing})
            (broken,) = failed["workspaces"]
            if broken["status"] == "Failed" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert broken["status"] == "Failed"
        assert broken["exit_code"] == 3
        assert "cannot find the project" in broken["log_tail"]
    finally:
        run_module("atelier.workspaces.workspace", _workspace_args(failing, state="absent", purge=True))


def test_bulk_reconciles_many_workspaces_side_by_side(docker_client):
    prefix = f"bulk-{uuid.uuid4().hex[:4]}"
    names = [f"{prefix}-{index}" for index in range(6)]
    args = {**_workspace_args(names[0]), "workspaces": [{"name": name, "env": {"INDEX": name[-1]}} for name in names]}
    args["workspaces"][-1]["state"] = "stopped"
    del args["name"]
    try:
        first = run_module("atelier.workspaces.workspace", args)
        assert [result["name"] for result in first["workspaces"]] == names
        started = time.time()
        second = run_module("atelier.workspaces.workspace", args)
        assert second["changed"] is False
        for name in names:
            assert _writes_since(docker_client, started, name) == []
        for name in names[:-1]:
            container = workspace_container(docker_client, name)
            assert exec_as_user(container, "echo $INDEX $API_TOKEN") == f"{name[-1]} {CANARY}"
        assert workspace_container(docker_client, names[-1]).status == "created"
        assert CANARY not in first["_output"]

        # one entry that cannot be created fails the task with its name; the others are still reconciled
        args["workspaces"][2]["image"] = "atelier/no-such-image:never"
        failed = run_module("atelier.workspaces.workspace", args, expect_failure=True)
        assert failed["workspace_name"] == names[2] and failed["msg"].startswith("image: 'atelier/no-such-image")
    finally:
        remove_workspaces(docker_client, prefix)


def test_info_reports_the_url_and_status_the_workspace_module_reports(docker_client, workspace_name):
    made = {
        workspace_name: run_module("atelier.workspaces.workspace", _workspace_args(workspace_name)),
        f"{workspace_name}-pub": run_module("atelier.workspaces.workspace", _workspace_args(
            f"{workspace_name}-pub", public_url="https://ide.example.test/pub/")),
        f"{workspace_name}-off": run_module("atelier.workspaces.workspace", _workspace_args(
            f"{workspace_name}-off", state="stopped")),
    }
    info = run_module("atelier.workspaces.workspace_info", {"backend": "docker"})
    listed = {view["name"]: (view["status"], view["url"]) for view in info["workspaces"] if view["name"] in made}
    assert listed == {name: (result["workspace"]["status"], result["workspace"]["url"])
                      for name, result in made.items()}
    assert listed[f"{workspace_name}-pub"] == ("Running", "https://ide.example.test/pub/")
    assert listed[f"{workspace_name}-off"][0] == "Stopped"


def _write_as_its_user(container, path, text):
    """Write a file as the container's own user (docker exec's default), with busybox's shell; its uid."""
    code, output = container.exec_run(["/bin/busybox", "sh", "-c", f"echo {text} > {path} && id -u"])
    assert code == 0, output.decode(errors="replace")
    return output.decode().strip()


@pytest.mark.parametrize("user", ["1000", "1234"])
def test_an_image_without_the_data_path_or_tools_gets_a_data_directory_its_user_writes(
        docker_client, workspace_name, toolless_image, user):
    args = _workspace_args(workspace_name, image=toolless_image, user=user)
    del args["user_code_path"]
    first, _second = _converge_twice(docker_client, args)
    assert first["actions"] == ["create volume", "create container", f"chown data directory to {user}:0", "start"]
    data = Path(in_volume(docker_client, f"atelier-{workspace_name}-data"))
    assert (data.stat().st_uid, data.stat().st_gid, data.stat().st_mode & 0o7777) == (int(user), 0, 0o2775)

    # a new container on the still empty volume: the engine copies the image's directory (root's) over it
    # again, and the collection gives it back
    recreated, _second = _converge_twice(docker_client, {**args, "env": {"PROJECT": "billing"}})
    assert recreated["actions"] == ["remove container (settings changed)", "create container",
                                    f"chown data directory to {user}:0", "start"]
    assert _write_as_its_user(workspace_container(docker_client, workspace_name), f"{CODE}/proof", "kept") == user
    assert (data / "proof").read_text() == "kept\n"
    assert (data / "proof").stat().st_uid == int(user)

    # a volume that holds data is no longer filled by the engine, nor changed by the collection
    again, _second = _converge_twice(docker_client, {**args, "env": {"PROJECT": "reporting"}})
    assert again["actions"] == ["remove container (settings changed)", "create container", "start"]
    assert _write_as_its_user(workspace_container(docker_client, workspace_name), f"{CODE}/more", "x") == user
    assert (data / "proof").read_text() == "kept\n"


def test_a_volume_with_data_keeps_its_owner_for_another_user_with_a_warning(docker_client, workspace_name):
    args = _workspace_args(workspace_name)
    run_module("atelier.workspaces.workspace", args)
    exec_as_user(workspace_container(docker_client, workspace_name), "echo kept > /data/proof")
    data = Path(in_volume(docker_client, f"atelier-{workspace_name}-data"))
    before = (data.stat().st_uid, data.stat().st_gid, data.stat().st_mode)

    changed, _second = _converge_twice(docker_client, {**args, "user": "1234:1234"})
    assert changed["actions"] == ["remove container (settings changed)", "create container", "start"]
    assert any(warning.startswith("user_code_path: /data") and "user 1234:1234 may not" in warning
               for warning in changed["warnings"])
    assert (data.stat().st_uid, data.stat().st_gid, data.stat().st_mode) == before
    assert (data / "proof").read_text() == "kept\n"
