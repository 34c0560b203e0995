"""Cluster settings in the control namespace shape new workspaces; a task's own parameters win."""

import uuid

import pytest
from ansible_runner import run_module

kubernetes = pytest.importorskip("kubernetes")
from kubernetes.client import CoreV1Api, NetworkingV1Api  # noqa: E402


@pytest.fixture()
def cluster(k8s_api, kubeconfig):
    suffix = uuid.uuid4().hex[:6]
    core = CoreV1Api(k8s_api)
    names = {"namespace": f"cs-{suffix}", "control": f"cs-ctl-{suffix}"}
    core.create_namespace({"metadata": {"name": names["control"]}})
    yield {**names, "core": core, "args": {
        "kubeconfig": kubeconfig, "control_namespace": names["control"], "namespace": names["namespace"],
        "image": "atelier/busybox:local", "wait": False}}
    existing = [item.metadata.name for item in core.list_namespace().items]
    for namespace in names.values():
        if namespace in existing:
            core.delete_namespace(namespace)


def _write_settings(cluster, data):
    body = {"metadata": {"name": "atelier-cluster-settings"}, "data": data}
    cluster["core"].create_namespaced_config_map(cluster["control"], body)


def test_settings_give_class_and_shared_ingress_and_parameters_win(k8s_api, cluster):
    _write_settings(cluster, {"WORKSPACE_INGRESS_NAME": "team-routes", "WORKSPACE_INGRESS_PATH_TYPE": "Prefix",
                              "WORKSPACE_STORAGE_CLASS": "fast"})
    args, core, namespace = cluster["args"], cluster["core"], cluster["namespace"]
    run_module("atelier.workspaces.workspace", {**args, "name": "by-settings"})
    run_module("atelier.workspaces.workspace", {**args, "name": "by-params", "storage": {"class": "standard"}})
    again = run_module("atelier.workspaces.workspace", {**args, "name": "by-settings"})
    assert again["changed"] is False

    assert core.read_namespaced_persistent_volume_claim("by-settings-data", namespace).spec.storage_class_name == "fast"
    assert core.read_namespaced_persistent_volume_claim("by-params-data", namespace).spec.storage_class_name == (
        "standard")
    ingress = NetworkingV1Api(k8s_api).read_namespaced_ingress("team-routes", namespace)
    paths = {p.path: p.path_type for rule in ingress.spec.rules for p in rule.http.paths}
    assert paths == {"/by-settings": "Prefix", "/by-params": "Prefix"}


def test_bad_settings_name_the_setting_and_create_nothing(cluster):
    _write_settings(cluster, {"WORKSPACE_INGRESS_TYPE": "traefik", "WORKSPACE_INGRESS_NAME": "x"})
    failed = run_module("atelier.workspaces.workspace", {**cluster["args"], "name": "ws"}, expect_failure=True)
    assert failed["msg"].startswith("cluster settings (cluster-settings) WORKSPACE_INGRESS_TYPE: use one of")
    assert cluster["namespace"] not in [item.metadata.name for item in cluster["core"].list_namespace().items]


def test_cluster_settings_module_changes_only_the_settings_it_is_given(cluster):
    _write_settings(cluster, {"WORKSPACE_STORAGE_CLASS": "fast"})
    args = {"kubeconfig": cluster["args"]["kubeconfig"], "control_namespace": cluster["control"],
            "settings": {"WORKSPACE_ALLOWED_HOST_PATHS": ["/srv/data", "/srv/sets"]}}
    written = run_module("atelier.workspaces.workspace_cluster_settings", args, diff=True)
    assert written["changed"] is True
    assert written["diff"]["before"] == {"WORKSPACE_STORAGE_CLASS": "fast"}
    assert run_module("atelier.workspaces.workspace_cluster_settings", args)["changed"] is False
    stored = cluster["core"].read_namespaced_config_map("atelier-cluster-settings", cluster["control"]).data
    assert stored == {"WORKSPACE_STORAGE_CLASS": "fast", "WORKSPACE_ALLOWED_HOST_PATHS": "/srv/data:/srv/sets"}

    removed = run_module("atelier.workspaces.workspace_cluster_settings",
                         {**args, "settings": {"WORKSPACE_ALLOWED_HOST_PATHS": []}})
    assert removed["settings"] == {"WORKSPACE_STORAGE_CLASS": "fast"}
    assert cluster["core"].read_namespaced_config_map("atelier-cluster-settings", cluster["control"]).data == {
        "WORKSPACE_STORAGE_CLASS": "fast"}


def test_a_host_path_volume_is_refused_on_kubernetes_too_and_creates_nothing(cluster):
    _write_settings(cluster, {"WORKSPACE_ALLOWED_HOST_PATHS": "/srv/data"})
    failed = run_module("atelier.workspaces.workspace", {**cluster["args"], "name": "ws",
                                                         "container_config": {"volumes": ["/:/host"]}},
                        expect_failure=True)
    assert "container_config.volumes[0]: host path '/' is never mounted into a workspace" in failed["msg"]
    assert cluster["namespace"] not in [item.metadata.name for item in cluster["core"].list_namespace().items]
