"""workspace_env_policy on the real engines: the policy stored with the engine, the env inside the
workspaces, stale workspaces reported and restarted one by one, no secret value in any output."""

import base64
import json
import os
import time
import uuid

import pytest
from ansible_runner import audit_writes, run_module
from docker_workspaces import kept_control_documents, remove_workspaces

CANARY = "canary-" + uuid.uuid4().hex
DOCKERD_LOG = "/var/log/atelier/dockerd.log"
POLICY_MODULE = "atelier.workspaces.workspace_env_policy"
WORKSPACE_MODULE = "atelier.workspaces.workspace"


def seed_policy(dev_db="dev-db"):
    """The seed's combined example: ENV from the pattern picks the family each workspace inherits."""
    return {
        "seed_vars": {
            "INHERIT_ENV_VARS": "1",
            "USER_DEFINED_VARS": "TEAM",
            "WORKSPACE_ENV_PATTERN": "dev_{workspace_name}",
            "USER_DEFINED_VARS__ENV__dev_pol-ws1": "DEV_ENV_*",
            "USER_DEFINED_VARS__ENV__dev_pol-ws2": "PROD_ENV_*",
            "SHARE_SECRETS_ACROSS_WORKSPACES": "1",
            "TEAM": "data",
            "DEV_ENV_DB": dev_db,
            "PROD_ENV_DB": "prod-db",
            "UNLISTED": "not inherited",
        },
        "secrets": {"WAREHOUSE_TOKEN": CANARY},
    }


class Outputs:
    """Every module output of a test, checked for the canary at the end."""

    def __init__(self):
        self.seen = []

    def run(self, module, args, **kwargs):
        result = run_module(module, args, **kwargs)
        self.seen.append(result["_output"])
        return result

    def assert_no_secret(self):
        assert self.seen
        for output in self.seen:
            assert CANARY not in output


# ---------------------------------------------------------------- Docker


@pytest.fixture()
def docker_env(docker_client):
    """Workspaces pol-ws1..3 on the engine, removed afterwards, and the engine's policy as it was before."""
    outputs = Outputs()
    with kept_control_documents(docker_client):
        yield outputs
        remove_workspaces(docker_client, "pol-ws")
    outputs.assert_no_secret()
    with open(DOCKERD_LOG, encoding="utf-8", errors="replace") as log:
        assert CANARY not in log.read()


def _docker_workspace(name, **extra):
    return {"name": name, "backend": "docker", "image": "atelier/busybox:local", "command": ["sleep", "infinity"],
            "user_code_path": "/data", "wait_timeout": 30, **extra}


def _container_env(docker_client, name):
    container = docker_client.containers.get(f"atelier-{name}")
    code, output = container.exec_run(["env"], user="1000")
    assert code == 0
    return container.id, dict(line.split("=", 1) for line in output.decode().splitlines())


def _engine_writes(docker_client, since):
    """Engine events after `since` that changed the control store or a pol-ws workspace."""
    events = docker_client.events(since=since, until=time.time() + 0.5, decode=True)
    # reading a file of a stopped container mounts its volume for the copy
    reads = ("archive-path", "mount", "unmount", "exec_create", "exec_start", "exec_die")
    ours = ("atelier-control", "pol-ws")
    return [
        event for event in events
        if event.get("Action") not in reads and any(name in json.dumps(event.get("Actor")) for name in ours)
    ]


def test_docker_policy_env_stale_report_and_restart(docker_client, docker_env):
    run = docker_env.run
    first = run(POLICY_MODULE, {"backend": "docker", **seed_policy()}, diff=True)
    assert first["changed"] is True
    assert first["policy"]["secrets"] == {"WAREHOUSE_TOKEN": "********"}
    started = time.time()
    again = run(POLICY_MODULE, {"backend": "docker", **seed_policy()})
    assert again["changed"] is False
    assert _engine_writes(docker_client, started) == []

    # stored on the engine's host: the secret document is readable by root only
    volume = docker_client.volumes.get("atelier-control").attrs["Mountpoint"]
    assert oct(os.stat(f"{volume}/env-policy.secret.json").st_mode & 0o777) == "0o600"
    with open(f"{volume}/env-policy.json", encoding="utf-8") as stored:
        assert "dev_{workspace_name}" in json.load(stored)["policy.json"]

    shared = [{"key": "WAREHOUSE_TOKEN"}]
    ws1 = run(WORKSPACE_MODULE, _docker_workspace("pol-ws1", secrets=shared))
    run(WORKSPACE_MODULE, _docker_workspace("pol-ws2"))
    run(WORKSPACE_MODULE, _docker_workspace("pol-ws3", env={"ENV": "explicit"}))
    sources = {entry["name"]: entry["source"] for entry in ws1["env"]}
    assert sources == {"DEV_ENV_DB": "rule:dev_pol-ws1", "ENV": "pattern", "TEAM": "allow-list",
                       "USER_CODE_PATH": "system", "WAREHOUSE_TOKEN": "secret", "WORKSPACE_ACCESS_TOKEN": "access"}

    _id1, env1 = _container_env(docker_client, "pol-ws1")
    assert env1["ENV"] == "dev_pol-ws1" and env1["DEV_ENV_DB"] == "dev-db" and env1["TEAM"] == "data"
    assert env1["WAREHOUSE_TOKEN"] == CANARY and "PROD_ENV_DB" not in env1 and "UNLISTED" not in env1
    id2, env2 = _container_env(docker_client, "pol-ws2")
    assert env2["ENV"] == "dev_pol-ws2" and env2["PROD_ENV_DB"] == "prod-db" and "DEV_ENV_DB" not in env2
    id3, env3 = _container_env(docker_client, "pol-ws3")
    assert env3["ENV"] == "explicit" and "DEV_ENV_DB" not in env3 and env3["TEAM"] == "data"

    # a change of the DEV family makes exactly pol-ws1 stale, and nothing restarts by itself
    changed = run(POLICY_MODULE, {"backend": "docker", **seed_policy(dev_db="dev-db-2")})
    assert changed["changed"] is True
    ours = [row for row in changed["stale"] if row["name"].startswith("pol-ws")]
    assert [(row["name"], row["changes"]["changed"]) for row in ours] == [("pol-ws1", ["DEV_ENV_DB"])]
    assert _container_env(docker_client, "pol-ws1")[1]["DEV_ENV_DB"] == "dev-db"
    info = run("atelier.workspaces.workspace_info", {"backend": "docker"})
    stale = {view["name"]: view["env_stale"] for view in info["workspaces"] if view["name"].startswith("pol-ws")}
    assert stale == {"pol-ws1": True, "pol-ws2": False, "pol-ws3": False}

    # check mode predicts the restart and changes nothing
    ours_only = {"workspace_names": ["pol-ws*"], "apply_to_existing": "restart"}
    predicted = run(POLICY_MODULE, {"backend": "docker", **seed_policy("dev-db-2"), **ours_only}, check=True)
    assert predicted["changed"] is True and predicted["restarted"] == ["pol-ws1"]
    assert _container_env(docker_client, "pol-ws1")[1]["DEV_ENV_DB"] == "dev-db"

    # workspaces of others on the engine may be stale under this policy too: the restarts stay with ours
    restart = {"backend": "docker", **seed_policy("dev-db-2"), **ours_only}
    applied = run(POLICY_MODULE, restart)
    assert applied["restarted"] == ["pol-ws1"]
    assert applied["stale"] == []
    new_id1, env1 = _container_env(docker_client, "pol-ws1")
    assert env1["DEV_ENV_DB"] == "dev-db-2" and env1["WAREHOUSE_TOKEN"] == CANARY
    assert _container_env(docker_client, "pol-ws2")[0] == id2 and _container_env(docker_client, "pol-ws3")[0] == id3

    started = time.time()
    assert run(POLICY_MODULE, restart)["changed"] is False
    # the workspace module agrees: the refreshed workspace needs nothing
    assert run(WORKSPACE_MODULE, _docker_workspace("pol-ws1", secrets=shared))["changed"] is False
    assert _engine_writes(docker_client, started) == []
    assert docker_client.containers.get("atelier-pol-ws1").id == new_id1


def test_docker_missing_shared_secret_is_refused_before_anything_is_created(docker_client, docker_env):
    docker_env.run(POLICY_MODULE, {"backend": "docker", "secrets": {"WAREHOUSE_TOKEN": CANARY}})
    failed = docker_env.run(WORKSPACE_MODULE, _docker_workspace("pol-ws1", secrets=[{"key": "WAREHOUSE_TOKEN"}]),
                            expect_failure=True)
    assert "secrets[0].key: 'WAREHOUSE_TOKEN' is not a secret of this workspace and sharing" in failed["msg"]
    assert docker_client.containers.list(all=True, filters={"name": "atelier-pol-ws1"}) == []


BAD_POLICIES = [
    ({"variables": {"1BAD": "x"}}, "variables.1BAD:"),
    ({"inherit": True, "user_defined_vars": ["re:(unclosed"]}, "user_defined_vars[0]: invalid regular expression"),
    ({"workspace_env_pattern": "dev {workspace_name}"}, "workspace_env_pattern:"),
    ({"inherit": True, "variables": {"A": "1"}, "env_rules": {"dev": ["DEV_ENV_*"]}}, "env_rules.dev[0]: matches"),
    ({"seed_vars": {"INHERIT_ENV_VARS": "0"}, "inherit": True}, "inherit: set differently in seed_vars"),
    ({"variables": {"TOKEN": "a"}, "secrets": {"TOKEN": CANARY}}, "secrets.TOKEN: also a plain variable"),
]


@pytest.mark.parametrize(("policy", "start"), BAD_POLICIES, ids=[row[1].split(":")[0] for row in BAD_POLICIES])
def test_bad_policy_names_the_field_and_stores_nothing(docker_client, docker_env, policy, start):
    stored = docker_env.run(POLICY_MODULE, {"backend": "docker", "variables": {"KEEP": "1"}})["policy"]
    failed = docker_env.run(POLICY_MODULE, {"backend": "docker", **policy}, expect_failure=True)
    assert failed["msg"].startswith("invalid env policy: " + start), failed["msg"]
    check = docker_env.run(POLICY_MODULE, {"backend": "docker", "variables": {"KEEP": "1"}}, check=True)
    assert check["changed"] is False and check["policy"] == stored


# ---------------------------------------------------------------- Kubernetes


@pytest.fixture()
def k8s_env(k8s_api, kubeconfig):
    """A namespace for the workspaces and a control namespace of their own, removed afterwards."""
    from kubernetes.client import CoreV1Api

    suffix = uuid.uuid4().hex[:6]
    env = {"namespace": f"pol-{suffix}", "control": f"pol-ctl-{suffix}", "outputs": Outputs(),
           "connection": {"kubeconfig": kubeconfig, "control_namespace": f"pol-ctl-{suffix}"}}
    yield env
    core = CoreV1Api(k8s_api)
    for namespace in (env["namespace"], env["control"]):
        if namespace in [item.metadata.name for item in core.list_namespace().items]:
            core.delete_namespace(namespace)
    env["outputs"].assert_no_secret()


def test_kubernetes_policy_env_stale_report_and_restart(k8s_api, k8s_env):
    from kubernetes.client import AppsV1Api, CoreV1Api

    core, apps = CoreV1Api(k8s_api), AppsV1Api(k8s_api)
    run, namespace, connection = k8s_env["outputs"].run, k8s_env["namespace"], k8s_env["connection"]
    policy = {**connection, "namespace": namespace, **seed_policy()}
    assert run(POLICY_MODULE, policy)["changed"] is True
    writes = audit_writes(namespace, k8s_env["control"])
    assert run(POLICY_MODULE, policy)["changed"] is False
    assert audit_writes(namespace, k8s_env["control"]) == writes

    config_map = core.read_namespaced_config_map("atelier-env-policy", k8s_env["control"])
    assert json.loads(config_map.data["policy.json"])["workspace_env_pattern"] == "dev_{workspace_name}"
    secret = core.read_namespaced_secret("atelier-env-policy", k8s_env["control"])
    assert base64.b64decode(secret.data["WAREHOUSE_TOKEN"]).decode() == CANARY
    assert CANARY not in json.dumps(config_map.data)

    def workspace(name, **extra):
        return {**connection, "name": name, "namespace": namespace, "wait": False, "storage": {"size": "1Gi"},
                "image": "atelier/busybox:local", **extra}

    shared = [{"key": "WAREHOUSE_TOKEN"}]
    run(WORKSPACE_MODULE, workspace("pol-ws1", secrets=shared))
    run(WORKSPACE_MODULE, workspace("pol-ws2"))

    def env_of(name):
        data = core.read_namespaced_secret(f"{name}-env", namespace).data
        # every workspace has its own access secret; the policy never touches it
        assert len(base64.b64decode(data.pop("WORKSPACE_ACCESS_TOKEN"))) >= 40
        return {key: base64.b64decode(value).decode() for key, value in data.items()}

    def template_hash(name):
        statefulset = apps.read_namespaced_stateful_set(name, namespace)
        return statefulset.spec.template.metadata.annotations["workspaces.atelier.dev/config-hash"]

    assert env_of("pol-ws1") == {"DEV_ENV_DB": "dev-db", "ENV": "dev_pol-ws1", "TEAM": "data",
                                 "USER_CODE_PATH": "/home/workspace/code", "WAREHOUSE_TOKEN": CANARY}
    assert env_of("pol-ws2")["PROD_ENV_DB"] == "prod-db" and "DEV_ENV_DB" not in env_of("pol-ws2")
    hash1, hash2 = template_hash("pol-ws1"), template_hash("pol-ws2")

    changed = run(POLICY_MODULE, {**policy, **seed_policy(dev_db="dev-db-2")})
    assert [row["name"] for row in changed["stale"]] == ["pol-ws1"]
    assert env_of("pol-ws1")["DEV_ENV_DB"] == "dev-db", "existing workspaces keep their env until restarted"
    info = run("atelier.workspaces.workspace_info", {**connection, "namespace": namespace})
    assert {view["name"]: view["env_stale"] for view in info["workspaces"]} == {"pol-ws1": True, "pol-ws2": False}

    restart = {**policy, **seed_policy(dev_db="dev-db-2"), "apply_to_existing": "restart"}
    applied = run(POLICY_MODULE, restart)
    assert applied["restarted"] == ["pol-ws1"]
    assert env_of("pol-ws1")["DEV_ENV_DB"] == "dev-db-2"
    assert template_hash("pol-ws1") != hash1 and template_hash("pol-ws2") == hash2

    writes = audit_writes(namespace, k8s_env["control"])
    assert run(POLICY_MODULE, restart)["changed"] is False
    assert run(WORKSPACE_MODULE, workspace("pol-ws1", secrets=shared))["changed"] is False
    assert audit_writes(namespace, k8s_env["control"]) == writes, "re-runs after the restart sent write requests"

    removed = run(POLICY_MODULE, {**connection, "namespace": namespace, "state": "absent"})
    assert removed["changed"] is True
    assert sorted(row["name"] for row in removed["stale"]) == ["pol-ws1", "pol-ws2"]
    documents = core.list_namespaced_config_map(k8s_env["control"], label_selector="workspaces.atelier.dev/document")
    assert documents.items == []
