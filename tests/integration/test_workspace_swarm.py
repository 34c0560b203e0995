"""swarm_mode against a real single-node Swarm on the local engine: services, replicas, data, env."""

import subprocess
import time
import uuid

import pytest
from ansible_runner import run_module

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
