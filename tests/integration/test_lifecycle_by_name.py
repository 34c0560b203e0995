"""Stop, start and restart by name, and partial updates, on the real engines: what the task leaves out is kept."""

import time
import uuid

import pytest
from ansible_runner import audit_writes, run_module
from docker_workspaces import remove_workspaces

MODULE = "atelier.workspaces.workspace"
CANARY = "canary-" + uuid.uuid4().hex


@pytest.fixture()
def docker_name(docker_client):
    name = f"byname-{uuid.uuid4().hex[:6]}"
    yield name
    remove_workspaces(docker_client, name)


def _env(container):
    return dict(item.split("=", 1) for item in container.attrs["Config"]["Env"])


def test_docker_stop_start_restart_by_name_keep_everything(docker_client, docker_name):
    full = {"name": docker_name, "backend": "docker", "image": "atelier/busybox:local",
            "command": ["sleep", "infinity"], "user_code_path": "/data", "env": {"PROJECT": "analytics"},
            "resources": {"cpu": "500m", "memory": "256Mi"},
            "secrets": [{"key": "token", "env_var": "API_TOKEN", "value": CANARY}], "wait_timeout": 30}
    run_module(MODULE, full)
    container = docker_client.containers.get(f"atelier-{docker_name}")
    created_id = container.id

    by_name = {"name": docker_name, "backend": "docker"}
    stopped = run_module(MODULE, {**by_name, "state": "stopped"})
    assert stopped["actions"] == ["stop"], "a stop by name touches nothing else"
    assert run_module(MODULE, {**by_name, "state": "stopped"})["changed"] is False
    container.reload()
    assert container.id == created_id and container.status == "exited"
    assert _env(container)["PROJECT"] == "analytics" and _env(container)["API_TOKEN"] == CANARY
    assert container.attrs["HostConfig"]["Memory"] == 256 * 1024**2

    started = run_module(MODULE, {**by_name, "state": "running"})
    assert started["actions"] == ["start"] and started["workspace"]["status"] == "Running"
    restarted = run_module(MODULE, {**by_name, "state": "restarted"})
    assert restarted["actions"] == ["restart"]
    assert docker_client.containers.get(f"atelier-{docker_name}").id == created_id
    for result in (stopped, started, restarted):
        assert CANARY not in result["_output"]

    # a partial update changes only what it names; a given option replaces the whole option
    updated = run_module(MODULE, {**by_name, "resources": {"cpu": "1", "memory": "256Mi"}})
    assert updated["actions"] == ["update limits"]
    container = docker_client.containers.get(f"atelier-{docker_name}")
    assert container.attrs["HostConfig"]["CpuQuota"] == 100000 and container.id == created_id
    assert run_module(MODULE, by_name)["changed"] is False
    replaced = run_module(MODULE, {**by_name, "env": {"TEAM": "red"}})
    env = _env(docker_client.containers.get(f"atelier-{docker_name}"))
    assert env["TEAM"] == "red" and "PROJECT" not in env and env["API_TOKEN"] == CANARY
    assert "remove container (settings changed)" in replaced["actions"]

    # workspace_info returns the configuration in the module's option names: copied back, nothing changes
    info = run_module("atelier.workspaces.workspace_info", {"backend": "docker", "name": docker_name})
    recorded = info["workspaces"][0]["configuration"]
    assert recorded["image"] == "atelier/busybox:local" and recorded["env"] == {"TEAM": "red"}
    assert recorded["secrets"] == [{"key": "token", "env_var": "API_TOKEN"}] and CANARY not in info["_output"]
    started = time.time()
    again = run_module(MODULE, {**by_name, **recorded, "secrets": full["secrets"]})
    assert again["changed"] is False
    events = docker_client.events(since=started, until=time.time() + 0.5, decode=True)
    assert [e for e in events if docker_name in str(e.get("Actor")) and e.get("Action") not in
            ("exec_create", "exec_start", "exec_die")] == []

    # an empty value returns an option to its default
    run_module(MODULE, {**by_name, "resources": {}})
    assert docker_client.containers.get(f"atelier-{docker_name}").attrs["HostConfig"]["CpuQuota"] == 0


def test_kubernetes_stop_start_by_name_keep_everything(k8s_api, kubeconfig):
    from kubernetes.client import AppsV1Api, CoreV1Api

    namespace = f"byname-{uuid.uuid4().hex[:6]}"
    full = {"name": "ws", "backend": "kubernetes", "namespace": namespace, "kubeconfig": kubeconfig,
            "image": "atelier/busybox:local", "command": ["sleep", "infinity"], "env": {"PROJECT": "analytics"},
            "resources": {"cpu": "500m", "memory": "256Mi"}, "storage": {"size": "1Gi"},
            "secrets": [{"key": "token", "env_var": "API_TOKEN", "value": CANARY}], "wait_timeout": 60}
    try:
        run_module(MODULE, full)
        apps = AppsV1Api(k8s_api)
        template = apps.read_namespaced_stateful_set("ws", namespace).spec.template.to_dict()
        by_name = {"name": "ws", "backend": "kubernetes", "namespace": namespace, "kubeconfig": kubeconfig}

        stopped = run_module(MODULE, {**by_name, "state": "stopped"})
        assert stopped["actions"] == ["update StatefulSet/ws (spec.replicas)"], stopped["actions"]
        writes = audit_writes(namespace)
        assert run_module(MODULE, {**by_name, "state": "stopped"})["changed"] is False
        assert audit_writes(namespace) == writes
        statefulset = apps.read_namespaced_stateful_set("ws", namespace)
        assert statefulset.spec.replicas == 0 and statefulset.spec.template.to_dict() == template
        assert CoreV1Api(k8s_api).read_namespaced_persistent_volume_claim(
            "ws-data", namespace).spec.resources.requests["storage"] == "1Gi"

        started = run_module(MODULE, {**by_name, "state": "running"})
        assert started["workspace"]["status"] == "Running" and CANARY not in started["_output"]
        assert apps.read_namespaced_stateful_set("ws", namespace).spec.template.to_dict() == template
        info = run_module("atelier.workspaces.workspace_info", {"backend": "kubernetes", "namespace": namespace,
                                                                "kubeconfig": kubeconfig})
        assert info["workspaces"][0]["configuration"]["resources"] == {"cpu": "500m", "memory": "256Mi"}
    finally:
        run_module(MODULE, {"name": "ws", "backend": "kubernetes", "namespace": namespace, "kubeconfig": kubeconfig,
                            "state": "absent", "purge": True})
        CoreV1Api(k8s_api).delete_namespace(namespace)


def _archive_round(args, info_args, check_data):
    """Archive twice, refuse a start, list hidden and shown, unarchive twice, then start: data kept throughout."""
    first = run_module(MODULE, {**args, "state": "archived"})
    assert first["changed"] is True and first["workspace"]["status"] == "Stopped"
    again = run_module(MODULE, {**args, "state": "archived"})
    assert again["changed"] is False
    archived_at = again["workspace"]["archived_at"]
    assert again["workspace"]["archived"] is True and archived_at

    refused = run_module(MODULE, {**args, "state": "running"}, expect_failure=True)
    assert "is archived" in refused["msg"] and "state: unarchived" in refused["msg"]
    listed = run_module("atelier.workspaces.workspace_info", info_args)
    assert args["name"] not in [view["name"] for view in listed["workspaces"]]
    shown = run_module("atelier.workspaces.workspace_info", {**info_args, "include_archived": True})
    (view,) = [view for view in shown["workspaces"] if view["name"] == args["name"]]
    assert view["archived"] is True and view["archived_at"] == archived_at
    assert run_module(MODULE, {**args, "state": "stopped"})["workspace"]["archived_at"] == archived_at

    back = run_module(MODULE, {**args, "state": "unarchived"})
    assert back["changed"] is True and back["workspace"]["archived"] is False
    assert back["workspace"]["status"] == "Stopped"
    assert run_module(MODULE, {**args, "state": "unarchived"})["changed"] is False
    assert run_module(MODULE, {**args, "state": "running"})["workspace"]["status"] == "Running"
    check_data()


def test_docker_archive_and_unarchive(docker_client, docker_name):
    args = {"name": docker_name, "backend": "docker"}
    run_module(MODULE, {**args, "image": "atelier/busybox:local", "command": ["sleep", "infinity"],
                        "user_code_path": "/data", "wait_timeout": 30})
    container = docker_client.containers.get(f"atelier-{docker_name}")
    assert container.exec_run(["sh", "-c", "echo kept > /data/proof"]).exit_code == 0

    def check_data():
        kept = docker_client.containers.get(f"atelier-{docker_name}").exec_run(["cat", "/data/proof"])
        assert kept.output.decode().strip() == "kept"

    _archive_round(args, {"backend": "docker"}, check_data)


def test_kubernetes_archive_and_unarchive(k8s_api, kubeconfig):
    from kubernetes.client import CoreV1Api

    namespace = f"archive-{uuid.uuid4().hex[:6]}"
    args = {"name": "ws", "backend": "kubernetes", "namespace": namespace, "kubeconfig": kubeconfig}
    try:
        run_module(MODULE, {**args, "image": "atelier/busybox:local", "command": ["sleep", "infinity"],
                            "storage": {"size": "1Gi"}, "wait_timeout": 60})
        claim = CoreV1Api(k8s_api).read_namespaced_persistent_volume_claim("ws-data", namespace).metadata.uid

        def check_data():
            kept = CoreV1Api(k8s_api).read_namespaced_persistent_volume_claim("ws-data", namespace)
            assert kept.metadata.uid == claim

        _archive_round(args, {"backend": "kubernetes", "namespace": namespace, "kubeconfig": kubeconfig}, check_data)
    finally:
        run_module(MODULE, {**args, "state": "absent", "purge": True})
        CoreV1Api(k8s_api).delete_namespace(namespace)


def test_kubernetes_routes_follow_changes(k8s_api, kubeconfig):
    import kubernetes
    from kubernetes.client import CoreV1Api

    namespace = f"routes-{uuid.uuid4().hex[:6]}"
    networking = kubernetes.client.NetworkingV1Api(k8s_api)
    custom = kubernetes.client.CustomObjectsApi(k8s_api)
    base = {"backend": "kubernetes", "namespace": namespace, "kubeconfig": kubeconfig, "wait": False,
            "image": "atelier/busybox:local", "command": ["sleep", "infinity"]}

    def ingresses():
        return {item.metadata.name: [path.backend.service.name for rule in item.spec.rules
                                     for path in rule.http.paths]
                for item in networking.list_namespaced_ingress(namespace).items}

    def virtual_services():
        found = custom.list_namespaced_custom_object("networking.istio.io", "v1", namespace, "virtualservices")
        return {item["metadata"]["name"] for item in found["items"]}

    try:
        run_module(MODULE, {**base, "name": "other", "ingress": {"name": "shared-a"}})
        run_module(MODULE, {**base, "name": "ws", "ingress": {"host": "ide.example.test"}})
        assert ingresses() == {"shared-a": ["other"], "ws": ["ws"]}

        to_istio = run_module(MODULE, {**base, "name": "ws", "ingress": {"type": "istio"}})
        assert "delete Ingress/ws" in to_istio["actions"] and "create VirtualService/ws" in to_istio["actions"]
        assert ingresses() == {"shared-a": ["other"]} and virtual_services() == {"ws"}

        to_shared = run_module(MODULE, {**base, "name": "ws", "ingress": {"name": "shared-a"}})
        assert "delete VirtualService/ws" in to_shared["actions"] and "add to Ingress/shared-a" in to_shared["actions"]
        assert ingresses() == {"shared-a": ["other", "ws"]} and virtual_services() == set()

        moved = run_module(MODULE, {**base, "name": "ws", "ingress": {"name": "shared-b"}})
        assert "remove from Ingress/shared-a" in moved["actions"] and "add to Ingress/shared-b" in moved["actions"]
        assert ingresses() == {"shared-a": ["other"], "shared-b": ["ws"]}
        assert run_module(MODULE, {**base, "name": "ws"})["changed"] is False, "omitted keeps the route"

        dropped = run_module(MODULE, {**base, "name": "ws", "ingress": {}})
        assert "remove from Ingress/shared-b" in dropped["actions"]
        assert ingresses() == {"shared-a": ["other"]}
        assert dropped["workspace"]["url"] == f"http://ws.{namespace}.svc:8888/"
    finally:
        for name in ("ws", "other"):
            run_module(MODULE, {**base, "name": name, "state": "absent", "purge": True})
        CoreV1Api(k8s_api).delete_namespace(namespace)
