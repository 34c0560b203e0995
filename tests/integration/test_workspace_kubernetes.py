"""The workspace module against the real API server: objects checked in the API, writes counted in its audit log."""

import base64
import time
import uuid

import pytest
from ansible_runner import audit_writes, run_module

kubernetes = pytest.importorskip("kubernetes")
from kubernetes.client import AppsV1Api, CoreV1Api  # noqa: E402
from kubernetes.client.exceptions import ApiException  # noqa: E402

CANARY = "canary-" + uuid.uuid4().hex


@pytest.fixture()
def namespace(k8s_api):
    name = f"it-{uuid.uuid4().hex[:8]}"
    yield name
    if _namespace_exists(k8s_api, name):
        CoreV1Api(k8s_api).delete_namespace(name)


@pytest.fixture()
def args(kubeconfig, namespace):
    return {
        "name": "ws",
        "backend": "kubernetes",
        "namespace": namespace,
        "kubeconfig": kubeconfig,
        "image": "atelier/busybox:local",
        "command": ["sleep", "infinity"],
        "env": {"PROJECT": "analytics"},
        "secrets": [{"key": "token", "env_var": "API_TOKEN", "value": CANARY}],
        "storage": {"size": "1Gi"},
        "wait_timeout": 60,
    }


def _converge_twice(arguments, **kwargs):
    first = run_module("atelier.workspaces.workspace", arguments, **kwargs)
    writes = audit_writes()
    second = run_module("atelier.workspaces.workspace", arguments, **kwargs)
    assert second["changed"] is False, second["actions"]
    assert audit_writes() == writes, "the unchanged re-run sent write requests"
    return first


def _pod(core, namespace, name="ws-0"):
    try:
        return core.read_namespaced_pod(name, namespace)
    except ApiException as error:
        if error.status == 404:
            return None
        raise


def test_create_makes_real_objects_and_rerun_writes_nothing(k8s_api, namespace, args):
    core, apps = CoreV1Api(k8s_api), AppsV1Api(k8s_api)
    first = _converge_twice(args)
    assert first["actions"] == [
        f"create Namespace/{namespace}", "create Secret/ws-env", "create PersistentVolumeClaim/ws-data",
        "create Service/ws", "create ServiceAccount/ws", "create StatefulSet/ws",
    ]
    statefulset = apps.read_namespaced_stateful_set("ws", namespace)
    assert statefulset.spec.replicas == 1
    assert statefulset.metadata.labels["app.kubernetes.io/managed-by"] == "atelier.workspaces"
    pod_spec = statefulset.spec.template.spec
    assert pod_spec.automount_service_account_token is False
    container = pod_spec.containers[0]
    assert container.security_context.allow_privilege_escalation is False
    assert container.security_context.capabilities.drop == ["ALL"]
    assert container.env_from[0].secret_ref.name == "ws-env"
    secret = core.read_namespaced_secret("ws-env", namespace)
    env = {key: base64.b64decode(value).decode() for key, value in secret.data.items()}
    assert env["PROJECT"] == "analytics" and env["API_TOKEN"] == CANARY
    pod = _pod(core, namespace)
    assert pod.status.phase == "Running" and pod.spec.node_name
    assert core.read_namespaced_persistent_volume_claim("ws-data", namespace).status.phase == "Bound"
    assert first["workspace"]["status"] in ("Running", "Starting")
    assert CANARY not in first["_output"]


def test_data_claim_survives_stop_absent_and_recreate_until_purge(k8s_api, namespace, args):
    core = CoreV1Api(k8s_api)
    run_module("atelier.workspaces.workspace", args)
    claim_uid = core.read_namespaced_persistent_volume_claim("ws-data", namespace).metadata.uid

    _converge_twice({**args, "state": "stopped"})
    assert AppsV1Api(k8s_api).read_namespaced_stateful_set("ws", namespace).spec.replicas == 0
    assert _pod(core, namespace) is None
    _converge_twice({**args, "state": "running"})
    assert _pod(core, namespace).status.phase == "Running"

    _converge_twice({**args, "state": "absent"})
    assert core.list_namespaced_secret(namespace, label_selector="workspaces.atelier.dev/name=ws").items == []
    assert core.read_namespaced_persistent_volume_claim("ws-data", namespace).metadata.uid == claim_uid

    run_module("atelier.workspaces.workspace", args)
    assert core.read_namespaced_persistent_volume_claim("ws-data", namespace).metadata.uid == claim_uid
    pod = _pod(core, namespace)
    assert pod.spec.volumes[0].persistent_volume_claim.claim_name == "ws-data"

    first = _converge_twice({**args, "state": "absent", "purge": True})
    assert "delete PersistentVolumeClaim/ws-data" in first["actions"]

    def claim_gone():
        try:
            core.read_namespaced_persistent_volume_claim("ws-data", namespace)
        except ApiException as error:
            return error.status == 404
        return False

    deadline = time.monotonic() + 30
    while not claim_gone():
        assert time.monotonic() < deadline, "the purged claim is still there"
        time.sleep(0.5)


def test_env_change_restarts_the_pod_deliberately(k8s_api, namespace, args):
    core = CoreV1Api(k8s_api)
    run_module("atelier.workspaces.workspace", args)
    old_uid = _pod(core, namespace).metadata.uid
    first = _converge_twice({**args, "env": {"PROJECT": "billing"}})
    assert first["actions"] == [
        "update Secret/ws-env (data.PROJECT)",
        "update StatefulSet/ws (spec.template.metadata.annotations.workspaces.atelier.dev/config-hash)",
    ]
    deadline = time.monotonic() + 60
    while (pod := _pod(core, namespace)) is None or pod.metadata.uid == old_uid or pod.status.phase != "Running":
        assert time.monotonic() < deadline, "the workspace pod was not replaced"
        time.sleep(0.5)


def test_scheduler_places_gpu_and_zone_workspaces(k8s_api, namespace, args):
    core = CoreV1Api(k8s_api)
    gpu = {**args, "name": "gpu", "resources": {"gpu": 1, "accelerator": "nvidia-tesla-t4"},
           "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]}
    zoned = {**args, "name": "zoned", "node_selector": {"topology.kubernetes.io/zone": "zone-b"}}
    _converge_twice(gpu)
    _converge_twice(zoned)
    gpu_pod = _pod(core, namespace, "gpu-0")
    assert gpu_pod.spec.node_name == "node-gpu"
    assert gpu_pod.spec.containers[0].resources.limits["nvidia.com/gpu"] == "1"
    assert _pod(core, namespace, "zoned-0").spec.node_name == "node-zone-b"


def test_check_mode_predicts_and_writes_nothing(k8s_api, namespace, args):
    writes = audit_writes()
    result = run_module("atelier.workspaces.workspace", args, check=True, diff=True)
    assert result["changed"] is True
    assert "create StatefulSet/ws" in result["actions"]
    assert audit_writes() == writes
    assert AppsV1Api(k8s_api).list_namespaced_stateful_set(namespace).items == [] if _namespace_exists(
        k8s_api, namespace) else True
    assert CANARY not in result["_output"]

    run_module("atelier.workspaces.workspace", args)
    changed = run_module("atelier.workspaces.workspace", {**args, "env": {"PROJECT": "x"}}, check=True, diff=True)
    assert changed["changed"] is True
    secret_diff = next(d for d in changed["diff"] if d["before"].get("kind") == "Secret")
    assert set(secret_diff["before"]["data"].values()) == {"********"}
    assert set(secret_diff["after"]["data"].values()) == {"********"}
    assert CANARY not in changed["_output"]
    env = CoreV1Api(k8s_api).read_namespaced_secret("ws-env", namespace).data
    assert base64.b64decode(env["PROJECT"]).decode() == "analytics"


def _namespace_exists(k8s_api, namespace):
    try:
        CoreV1Api(k8s_api).read_namespace(namespace)
    except ApiException:
        return False
    return True


def test_changing_the_claim_class_is_refused_and_changes_nothing(k8s_api, namespace, args):
    run_module("atelier.workspaces.workspace", args)
    writes = audit_writes()
    result = run_module(
        "atelier.workspaces.workspace", {**args, "storage": {"size": "1Gi", "class": "fast"}}, expect_failure=True)
    assert result["msg"].startswith("storage.class:")
    assert audit_writes() == writes
    claim = CoreV1Api(k8s_api).read_namespaced_persistent_volume_claim("ws-data", namespace)
    assert claim.spec.storage_class_name == "standard"


@pytest.mark.parametrize(("overrides", "field"), [
    ({"tolerations": [{"effect": "NoSchedule"}]}, "tolerations[0]:"),
    ({"storage": {"size": "lots"}}, "storage.size:"),
    ({"name": "Not_Valid"}, "name:"),
    ({"resources": {"memory": "1.5.2Gi"}}, "resources.memory:"),
    ({"kubeconfig": "/nonexistent/kubeconfig"}, "kubeconfig:"),
    ({"name": "w" * 53}, "name:"),
    ({"resources": {"cpu": "fast"}}, "resources.cpu:"),
    ({"resources": {"gpu": -1}}, "resources.gpu:"),
    ({"container_config": "env: [unclosed"}, "container_config:"),
    ({"ingress": {"type": "traefik"}}, "type"),
    ({"ingress": {"name": "Shared_Ingress"}}, "ingress.name:"),
    ({"tolerations": [{"key": "gpu", "operator": "Maybe"}]}, "tolerations[0].operator:"),
    ({"secrets": [{"env_var": "TOKEN"}]}, "secrets[0].key:"),
    ({"secrets": [{"key": "not-defined-anywhere"}]}, "secrets[0]"),
    ({"wait_timeout": 0}, "wait_timeout:"),
])
def test_bad_input_names_the_field_and_writes_nothing(namespace, args, overrides, field):
    writes = audit_writes()
    result = run_module("atelier.workspaces.workspace", {**args, **overrides}, expect_failure=True)
    assert field in result["msg"]
    assert audit_writes() == writes


def test_bulk_reconciles_many_workspaces_in_one_task(k8s_api, namespace, args):
    apps = AppsV1Api(k8s_api)
    task = {**args, "wait": False, "workspaces": [
        {"name": f"bulk-{index}", "env": {"INDEX": str(index)}} for index in range(5)
    ] + [{"name": "bulk-stopped", "state": "stopped"}]}
    del task["name"]
    first = _converge_twice(task)
    assert first["changed"] is True
    assert [entry["name"] for entry in first["workspaces"]] == [f"bulk-{i}" for i in range(5)] + ["bulk-stopped"]
    statefulsets = {s.metadata.name: s for s in apps.list_namespaced_stateful_set(namespace).items}
    assert sorted(statefulsets) == sorted([f"bulk-{i}" for i in range(5)] + ["bulk-stopped"])
    assert statefulsets["bulk-stopped"].spec.replicas == 0
    assert statefulsets["bulk-3"].spec.replicas == 1
    secret = CoreV1Api(k8s_api).read_namespaced_secret("bulk-3-env", namespace)
    assert base64.b64decode(secret.data["INDEX"]).decode() == "3"
    assert "PROJECT" not in secret.data  # an entry's dict option replaces the task's whole
    assert base64.b64decode(secret.data["API_TOKEN"]).decode() == CANARY  # options it leaves out are inherited
    assert CANARY not in first["_output"]


def test_bulk_checks_every_entry_before_applying_any(k8s_api, namespace, args):
    task = {**args, "workspaces": [{"name": "good"}, {"name": "bad", "resources": {"cpu": "lots"}}, {"name": "good"}]}
    del task["name"]
    writes = audit_writes()
    result = run_module("atelier.workspaces.workspace", task, expect_failure=True)
    assert "workspaces[1].resources.cpu:" in result["msg"]
    assert "workspaces[2].name: 'good' is listed twice" in result["msg"]
    assert audit_writes() == writes


def test_info_reports_running_stopped_and_explains_unschedulable(k8s_api, namespace, args):
    run_module("atelier.workspaces.workspace", args)
    run_module("atelier.workspaces.workspace", {**args, "name": "idle", "state": "stopped"})
    run_module("atelier.workspaces.workspace", {
        **args, "name": "nowhere", "wait": False, "node_selector": {"topology.kubernetes.io/zone": "zone-z"}})
    deadline = time.monotonic() + 30
    while True:
        info = run_module("atelier.workspaces.workspace_info", {
            "backend": "kubernetes", "namespace": namespace, "kubeconfig": args["kubeconfig"]})
        views = {view["name"]: view for view in info["workspaces"]}
        if views["nowhere"]["status"] == "Failed" or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert info["changed"] is False
    assert sorted(views) == ["idle", "nowhere", "ws"]
    assert views["ws"]["status"] == "Running"
    assert views["ws"]["node"] == _pod(CoreV1Api(k8s_api), namespace).spec.node_name
    assert views["ws"]["storage"]["claim"] == "ws-data"
    assert views["idle"]["status"] == "Stopped"
    assert views["nowhere"]["status"] == "Failed"
    assert any(e["reason"] == "FailedScheduling" for e in views["nowhere"]["events"])


def _ingress(k8s_api, namespace, name):
    return kubernetes.client.NetworkingV1Api(k8s_api).read_namespaced_ingress(name, namespace)


def test_own_ingress_and_istio_route(k8s_api, namespace, args):
    first = _converge_twice({**args, "ingress": {"host": "ws.example.test", "path_type": "Prefix"}})
    assert "create Ingress/ws" in first["actions"]
    ingress = _ingress(k8s_api, namespace, "ws")
    assert ingress.spec.ingress_class_name == "nginx"
    (rule,) = ingress.spec.rules
    assert rule.host == "ws.example.test"
    (path,) = rule.http.paths
    assert (path.path, path.path_type, path.backend.service.name) == ("/ws", "Prefix", "ws")
    assert first["workspace"]["url"] == "http://ws.example.test/ws/"

    istio = {**args, "name": "mesh", "ingress": {"type": "istio", "path_prefix": "/ide"}}
    _converge_twice(istio)
    custom = kubernetes.client.CustomObjectsApi(k8s_api)
    service = custom.get_namespaced_custom_object("networking.istio.io", "v1", namespace, "virtualservices", "mesh")
    (route,) = service["spec"]["http"]
    assert route["match"] == [{"uri": {"prefix": "/ide/mesh"}}]
    assert route["route"][0]["destination"]["host"] == f"mesh.{namespace}.svc.cluster.local"

    _converge_twice({**args, "state": "absent"})
    with pytest.raises(ApiException) as gone:
        _ingress(k8s_api, namespace, "ws")
    assert gone.value.status == 404


def test_shared_ingress_keeps_every_path_under_parallel_creation(k8s_api, namespace, args):
    from concurrent.futures import ThreadPoolExecutor

    shared = {"name": "workspaces", "path_prefix": "/u"}
    names = [f"p{index:02d}" for index in range(20)]

    def create(name):
        return run_module("atelier.workspaces.workspace", {**args, "name": name, "wait": False, "ingress": shared})

    run_module("atelier.workspaces.workspace", {**args, "name": "first", "wait": False, "ingress": shared})
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(create, names))
    assert all(result["changed"] for result in results)

    def paths():
        (rule,) = _ingress(k8s_api, namespace, "workspaces").spec.rules
        return {path.backend.service.name: path.path for path in rule.http.paths}

    assert paths() == {name: f"/u/{name}" for name in [*names, "first"]}
    writes = audit_writes()
    again = run_module("atelier.workspaces.workspace", {**args, "name": "p07", "wait": False, "ingress": shared})
    assert again["changed"] is False and audit_writes() == writes

    removed = run_module("atelier.workspaces.workspace", {**args, "name": "p07", "state": "absent"})
    assert "remove from Ingress/workspaces" in removed["actions"]
    assert paths() == {name: f"/u/{name}" for name in [*names, "first"] if name != "p07"}


def test_info_reports_the_url_and_status_the_workspace_module_reports(namespace, args):
    """The route, else public_url, else the Service: both modules read the one view of the workspace."""
    made = {
        "routed": run_module("atelier.workspaces.workspace", {**args, "name": "routed",
                                                              "ingress": {"host": "ide.example.test"}}),
        "public": run_module("atelier.workspaces.workspace", {**args, "name": "public",
                                                              "public_url": "https://ide.example.test/public/"}),
        "plain": run_module("atelier.workspaces.workspace", {**args, "name": "plain"}),
    }
    info = run_module("atelier.workspaces.workspace_info", {"backend": "kubernetes", "namespace": namespace,
                                                            "kubeconfig": args["kubeconfig"]})
    listed = {view["name"]: (view["status"], view["url"]) for view in info["workspaces"]}
    assert listed == {name: (result["workspace"]["status"], result["workspace"]["url"])
                      for name, result in made.items()}
    assert listed["routed"][1] == "http://ide.example.test/routed/"
    assert listed["public"][1] == "https://ide.example.test/public/"
    assert listed["plain"] == ("Running", f"http://plain.{namespace}.svc:8888/")


@pytest.mark.parametrize("refusal, explained", [
    ({"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}, "PodSecurity"),
    ({"quota": {"pods": "0"}}, "exceeded quota"),
])
def test_a_pod_the_cluster_refuses_is_explained(k8s_api, namespace, args, refusal, explained):
    core = CoreV1Api(k8s_api)
    core.create_namespace({"metadata": {"name": namespace, "labels": refusal.get("labels", {})}})
    if "quota" in refusal:
        core.create_namespaced_resource_quota(namespace, {"metadata": {"name": "none"},
                                                          "spec": {"hard": refusal["quota"]}})
    failed = run_module("atelier.workspaces.workspace", {**args, "user": "0", "wait_timeout": 30},
                        expect_failure=True)
    assert "the pod was refused" in failed["msg"] and explained in failed["msg"]
    info = run_module("atelier.workspaces.workspace_info", {"backend": "kubernetes", "namespace": namespace,
                                                            "kubeconfig": args["kubeconfig"]})
    (view,) = info["workspaces"]
    assert view["status"] == "Failed" and explained in view["reason"]
    assert any(event["reason"] == "FailedCreate" for event in view["events"])
