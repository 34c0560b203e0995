"""swarm_mode against a real single-node Swarm on the local engine: services, replicas, data, env."""

import subprocess
import time
import uuid
from pathlib import Path

import pytest
from ansible_runner import REPO_ROOT, VENV_BIN, run_module
from docker_workspaces import in_volume

MODULE = "atelier.workspaces.workspace"


@pytest.fixture(scope="module")
def swarm(docker_client):
    """The local engine as a single-node Swarm manager on loopback; left as it was found."""
    was_active = docker_client.info()["Swarm"]["LocalNodeState"] == "active"
    if not was_active:
        subprocess.run(["docker", "swarm", "init", "--advertise-addr", "127.0.0.1"], check=True,
                       capture_output=True, timeout=120)
    yield docker_client
    if not was_active:
        subprocess.run(["docker", "swarm", "leave", "--force"], check=False, capture_output=True, timeout=120)


@pytest.fixture()
def name(swarm):
    workspace = f"sw-{uuid.uuid4().hex[:6]}"
    yield workspace
    for service in swarm.services.list(filters={"label": f"workspaces.atelier.dev/name={workspace}"}):
        service.remove()
    deadline = time.monotonic() + 60
    while swarm.containers.list(all=True, filters={"label": f"com.docker.swarm.service.name=atelier-{workspace}"}):
        assert time.monotonic() < deadline
        time.sleep(0.5)
    for volume in swarm.volumes.list(filters={"label": f"workspaces.atelier.dev/name={workspace}"}):
        volume.remove(force=True)


def _args(workspace, **extra):
    return {"name": workspace, "backend": "docker", "swarm_mode": True, "image": "atelier/busybox:local",
            "command": ["sleep", "infinity"], "user_code_path": "/data", "env": {"PROJECT": "analytics"},
            "resources": {"cpu": "500m", "memory": "256Mi"}, "wait_timeout": 60, **extra}


def _service_events(client, since, workspace):
    events = client.events(since=since, until=time.time() + 0.5, decode=True, filters={"type": "service"})
    return [event for event in events if workspace in str(event.get("Actor"))]


def _converge_twice(client, args):
    first = run_module(MODULE, args)
    started = time.time()
    second = run_module(MODULE, args)
    assert second["changed"] is False and second["actions"] == []
    assert _service_events(client, started, args["name"]) == []
    return first


def _task_container(client, workspace):
    running = client.containers.list(filters={"label": f"com.docker.swarm.service.name=atelier-{workspace}"})
    return running[0] if running else None


def _exec(container, command):
    code, output = container.exec_run(["sh", "-c", command])
    assert code == 0, output
    return output.decode().strip()


def test_service_lifecycle_keeps_data_until_purge(swarm, name):
    first = _converge_twice(swarm, _args(name))
    assert first["actions"][-1] == "create service"
    assert first["workspace"]["status"] == "Running"
    service = swarm.services.get(f"atelier-{name}")
    spec = service.attrs["Spec"]
    assert spec["Mode"]["Replicated"]["Replicas"] == 1
    assert spec["Labels"]["workspaces.atelier.dev/name"] == name
    assert spec["TaskTemplate"]["Resources"]["Limits"] == {"NanoCPUs": 500_000_000, "MemoryBytes": 268435456}
    assert spec["TaskTemplate"]["ContainerSpec"]["CapabilityDrop"] == ["ALL"]
    container = _task_container(swarm, name)
    assert _exec(container, "id -u") == "1000"
    assert _exec(container, "echo $PROJECT $USER_CODE_PATH") == "analytics /data"
    _exec(container, "echo kept > /data/proof")

    _converge_twice(swarm, _args(name, state="stopped"))
    assert swarm.services.get(f"atelier-{name}").attrs["Spec"]["Mode"]["Replicated"]["Replicas"] == 0
    running = _converge_twice(swarm, _args(name, state="running"))
    assert running["workspace"]["status"] == "Running"
    assert _exec(_task_container(swarm, name), "cat /data/proof") == "kept"

    changed = _converge_twice(swarm, _args(name, env={"PROJECT": "reporting"}))
    assert changed["actions"] == ["update service"]
    assert _exec(_task_container(swarm, name), "echo $PROJECT; cat /data/proof") == "reporting\nkept"

    _converge_twice(swarm, _args(name, state="absent"))
    assert swarm.services.list(filters={"name": f"atelier-{name}"}) == []
    assert swarm.volumes.get(f"atelier-{name}-data")
    run_module(MODULE, _args(name))
    assert _exec(_task_container(swarm, name), "cat /data/proof") == "kept"

    purged = _converge_twice(swarm, _args(name, state="absent", purge=True))
    assert purged["actions"] == ["remove service", "remove volume (purge)"]
    assert swarm.volumes.list(filters={"name": f"atelier-{name}-data"}) == []


def test_info_lists_swarm_workspaces(swarm, name):
    run_module(MODULE, _args(name, state="stopped"))
    info = run_module("atelier.workspaces.workspace_info", {"backend": "docker", "swarm_mode": True, "name": name})
    assert [(view["name"], view["status"]) for view in info["workspaces"]] == [(name, "Stopped")]


def test_check_mode_predicts_and_creates_nothing(swarm, name):
    predicted = run_module(MODULE, _args(name), check=True)
    assert predicted["changed"] is True and "create service" in predicted["actions"]
    assert swarm.services.list(filters={"label": f"workspaces.atelier.dev/name={name}"}) == []


def test_lifecycle_commands_are_refused_and_nothing_is_created(swarm, name):
    failed = run_module(MODULE, _args(name, on_startup=["echo hi"]), expect_failure=True)
    assert failed["msg"].startswith("on_startup: not available with swarm_mode")
    assert swarm.services.list(filters={"label": f"workspaces.atelier.dev/name={name}"}) == []


def _wait_for(check, timeout=90):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def _new_task_container(client, workspace, old_id):
    def replaced():
        found = _task_container(client, workspace)
        return found if found and found.id != old_id and found.status == "running" else None

    return _wait_for(replaced)


def test_every_module_sees_a_swarm_workspace(tmp_path, swarm, name):
    """The task's container carries the workspace labels, so info, env policy, roles, reaper and inventory work."""
    created = run_module(MODULE, _args(name, lifecycle_config={
        "termination_policy": {"enable_auto_termination": True, "max_idle_seconds": 3600}}))
    container = _task_container(swarm, name)
    assert container.labels["workspaces.atelier.dev/name"] == name

    # workspace_info reports what the workspace module reported
    info = run_module("atelier.workspaces.workspace_info", {"backend": "docker", "swarm_mode": True, "name": name})
    listed = info["workspaces"][0]
    assert (listed["status"], listed["url"]) == (created["workspace"]["status"], created["workspace"]["url"])
    assert listed["container"] == container.name and listed["idle_seconds"] is not None

    # the inventory lists it as a host Ansible reaches
    inventory = tmp_path / "swarm.workspaces.yml"
    inventory.write_text("plugin: atelier.workspaces.workspaces\nbackend: docker\nswarm_mode: true\n")
    listed_hosts = subprocess.run([str(VENV_BIN / "ansible-inventory"), "-i", str(inventory), "--list"],
                                  capture_output=True, text=True, check=True, timeout=120, cwd=REPO_ROOT).stdout
    assert f'"{container.name}"' in listed_hosts and name in listed_hosts

    # a role assignment is exported into the running task
    role = run_module("atelier.workspaces.workspace_role", {
        "backend": "docker", "swarm_mode": True, "role": "viewer", "subject": {"kind": "user", "name": "bob"},
        "workspace": name})
    assert f"export roles into workspace {name}" in role["actions"]
    assert '"user:bob": "viewer"' in _exec(container, "cat /etc/atelier/roles.json")

    # an env policy change is reported stale, then applied by a service update that replaces the task
    policy = {"backend": "docker", "swarm_mode": True,
              "seed_vars": {"INHERIT_ENV_VARS": "1", "USER_DEFINED_VARS": "TEAM", "TEAM": "red"}}
    try:
        stale = run_module("atelier.workspaces.workspace_env_policy", policy)
        assert name in [row["name"] for row in stale["stale"]]
        applied = run_module("atelier.workspaces.workspace_env_policy", {**policy, "apply_to_existing": "restart"})
        assert name in applied["restarted"]
        container = _new_task_container(swarm, name, container.id)
        assert _exec(container, "echo $TEAM") == "red"
        assert run_module("atelier.workspaces.workspace_env_policy", {**policy, "apply_to_existing": "restart"})[
            "changed"] is False
    finally:
        run_module("atelier.workspaces.workspace_env_policy",
                   {"backend": "docker", "swarm_mode": True, "state": "absent"})

    # the reaper stops an idle one by scaling its service to no task, and says why
    run_module(MODULE, _args(name, lifecycle_config={
        "termination_policy": {"enable_auto_termination": True, "max_idle_seconds": 0}}))
    time.sleep(2)
    reaped = run_module("atelier.workspaces.workspace_reaper", {"backend": "docker", "swarm_mode": True, "name": name})
    assert [row["name"] for row in reaped["stopped"]] == [name]
    assert swarm.services.get(f"atelier-{name}").attrs["Spec"]["Mode"]["Replicated"]["Replicas"] == 0
    stopped = run_module("atelier.workspaces.workspace_info", {"backend": "docker", "swarm_mode": True, "name": name})
    assert stopped["workspaces"][0]["status"] == "Stopped"


def _write_as_its_user(container, path, text):
    """Write a file as the container's own user, with busybox's shell (the image may have no other); its uid."""
    code, output = container.exec_run(["/bin/busybox", "sh", "-c", f"echo {text} > {path} && id -u"])
    assert code == 0, output.decode(errors="replace")
    return output.decode().strip()


@pytest.mark.parametrize("user", ["1000", "1234"])
def test_an_image_without_the_data_path_or_tools_gets_a_data_directory_its_user_writes(swarm, name, toolless_image,
                                                                                       user):
    code = "/home/workspace/code"
    args = _args(name, image=toolless_image, user=user)
    del args["user_code_path"]
    first = _converge_twice(swarm, args)
    assert first["actions"][-3:] == ["create volume", f"chown data directory to {user}:0", "create service"]
    (mount,) = swarm.services.get(f"atelier-{name}").attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Mounts"]
    assert (mount["Target"], mount["VolumeOptions"]) == (code, {"NoCopy": True})
    data = Path(in_volume(swarm, f"atelier-{name}-data"))
    assert (data.stat().st_uid, data.stat().st_gid, data.stat().st_mode & 0o7777) == (int(user), 0, 0o2775)

    # a change while the volume is still empty: filled from the image again (root's), and given back
    container = _task_container(swarm, name)
    changed = _converge_twice(swarm, {**args, "env": {"PROJECT": "billing"}})
    assert changed["actions"] == [f"chown data directory to {user}:0", "update service"]
    container = _new_task_container(swarm, name, container.id)
    assert _write_as_its_user(container, f"{code}/proof", "kept") == user
    assert (data / "proof").stat().st_uid == int(user)

    # with data in it, a task replaced by an update finds the volume as it was
    changed = _converge_twice(swarm, {**args, "env": {"PROJECT": "reporting"}})
    assert changed["actions"] == ["update service"]
    container = _new_task_container(swarm, name, container.id)
    assert _write_as_its_user(container, f"{code}/more", "x") == user
    assert (data / "proof").read_text() == "kept\n"
    assert (data.stat().st_uid, data.stat().st_mode & 0o7777) == (int(user), 0o2775)


def test_a_shared_path_subdirectory_is_made_for_the_service(swarm, name, toolless_image, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    args = _args(name, image=toolless_image, storage={"shared_path": str(shared)})
    del args["user_code_path"]
    first = _converge_twice(swarm, args)
    assert first["actions"][-2:] == [f"create directory workspaces/{name}", "create service"]
    own = shared / "workspaces" / name
    assert (own.stat().st_uid, own.stat().st_mode & 0o7777) == (1000, 0o2775)
    assert _write_as_its_user(_task_container(swarm, name), "/home/workspace/code/proof", "kept") == "1000"
    assert (own / "proof").read_text() == "kept\n"
    run_module(MODULE, {**args, "state": "absent"})
