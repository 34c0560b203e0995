"""The task layer against an engine in memory: check mode, diff, bulk failures, errors and the result shape."""

import pytest
from memory_backend import FailingConnection, MemoryBackend

from ansible_collections.atelier.workspaces.plugins.module_utils.args import cluster_settings as settings_args
from ansible_collections.atelier.workspaces.plugins.module_utils.args import info as info_args
from ansible_collections.atelier.workspaces.plugins.module_utils.args import workspace as workspace_args
from ansible_collections.atelier.workspaces.plugins.module_utils.backends import registry
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import cluster_settings as settings_task
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import info as info_task
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import workspace as workspace_task


class Exited(Exception):
    def __init__(self, failed, result):
        super().__init__(result.get("msg"))
        self.failed, self.result = failed, result


class FakeModule:
    """What the tasks use of AnsibleModule: params with their defaults, check and diff mode, exits."""

    def __init__(self, spec, params, check_mode=False, diff=False):
        self.params = {key: option.get("default") for key, option in spec.items()}
        self.params.update(params)
        self.check_mode, self._diff = check_mode, diff
        self.no_log_values, self.warnings = set(), []

    def warn(self, message):
        self.warnings.append(message)

    def fail_json(self, **result):
        raise Exited(True, result)

    def exit_json(self, **result):
        raise Exited(False, result)


@pytest.fixture
def engine(monkeypatch):
    backend = MemoryBackend()
    monkeypatch.setattr(registry, "get", lambda params, timeout=None: backend)
    monkeypatch.setattr(registry, "backend_class", lambda params: MemoryBackend)
    return backend


def run_workspace(params, **mode):
    module = FakeModule(workspace_args.argument_spec(), {"backend": "docker", **params}, **mode)
    with pytest.raises(Exited) as exited:
        workspace_task.run(module)
    return exited.value


def test_create_then_unchanged_and_the_result_shape(engine):
    first = run_workspace({"name": "alice"})
    assert not first.failed and first.result["changed"] and first.result["actions"] == ["create"]
    assert first.result["workspace"]["url"] == "http://alice/" and "name" not in first.result
    again = run_workspace({"name": "alice"})
    assert again.result["changed"] is False and engine.writes == 1 and engine.closed


def test_check_mode_predicts_and_writes_nothing(engine):
    checked = run_workspace({"name": "alice"}, check_mode=True)
    assert checked.result["changed"] and checked.result["actions"] == ["create"]
    assert engine.writes == 0 and engine.workspaces == {}


def test_diff_mode_shows_both_sides(engine):
    run_workspace({"name": "alice"})
    changed = run_workspace({"name": "alice", "image": "my/ide:2"}, diff=True)
    assert changed.result["diff"]["before"]["image"] == "atelier/workspace:local"
    assert changed.result["diff"]["after"]["image"] == "my/ide:2"


def test_bad_input_fails_before_any_write(engine):
    failed = run_workspace({"name": "Alice"})
    assert failed.failed and "name: 'Alice' is not a valid" in failed.result["msg"] and engine.writes == 0


def test_bulk_checks_every_entry_first(engine):
    failed = run_workspace({"workspaces": [{"name": "good"}, {"name": "bad", "port": 0}], "name": None})
    assert failed.failed and "workspaces[1].port" in failed.result["msg"] and engine.writes == 0


def test_bulk_partial_failure_says_what_was_done(engine):
    failed = run_workspace({"workspaces": [{"name": "a"}, {"name": "broken"}, {"name": "c"}], "name": None})
    assert failed.failed and failed.result["workspace_name"] == "broken"
    assert failed.result["changed"] and failed.result["actions"] == ["create"]
    assert "a" in engine.workspaces and engine.expected == ["a", "broken", "c"]


def test_bulk_reports_each_entry(engine):
    done = run_workspace({"workspaces": [{"name": "a"}, {"name": "b", "state": "stopped"}], "name": None})
    assert [entry["name"] for entry in done.result["workspaces"]] == ["a", "b"]
    assert engine.workspaces["b"]["status"] == "Stopped"


def test_an_unreachable_engine_fails_clearly(monkeypatch):
    monkeypatch.setattr(registry, "get", lambda params, timeout=None: FailingConnection())
    monkeypatch.setattr(registry, "backend_class", lambda params: MemoryBackend)
    failed = run_workspace({"name": "alice"})
    assert failed.failed and failed.result["msg"].startswith("docker_host:") and failed.result["changed"] is False


def test_info_reports_the_view_reconcile_returned(engine):
    created = run_workspace({"name": "alice"})
    module = FakeModule(info_args.argument_spec(), {"backend": "docker"})
    with pytest.raises(Exited) as exited:
        info_task.run(module)
    listed = exited.value.result["workspaces"][0]
    shown = ("status", "url")
    assert {key: listed[key] for key in shown} == {key: created.result["workspace"][key] for key in shown}
    assert listed["roles"] == []


def test_by_name_keeps_everything_and_given_options_replace_whole(engine):
    run_workspace({"name": "alice", "image": "my/ide:1", "env": {"A": "1"},
                   "secrets": [{"key": "token", "env_var": "TOKEN", "value": "s3cret"}]})
    stopped = run_workspace({"name": "alice", "state": "stopped"})
    assert stopped.result["actions"] == ["update"] and engine.workspaces["alice"]["image"] == "my/ide:1"
    assert engine.workspaces["alice"]["env"]["A"] == "1" and engine.workspaces["alice"]["env"]["TOKEN"] == "s3cret"
    assert run_workspace({"name": "alice", "state": "stopped"}).result["changed"] is False

    run_workspace({"name": "alice", "env": {"B": "2"}})
    env = engine.workspaces["alice"]["env"]
    assert "A" not in env and env["B"] == "2" and env["TOKEN"] == "s3cret"
    assert engine.workspaces["alice"]["record"]["image"] == "my/ide:1"


def test_an_empty_value_returns_the_option_to_its_default(engine):
    run_workspace({"name": "alice", "image": "my/ide:1", "env": {"A": "1"}})
    run_workspace({"name": "alice", "image": "", "env": {}})
    assert engine.workspaces["alice"]["image"] == "atelier/workspace:local"
    assert "A" not in engine.workspaces["alice"]["env"]
    assert "image" not in engine.workspaces["alice"]["record"] and "env" not in engine.workspaces["alice"]["record"]


def test_a_recorded_secret_value_never_reaches_the_output(engine):
    run_workspace({"name": "alice", "secrets": [{"key": "token", "value": "s3cret"}]})
    module = FakeModule(workspace_args.argument_spec(), {"backend": "docker", "name": "alice", "state": "stopped"})
    with pytest.raises(Exited):
        workspace_task.run(module)
    assert "s3cret" in module.no_log_values


def run_settings(params, **mode):
    module = FakeModule(settings_args.argument_spec(), {"backend": "docker", **params}, **mode)
    with pytest.raises(Exited) as exited:
        settings_task.run(module)
    return exited.value


def test_cluster_settings_change_only_what_is_given(engine):
    engine.store.update("cluster-settings", lambda _current: {"WORKSPACE_SHARED_PATH": "/srv/shared",
                                                              "WORKSPACE_PVC_SUBPATH_PREFIX": "team"})
    writes = engine.store.writes
    predicted = run_settings({"settings": {"WORKSPACE_ALLOWED_HOST_PATHS": ["/srv/data"]}}, check_mode=True, diff=True)
    assert predicted.result["changed"] and engine.store.writes == writes
    assert predicted.result["diff"]["after"]["WORKSPACE_ALLOWED_HOST_PATHS"] == "/srv/data"
    assert "WORKSPACE_ALLOWED_HOST_PATHS" not in predicted.result["diff"]["before"]

    applied = run_settings({"settings": {"WORKSPACE_ALLOWED_HOST_PATHS": ["/srv/data"]}})
    assert applied.result == {"changed": True, "settings": {
        "WORKSPACE_ALLOWED_HOST_PATHS": "/srv/data", "WORKSPACE_PVC_SUBPATH_PREFIX": "team",
        "WORKSPACE_SHARED_PATH": "/srv/shared"}}
    again = run_settings({"settings": {"WORKSPACE_ALLOWED_HOST_PATHS": "/srv/data"}})
    assert again.result["changed"] is False and engine.store.writes == writes + 1

    removed = run_settings({"settings": {"WORKSPACE_ALLOWED_HOST_PATHS": [], "WORKSPACE_SHARED_PATH": "",
                                         "WORKSPACE_PVC_SUBPATH_PREFIX": None}})
    assert removed.result["changed"] and removed.result["settings"] == {}
    assert engine.store.read("cluster-settings") is None


@pytest.mark.parametrize(("settings", "start"), [
    ({"WORKSPACE_ALLOWED_HOST_PATHS": ["/etc"]}, "cluster settings (cluster-settings) WORKSPACE_ALLOWED_HOST_PATHS: "
                                                 "'/etc' is never mounted"),
    ({"WORKSPACE_INGRES_NAME": "x"}, "cluster settings (cluster-settings) WORKSPACE_INGRES_NAME: unknown setting"),
    ({"WORKSPACE_STORAGE_CLASS": {"a": 1}}, "settings.WORKSPACE_STORAGE_CLASS: give a string"),
])
def test_bad_cluster_settings_name_the_setting_and_write_nothing(engine, settings, start):
    failed = run_settings({"settings": settings})
    assert failed.failed and failed.result["msg"].startswith(start), failed.result["msg"]
    assert engine.store.writes == 0
