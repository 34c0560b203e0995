"""Which host directories a workspace may mount: only under the cluster's list, never what hands over the host."""

import pytest
from memory_backend import MemoryBackend
from test_tasks import run_workspace

from ansible_collections.atelier.workspaces.plugins.module_utils.backends import registry
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import plan as docker_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import cluster_settings, host_paths
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import workspace_spec as spec

FIELD = "container_config.volumes[0]"
NEVER = "is never mounted into a workspace (it would hand over the host)"
FIX = "mount a named volume, or a directory under one of WORKSPACE_ALLOWED_HOST_PATHS"
NOT_LISTED = ("is not under the cluster setting WORKSPACE_ALLOWED_HOST_PATHS ({}); ask the administrator to add its "
              "directory (docker_host role variable docker_host_allowed_host_paths)")
DATA = ["/srv/data"]


@pytest.mark.parametrize(("source", "allowed", "expected"), [
    ("/", DATA, f"host path '/' {NEVER}; {FIX}"),
    ("//", DATA, f"host path '//' {NEVER}; {FIX}"),
    ("/etc", DATA, f"host path '/etc' {NEVER}; {FIX}"),
    ("/etc/", DATA, f"host path '/etc/' {NEVER}; {FIX}"),
    ("//etc", DATA, f"host path '//etc' {NEVER}; {FIX}"),
    ("/./etc/.", DATA, f"host path '/./etc/.' {NEVER}; {FIX}"),
    ("/etc/ssl", ["/etc/ssl"], f"host path '/etc/ssl' is under /etc, which {NEVER}; {FIX}"),
    ("/proc/1", DATA, f"host path '/proc/1' is under /proc, which {NEVER}; {FIX}"),
    ("/proc/1/root", ["/proc"], f"host path '/proc/1/root' is under /proc, which {NEVER}; {FIX}"),
    ("/sys", DATA, f"host path '/sys' {NEVER}; {FIX}"),
    ("/dev/sda", DATA, f"host path '/dev/sda' is under /dev, which {NEVER}; {FIX}"),
    ("/var/lib/docker/volumes", ["/var"], f"host path '/var/lib/docker/volumes' is under /var/lib/docker, which "
                                          f"{NEVER}; {FIX}"),
    ("/var", ["/var"], f"host path '/var' holds /var/lib/docker, which {NEVER}; {FIX}"),
    ("/run/containerd", ["/srv"], f"host path '/run/containerd' is under /run, which {NEVER}; {FIX}"),
    ("/var/run/docker.sock", DATA, "host path '/var/run/docker.sock' is a socket (*.sock): a daemon's socket, such "
                                   f"as the Docker socket, gives the workspace root on the host, so it {NEVER}; {FIX}"),
    ("/run/docker.sock/", DATA, "host path '/run/docker.sock/' is a socket (*.sock)"),
    ("/srv/data/docker.sock", DATA, "host path '/srv/data/docker.sock' is a socket (*.sock)"),
    ("/srv/data/../../etc", DATA, "host path '/srv/data/../../etc' has a '..' component; write the directory itself"),
    ("/srv/data/x/..", DATA, "host path '/srv/data/x/..' has a '..' component"),
    ("/srv/database", DATA, f"host path '/srv/database' {NOT_LISTED.format('/srv/data')}"),
    ("/srv", DATA, f"host path '/srv' {NOT_LISTED.format('/srv/data')}"),
    ("/srv/data/x", [], f"host path '/srv/data/x' {NOT_LISTED.format('none set')}"),
    ("/home/alice", ["/srv/data", "/opt/sets"], f"host path '/home/alice' {NOT_LISTED.format('/srv/data, /opt/sets')}"),
    ("./data", DATA, "'./data' is neither an absolute host path nor a volume name"),
    ("../etc", DATA, "'../etc' is neither an absolute host path nor a volume name"),
    ("~/data", DATA, "'~/data' is neither an absolute host path nor a volume name"),
])
def test_refused_sources_name_the_field_and_the_fix(source, allowed, expected):
    error = host_paths.volume_source_error(source, allowed, FIELD)
    assert error is not None and error.startswith(f"{FIELD}: {expected}"), error


@pytest.mark.parametrize(("source", "allowed"), [
    ("/srv/data/x", DATA),
    ("/srv/data", DATA),
    ("/srv/data/", DATA),
    ("//srv//data/./x/", DATA),
    ("/srv/data/x", ["/srv/data/"]),
    ("/var/tmp/cache", ["/var"]),
    ("/opt/sets/a", ["/srv/data", "/opt/sets"]),
    ("cache", []),
    ("pip-cache_2.x", []),
])
def test_allowed_sources(source, allowed):
    assert host_paths.volume_source_error(source, allowed, FIELD) is None


def test_a_workspace_being_removed_is_not_held_by_its_mounts():
    assert host_paths.volume_source_error("/srv/data/x", None, FIELD) is None
    assert host_paths.volume_source_error("./x", None, FIELD).startswith(f"{FIELD}: './x' is neither")


@pytest.mark.parametrize(("value", "directories", "errors"), [
    (None, [], []),
    ("", [], []),
    ("/srv/data", ["/srv/data"], []),
    ("/srv/data/:/opt//sets: ", ["/srv/data", "/opt/sets"], []),
    ("/var", ["/var"], []),
    ("srv/data", [], ["'srv/data' is not an absolute directory"]),
    ("/srv/../etc", [], ["'/srv/../etc' has a '..' component"]),
    ("/", [], [f"'/' {NEVER}; list directories meant for workspace data"]),
    ("/srv:/etc/x", ["/srv"], [f"'/etc/x' is under /etc, which {NEVER}"]),
    (["/srv"], [], ["write absolute directories separated by ':'"]),
])
def test_the_setting_lists_absolute_directories(value, directories, errors):
    found, problems = host_paths.allowed_directories(value)
    assert found == directories
    assert len(problems) == len(errors), problems
    assert all(problem.startswith(error) for problem, error in zip(problems, errors, strict=True)), problems


def test_cluster_settings_check_the_list_and_hand_it_to_the_model():
    assert cluster_settings.validate({"WORKSPACE_ALLOWED_HOST_PATHS": "/srv/data:/opt/sets"}) == []
    (error,) = cluster_settings.validate({"WORKSPACE_ALLOWED_HOST_PATHS": "/proc"})
    assert error.startswith("cluster settings (cluster-settings) WORKSPACE_ALLOWED_HOST_PATHS: '/proc' is never")
    params = cluster_settings.apply({"storage": {}}, {"WORKSPACE_ALLOWED_HOST_PATHS": "/srv/data/"})
    assert params[host_paths.PARAM] == ["/srv/data"]
    assert host_paths.PARAM not in cluster_settings.apply({"storage": {}}, {})


def _build(volumes, allowed=None, **params):
    base = {"name": "ws", "backend": "docker", "wait_timeout": 30, "container_config": {"volumes": volumes}}
    settings = {"WORKSPACE_ALLOWED_HOST_PATHS": ":".join(allowed)} if allowed else {}
    return spec.build_model(cluster_settings.apply({**base, **params}, settings), kubernetes=False)


def test_the_model_mounts_an_allowed_directory_and_named_volumes():
    model, errors = _build(["/srv/data/x:/data", "cache:/cache:ro"], ["/srv/data"])
    assert errors == []
    mounts = docker_plan.desired_container(model)["mounts"][1:]
    assert [(m["type"], m["source"], m["target"], m["read_only"]) for m in mounts] == [
        ("bind", "/srv/data/x", "/data", False), ("volume", "cache", "/cache", True)]


def test_without_the_setting_no_host_directory_is_mounted():
    model, errors = _build(["/srv/data/x:/data"])
    assert model is None
    assert errors == [f"{FIELD}: host path '/srv/data/x' {NOT_LISTED.format('none set')}"]


def test_every_refused_volume_is_named():
    _model, errors = _build(["/:/host", "cache:/cache", "/etc:/host-etc:rw"], ["/srv/data"])
    assert [error.split(":")[0] for error in errors] == ["container_config.volumes[0]", "container_config.volumes[2]"]


def test_a_pre_start_script_is_held_to_the_same_list():
    _model, errors = _build([], ["/srv/data"], lifecycle_config={"pre_start": {"script_path": "pre.py"}},
                            _pre_start_config={"volumes": ["/etc:/x"]})
    assert errors == [f"lifecycle_config.pre_start.script_path: pre.py returned container_config.volumes[0]: "
                      f"host path '/etc' {NEVER}; {FIX}"]


def test_a_removed_workspace_is_not_held_by_a_shorter_list():
    model, errors = _build(["/srv/data/x:/data"], state="absent")
    assert errors == [] and model["extra_volumes"][0]["source"] == "/srv/data/x"
    _model, errors = _build(["/etc:/x"], state="stopped")
    assert errors


@pytest.mark.parametrize(("storage", "expected"), [
    ({"shared_path": "/"}, f"storage.shared_path: host path '/' {NEVER}; choose a directory of its own"),
    ({"shared_path": "/etc/"}, f"storage.shared_path: host path '/etc' {NEVER}"),
    ({"shared_path": "/var"}, f"storage.shared_path: host path '/var' holds /var/lib/docker, which {NEVER}"),
    ({"shared_path": "/proc", "subpath_prefix": "1"}, "storage.shared_path: host path '/proc' " + NEVER),
    ({"shared_path": "/var/lib", "subpath_prefix": "."}, "storage.shared_path: host path '/var/lib' holds"),
    ({"shared_path": "/srv/../etc"}, "storage.shared_path: '/srv/../etc' must be an absolute host directory"),
    ({"shared_path": "srv"}, "storage.shared_path: 'srv' must be an absolute host directory"),
])
def test_a_shared_directory_never_hands_over_the_host(storage, expected):
    _model, errors = spec.build_model({"name": "ws", "wait_timeout": 30, "storage": storage}, kubernetes=False)
    assert any(error.startswith(expected) for error in errors), errors


def test_a_shared_directory_is_the_administrators_choice_not_the_lists():
    model, errors = spec.build_model({"name": "ws", "wait_timeout": 30, "storage": {"shared_path": "/srv/shared"}},
                                     kubernetes=False)
    assert errors == [] and model["storage"]["shared_path"] == "/srv/shared"
    # the same option on Kubernetes names a claim, not a host directory
    _model, errors = spec.build_model({"name": "ws", "wait_timeout": 30, "storage": {"shared_claim": "etc"}})
    assert errors == []


@pytest.fixture
def engine(monkeypatch):
    backend = MemoryBackend()
    monkeypatch.setattr(registry, "get", lambda params, timeout=None: backend)
    monkeypatch.setattr(registry, "backend_class", lambda params: MemoryBackend)
    return backend


def test_the_task_fails_before_any_write(engine):
    engine.store.update(cluster_settings.DOCUMENT, lambda _current: {"WORKSPACE_ALLOWED_HOST_PATHS": "/srv/data"})
    failed = run_workspace({"name": "alice", "container_config": {"volumes": ["/:/host"]}})
    assert failed.failed and engine.writes == 0
    assert failed.result["msg"] == f"invalid workspace definition: {FIELD}: host path '/' {NEVER}; {FIX}"
    created = run_workspace({"name": "alice", "container_config": {"volumes": ["/srv/data/alice:/data"]}})
    assert not created.failed and engine.writes == 1


def test_a_bad_list_fails_every_task_naming_the_setting(engine):
    engine.store.update(cluster_settings.DOCUMENT, lambda _current: {"WORKSPACE_ALLOWED_HOST_PATHS": "data"})
    failed = run_workspace({"name": "alice"})
    assert failed.failed and engine.writes == 0
    assert failed.result["msg"].startswith("cluster settings (cluster-settings) WORKSPACE_ALLOWED_HOST_PATHS: 'data'")
