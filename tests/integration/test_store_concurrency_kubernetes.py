"""Parallel runs against one API server keep every change of the control documents (resourceVersion guards).

Each writer is its own process, as parallel ansible-playbook runs are; they all start together.
"""

import base64
import json
import uuid

import pytest
from store_writer import ORDER, writers

kubernetes = pytest.importorskip("kubernetes")
from kubernetes.client import CoreV1Api, RbacAuthorizationV1Api  # noqa: E402

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import client as k8s_client  # noqa: E402
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import store as k8s_store  # noqa: E402
from ansible_collections.atelier.workspaces.plugins.module_utils.common import document_pair, pair_writes  # noqa: E402
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError  # noqa: E402

WRITERS = 10


@pytest.fixture()
def control(k8s_api):
    """A control namespace of this test alone (the first writer creates it), deleted afterwards."""
    name = f"store-conc-{uuid.uuid4().hex[:6]}"
    yield name
    core = CoreV1Api(k8s_api)
    if name in [item.metadata.name for item in core.list_namespace().items]:
        core.delete_namespace(name)


@pytest.fixture()
def store(kubeconfig, control):
    return k8s_store.K8sStore(k8s_client.Cluster(k8s_client.connect({"kubeconfig": kubeconfig})), control)


def _keys(prefix):
    return [f"{prefix}-{index:02d}" for index in range(WRITERS)]


def _assert_all_kept_once(mapping, keys):
    assert {key for key in mapping if key != ORDER} == set(keys)
    assert sorted(json.loads(mapping[ORDER])) == sorted(keys), "a change was lost or applied twice"


@pytest.mark.parametrize("kind", ["plain", "secret"])
def test_parallel_writers_of_one_document_are_all_kept(kubeconfig, control, store, kind):
    keys = _keys(kind)
    results = writers("kubernetes", "conc", kind, keys, "--namespace", control, "--kubeconfig", kubeconfig)
    assert [result["changed"] for result in results] == [True] * WRITERS
    _assert_all_kept_once(store.read("conc", secret=kind == "secret"), keys)


def test_parallel_writers_of_a_pair_keep_both_halves_whole(kubeconfig, control, store):
    keys = _keys("pair")
    results = writers("kubernetes", "conc", "pair", keys, "--namespace", control, "--kubeconfig", kubeconfig)
    assert all(result["changed"] for result in results)
    plain, secret = store.read_pair("conc")
    _assert_all_kept_once(plain, keys)
    assert secret == dict.fromkeys(keys, "secret")


def test_a_change_is_a_guarded_write_and_an_unchanged_one_costs_reads_only(k8s_api, store, control):
    assert store.update("guarded", lambda _current: {"a": "1"}) is True
    core = CoreV1Api(k8s_api)
    version = core.read_namespaced_config_map("atelier-guarded", control).metadata.resource_version
    assert store.update("guarded", lambda current: current) is False
    assert store.update("guarded", lambda _current: {"a": "2"}, dry_run=True) is True
    assert core.read_namespaced_config_map("atelier-guarded", control).metadata.resource_version == version

    # another client changes it between this run's read and write: the change is computed again on its write
    def change(current):
        if current == {"a": "1"}:
            core.patch_namespaced_config_map("atelier-guarded", control, {"data": {"b": "2"}})
        return {**current, "c": "3"}

    assert store.update("guarded", change) is True
    assert store.read("guarded") == {"a": "1", "b": "2", "c": "3"}
    assert store.update("guarded", lambda _current: None) is True
    assert store.read("guarded") is None


def test_a_pair_a_killed_run_left_half_written_is_finished_by_the_next_run(k8s_api, monkeypatch, store, control):
    monkeypatch.setattr(pair_writes, "SETTLE_SECONDS", 1)
    assert store.update_pair("half", lambda _pair: ({"v": "1"}, {"token": "1"})) is True
    # the secret half of a write whose plain half never came
    revision = base64.b64encode(b"killed").decode()
    CoreV1Api(k8s_api).patch_namespaced_secret("atelier-half", control, {
        "data": {document_pair.REVISION_KEY: revision, "token": base64.b64encode(b"2").decode()}})
    with pytest.raises(WorkspaceError, match="come from different writes"):
        store.read_pair("half")
    assert store.update_pair("half", lambda pair: ({**pair[0], "v": "3"}, {"token": "3"})) is True
    assert store.read_pair("half") == ({"v": "3"}, {"token": "3"})


# What the controller's Role in the control namespace grants on the env policy (roles/k8s_cluster), written out
# here: get, create and patch by name, delete. A Role cannot grant a POST by name, so the store must not need one.
CONTROLLER_VERBS = ["get", "create", "patch", "delete"]


@pytest.fixture()
def controller(k8s_api, kubeconfig, control):
    """A user holding only those verbs on the document 'policy', and get on the control namespace."""
    user = f"store-controller-{uuid.uuid4().hex[:6]}"
    core, rbac = CoreV1Api(k8s_api), RbacAuthorizationV1Api(k8s_api)
    core.create_namespace({"metadata": {"name": control}})
    subject = [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": user}]
    rbac.create_namespaced_role(control, {"metadata": {"name": user}, "rules": [
        {"apiGroups": [""], "resources": ["configmaps", "secrets"], "resourceNames": ["atelier-policy"],
         "verbs": CONTROLLER_VERBS}]})
    rbac.create_namespaced_role_binding(control, {"metadata": {"name": user}, "subjects": subject,
                                                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io",
                                                              "kind": "Role", "name": user}})
    rbac.create_cluster_role({"metadata": {"name": user}, "rules": [
        {"apiGroups": [""], "resources": ["namespaces"], "resourceNames": [control], "verbs": ["get"]}]})
    rbac.create_cluster_role_binding({"metadata": {"name": user}, "subjects": subject,
                                      "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                                  "name": user}})
    api = k8s_client.connect({"kubeconfig": kubeconfig})
    api.set_default_header("Impersonate-User", user)
    yield k8s_client.Cluster(api)
    rbac.delete_cluster_role_binding(user)
    rbac.delete_cluster_role(user)


def test_the_store_needs_only_the_verbs_the_controllers_role_grants(controller, control):
    store = k8s_store.K8sStore(controller, control)
    assert store.update_pair("policy", lambda _pair: ({"policy.json": "{}"}, {"TOKEN": "t"})) is True
    assert store.update_pair("policy", lambda pair: ({**pair[0], "more": "1"}, {})) is True
    assert store.read_pair("policy") == ({"policy.json": "{}", "more": "1"}, {})
    assert store.update_pair("policy", lambda _pair: (None, None)) is True
    assert store.read_pair("policy") == (None, None)
    # what the store avoids: a create by POST is refused to a Role limited to names
    with pytest.raises(WorkspaceError, match="forbidden"):
        controller.create({"apiVersion": "v1", "kind": "ConfigMap",
                           "metadata": {"name": "atelier-policy", "namespace": control}})
