"""Pure parts of the env policy's storage, stale report and refresh."""

import pytest
from memory_backend import MemoryStore

from ansible_collections.atelier.workspaces.plugins.module_utils.args.env_policy import POLICY_SPEC
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import env as env_refresh_docker
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import plan as docker_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.common import document_pair, pair_writes
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import env_policy, policy_changes
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import policy_documents as env_policy_store
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import env_policy as env_policy_task

POLICY = env_policy.normalise_policy({
    "inherit": True,
    "workspace_env_pattern": "dev_{workspace_name}",
    "env_rules": {"dev_ws1": ["DEV_ENV_*"], "dev_ws2": ["PROD_ENV_*"]},
    "variables": {"DEV_ENV_DB": "dev-db", "PROD_ENV_DB": "prod-db"},
    "secrets": {"SHARED_TOKEN": "shared-canary"},
    "share_secrets_across_workspaces": True,
})


def _started(name, explicit=None, refs=(), own=None):
    """A workspace as an engine reports it after the workspace module created it under POLICY."""
    explicit = explicit or {}
    entries, errors = env_policy.effective_env(POLICY, name, explicit, refs, own, "/code")
    assert not errors
    return {
        "name": name,
        "namespace": "team",
        "backend": "kubernetes",
        "running": True,
        "inputs": env_policy.decode_inputs(env_policy.encode_inputs(
            env_policy.env_inputs(explicit, refs, own, "/code", entries))),
        "values": {entry["name"]: entry["value"] for entry in entries},
        "config_hash": env_policy.config_hash(entries),
    }


def test_inputs_hold_no_secret_value():
    workspace = _started("ws1", refs=[{"key": "own", "env_var": "OWN"}, {"key": "SHARED_TOKEN"}],
                         own={"own": "own-canary"})
    stored = env_policy.encode_inputs(workspace["inputs"])
    assert "own-canary" not in stored and "shared-canary" not in stored
    assert workspace["inputs"]["secret_refs"] == [
        {"key": "own", "env_var": "OWN", "own": True},
        {"key": "SHARED_TOKEN", "env_var": "SHARED_TOKEN", "own": False},
    ]


def test_recompute_under_the_same_policy_gives_the_same_hash():
    workspace = _started("ws1", explicit={"A": "1"}, refs=[{"key": "own", "env_var": "OWN"}],
                         own={"own": "own-canary"})
    entries, errors = env_policy.recompute(POLICY, "ws1", workspace["inputs"], workspace["values"])
    assert not errors
    assert env_policy.config_hash(entries) == workspace["config_hash"]


def test_only_the_workspace_whose_family_changed_is_stale():
    workspaces = [_started("ws1"), _started("ws2")]
    changed = {**POLICY, "variables": {**POLICY["variables"], "DEV_ENV_DB": "new-dev-db"}}
    report = policy_changes.stale_report(changed, workspaces)
    assert [row["name"] for row in report] == ["ws1"]
    assert report[0]["changes"] == {"added": [], "changed": ["DEV_ENV_DB"], "removed": []}


def test_explicit_env_keeps_a_workspace_out_of_a_pattern_change():
    workspaces = [_started("ws1"), _started("ws3", explicit={"ENV": "fixed"})]
    report = policy_changes.stale_report({**POLICY, "workspace_env_pattern": "qa_{workspace_name}"}, workspaces)
    assert [(row["name"], row["changes"]["changed"]) for row in report] == [("ws1", ["ENV"])]
    assert report[0]["changes"]["removed"] == ["DEV_ENV_DB"]


def test_a_workspace_the_policy_cannot_serve_is_reported_with_the_reason():
    workspace = _started("ws1", refs=[{"key": "SHARED_TOKEN"}])
    report = policy_changes.stale_report({**POLICY, "share_secrets_across_workspaces": False}, [workspace])
    assert report[0]["errors"][0].startswith("secrets[0].key: 'SHARED_TOKEN' is not a secret of this workspace")


def test_a_workspace_without_recorded_inputs_is_never_refreshed():
    workspace = {**_started("ws1"), "inputs": {}}
    report = policy_changes.stale_report(POLICY, [workspace])
    assert report == [{"name": "ws1", "namespace": "team", "backend": "kubernetes", "running": True,
                       "errors": [policy_changes.NO_INPUTS]}]


def test_env_view_shows_sources_and_hides_secret_values():
    workspace = _started("ws1", refs=[{"key": "SHARED_TOKEN"}])
    view = policy_changes.env_view(POLICY, workspace)
    assert view["env_stale"] is False
    by_name = {entry["name"]: entry for entry in view["env"]}
    assert by_name["SHARED_TOKEN"]["value"] == env_policy.REDACTED
    assert by_name["DEV_ENV_DB"]["source"] == "rule:dev_ws1"
    assert by_name["ENV"]["source"] == "pattern"


def test_store_documents_round_trip_and_keep_secrets_apart():
    plain, secret = env_policy_store.to_documents(POLICY)
    assert "shared-canary" not in str(plain)
    assert secret == {"SHARED_TOKEN": "shared-canary"}
    assert env_policy_store.from_documents(plain, secret) == POLICY


def test_nothing_stored_is_the_default_policy():
    assert env_policy_store.from_documents(None, None) == env_policy.default_policy()
    assert env_policy_store.from_documents({}, {}) == env_policy.default_policy()


def test_save_is_idempotent_and_dry_run_writes_nothing():
    store = MemoryStore()
    assert env_policy_store.save(store, POLICY, dry_run=True) == (True, env_policy.default_policy())
    assert store.writes == 0
    assert env_policy_store.save(store, POLICY, dry_run=False)[0] is True
    assert env_policy_store.save(store, POLICY, dry_run=False) == (False, POLICY)
    assert store.writes == 2
    assert env_policy_store.load(store) == POLICY
    assert env_policy_store.remove(store, dry_run=False) == (True, POLICY)
    assert env_policy_store.load(store) == env_policy.default_policy()
    assert store.documents == {}


def test_both_halves_carry_one_revision_and_a_mixed_pair_is_written_again(monkeypatch):
    monkeypatch.setattr(pair_writes, "SETTLE_SECONDS", 0.3)
    store = MemoryStore()
    env_policy_store.save(store, POLICY, dry_run=False)
    plain, secret = store.read("env-policy"), store.read("env-policy", secret=True)
    assert plain[document_pair.REVISION_KEY] == secret[document_pair.REVISION_KEY]
    # a run killed between the halves: the secret half is from a write whose plain half never came
    store.documents[("env-policy", True)] = {**secret, document_pair.REVISION_KEY: "killed-run"}
    with pytest.raises(WorkspaceError, match="come from different writes"):
        store.read_pair("env-policy")
    # the next save finishes it, even with the same policy
    assert env_policy_store.save(store, POLICY, dry_run=False)[0] is True
    assert env_policy_store.load(store) == POLICY


def test_public_view_and_diff_never_show_secret_values():
    before = POLICY
    after = {**POLICY, "secrets": {"SHARED_TOKEN": "rotated-canary", "NEW": "new-canary"}}
    diff = policy_changes.diff(before, after)
    assert "canary" not in str(diff)
    assert diff["after"]["secrets"] == {"NEW": env_policy.REDACTED, "SHARED_TOKEN": "******** (changed)"}


@pytest.mark.parametrize(
    ("params", "start"),
    [
        ({"variables": {"1BAD": "x"}}, "variables.1BAD:"),
        ({"inherit": True, "user_defined_vars": ["re:(unclosed"]}, "user_defined_vars[0]: invalid regular expression"),
        ({"workspace_env_pattern": "dev {workspace_name}"}, "workspace_env_pattern:"),
        ({"inherit": True, "variables": {"A": "1"}, "env_rules": {"dev": ["DEV_ENV_*"]}}, "env_rules.dev[0]: matches"),
        ({"seed_vars": {"INHERIT_ENV_VARS": "0"}, "inherit": True}, "inherit: set differently in seed_vars"),
    ],
)
def test_desired_policy_reports_bad_input(params, start):
    full = {field: None for field in POLICY_SPEC}
    full.update(params, state="present")
    _policy, errors = env_policy_task.desired_policy(full)
    assert errors and errors[0].startswith(start), errors


def test_refreshed_container_keeps_everything_but_the_managed_env():
    entries = [
        {"name": "ENV", "value": "dev_ws1", "source": "pattern", "secret": False},
        {"name": "TOKEN", "value": "t", "source": "secret", "secret": True},
    ]
    container = {
        "Config": {
            "Image": "img",
            "Env": ["PATH=/bin", "ENV=old", "GONE=1"],
            "Labels": {docker_plan.LABEL_ENV_NAMES: "ENV,GONE", "keep": "me"},
        },
        "HostConfig": {"Binds": ["vol:/data"]},
    }
    config = env_refresh_docker.refreshed_config(container, {"explicit": {}}, entries)
    assert config["Env"] == ["PATH=/bin", "ENV=dev_ws1", "TOKEN=t"]
    assert config["Labels"]["keep"] == "me"
    assert config["Labels"][docker_plan.LABEL_ENV_NAMES] == "ENV,TOKEN"
    assert config["Labels"][docker_plan.LABEL_SECRET_NAMES] == "TOKEN"
    assert config["Labels"][docker_plan.LABEL_CONFIG_HASH] == env_policy.config_hash(entries)
    assert config["HostConfig"] == {"Binds": ["vol:/data"]}
    assert container["Config"]["Env"] == ["PATH=/bin", "ENV=old", "GONE=1"], "the input is not modified"


class _Module:
    """What the env policy task reads of AnsibleModule."""

    def __init__(self, **params):
        self.params = {"state": "present", "namespace": None, "workspace_names": None, "apply_to_existing": "none",
                       **params}
        self.check_mode, self._diff, self.warnings = False, False, []

    def warn(self, message):
        self.warnings.append(message)


class _Engine:
    """An engine holding workspaces started under POLICY; records the ones the task refreshes."""

    def __init__(self, workspaces):
        self.store, self.workspaces, self.refreshed = MemoryStore(), workspaces, []

    def workspace_envs(self, namespace=None):
        return list(self.workspaces)

    def refresh_env(self, workspace, entries, dry_run):
        self.refreshed.append(workspace["name"])


def test_workspace_names_keep_the_report_and_the_restarts_to_the_named_workspaces():
    engine = _Engine([_started("ws1"), _started("team-ws1"), _started("team-ws2")])
    renamed = {**POLICY, "workspace_env_pattern": "new_{workspace_name}"}
    module = _Module(workspace_names=["team-*", "ws9"], apply_to_existing="restart")
    result = env_policy_task._apply(module, engine, renamed)
    assert result["restarted"] == engine.refreshed == ["team-ws1", "team-ws2"]
    assert result["stale"] == []
    # every workspace when no names are given: ws1 is stale too
    report = env_policy_task._apply(_Module(), _Engine([_started("ws1"), _started("team-ws1")]), renamed)
    assert [row["name"] for row in report["stale"]] == ["team-ws1", "ws1"]


def test_selected_matches_names_and_wildcards():
    workspaces = [{"name": "pol-ws1"}, {"name": "demo"}, {"name": "pol-ws10"}]
    assert env_policy_task.selected(workspaces, ["pol-ws1"]) == [{"name": "pol-ws1"}]
    assert env_policy_task.selected(workspaces, ["pol-*"]) == [{"name": "pol-ws1"}, {"name": "pol-ws10"}]
    assert env_policy_task.selected(workspaces, None) == workspaces
