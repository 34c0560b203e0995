"""The workspace gateway on the real node, behind the real ingress controller: the k8s_cluster role installs it,
and through a workspace's route the API server decides who gets in. Owner, admin and editor reach the IDE with
only their own Kubernetes token; a viewer, a stranger and a role on another workspace get 403; no token 401.
The Service, without the route, still asks for the workspace's access secret."""

import csv
import json
import os
import re
import subprocess
import time
import urllib.parse
import urllib.request
import uuid

import pytest
from ansible_runner import REPO_ROOT, VENV_BIN, run_module
from conftest import REAL_NODE_LABEL
from ide_browser import http_status

kubernetes = pytest.importorskip("kubernetes")
from kubernetes.client import CoreV1Api, RbacAuthorizationV1Api  # noqa: E402
from kubernetes.client.exceptions import ApiException  # noqa: E402

USER_TOKENS = REPO_ROOT / ".work" / "user-tokens.csv"
PLACEMENT = {
    "node_selector": {REAL_NODE_LABEL: "true"},
    "tolerations": [{"key": REAL_NODE_LABEL, "operator": "Equal", "value": "true", "effect": "NoSchedule"}],
}
# the gateway's decisions are kept this long
DECISION_SECONDS = 10


@pytest.fixture()
def tokens():
    """Bearer tokens of alice, bob, carol and dave, whom the API server knows (hack/k8s-up.sh)."""
    if not USER_TOKENS.exists():
        pytest.fail(f"{USER_TOKENS} is missing: the cluster was made before it had users; run make k8s-down k8s-up")
    with open(USER_TOKENS, encoding="utf-8") as handle:
        return {row[1]: row[0] for row in csv.reader(handle)}


@pytest.fixture()
def cluster(k8s_api, kubeconfig, real_node, ingress_address):
    """Two fresh namespaces set up by the k8s_cluster role with the gateway on the real node."""
    core = CoreV1Api(k8s_api)
    suffix = uuid.uuid4().hex[:6]
    names = {"namespace": f"gw-{suffix}", "control": f"gw-ctl-{suffix}", "path": f"/gateway-{suffix}"}
    yield names
    for namespace in (names["namespace"], names["control"]):
        try:
            core.delete_namespace(namespace)
        except ApiException as error:
            if error.status != 404:
                raise
    try:
        RbacAuthorizationV1Api(k8s_api).delete_cluster_role_binding(f"atelier-gateway-{names['control']}")
    except ApiException as error:
        if error.status != 404:
            raise


def _api_server_for_pods(kubeconfig, real_node):
    """The API server as a pod on the real node reaches it: the host's address, the certificate's own name."""
    with open(kubeconfig, encoding="utf-8") as handle:
        server = next(line.split("server:", 1)[1].strip() for line in handle if "server:" in line)
    port = urllib.parse.urlsplit(server).port
    return f"https://{real_node['address']}:{port}", "localhost"


def _apply_role(kubeconfig, real_node, ingress_address, names, tmp_path):
    api_server, server_name = _api_server_for_pods(kubeconfig, real_node)
    role_vars = {
        "k8s_cluster_kubeconfig": kubeconfig,
        "k8s_cluster_namespace": names["namespace"],
        "k8s_cluster_control_namespace": names["control"],
        "k8s_cluster_storage_class": "local-path",
        "k8s_cluster_gateway_enabled": True,
        "k8s_cluster_gateway_node_selector": PLACEMENT["node_selector"],
        "k8s_cluster_gateway_tolerations": PLACEMENT["tolerations"],
        "k8s_cluster_gateway_ingress_path": names["path"],
        "k8s_cluster_gateway_auth_url": f"http://{ingress_address}{names['path']}/auth",
        "k8s_cluster_gateway_api_server": api_server,
        "k8s_cluster_gateway_api_server_name": server_name,
    }
    playbook = tmp_path / "cluster.yml"
    task = {"ansible.builtin.include_role": {"name": "atelier.workspaces.k8s_cluster"}, "vars": role_vars}
    playbook.write_text(json.dumps([{"hosts": "localhost", "connection": "local", "gather_facts": False,
                                     "tasks": [task]}]))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_PYTHON_INTERPRETER=str(VENV_BIN / "python"))
    completed = subprocess.run([str(VENV_BIN / "ansible-playbook"), str(playbook)], capture_output=True, text=True,
                               env=env, cwd=REPO_ROOT, check=False, timeout=600)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    return completed.stdout


def _as(url, token=None):
    return http_status(url, {"Authorization": f"Bearer {token}"} if token else None)


def _role(names, kubeconfig, workspace, user, role):
    run_module("atelier.workspaces.workspace_role", {
        "workspace": workspace, "namespace": names["namespace"], "kubeconfig": kubeconfig, "backend": "kubernetes",
        "subject": {"kind": "user", "name": user}, "role": role})


def _until(check, timeout=60):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the gateway's answer did not change"
        time.sleep(1)


def test_the_api_server_decides_who_reaches_the_ide(k8s_api, kubeconfig, real_node, ingress_address, cluster,
                                                    tokens, tmp_path):
    core = CoreV1Api(k8s_api)
    first = _apply_role(kubeconfig, real_node, ingress_address, cluster, tmp_path)
    assert re.search(r"localhost\s+: ok=\d+\s+changed=[1-9]", first), first[-2000:]
    again = _apply_role(kubeconfig, real_node, ingress_address, cluster, tmp_path)
    assert "changed=0" in again, again[-2000:]
    gateway = core.list_namespaced_pod(cluster["control"], label_selector="app.kubernetes.io/name=atelier-gateway")
    assert gateway.items[0].spec.node_name == real_node["name"]

    common = {"backend": "kubernetes", "namespace": cluster["namespace"], "control_namespace": cluster["control"],
              "kubeconfig": kubeconfig,
              "storage": {"size": "1Gi", "class": "local-path"}, "ingress": {"path_prefix": "/gw"},
              "wait_timeout": 300, **PLACEMENT}
    alpha = run_module("atelier.workspaces.workspace", {**common, "name": "alpha", "state": "running"})
    assert alpha["workspace"]["status"] == "Running"
    ingress = kubernetes.client.NetworkingV1Api(k8s_api).read_namespaced_ingress("alpha", cluster["namespace"])
    assert ingress.metadata.annotations["nginx.ingress.kubernetes.io/auth-url"] == (
        f"http://{ingress_address}{cluster['path']}/auth?namespace={cluster['namespace']}&prefix=%2Fgw")
    # a second workspace, never started: roles on it are what matter
    run_module("atelier.workspaces.workspace", {**common, "name": "beta", "state": "stopped"})
    _role(cluster, kubeconfig, "alpha", "alice", "owner")
    _role(cluster, kubeconfig, "alpha", "bob", "viewer")
    _role(cluster, kubeconfig, "beta", "carol", "editor")

    url = f"http://{ingress_address}/gw/alpha/api/contents"
    _until(lambda: _as(url, tokens["alice"]) == 200, timeout=120)
    assert _as(url) == 401
    assert _as(url, "not-a-token") == 401
    assert _as(url, tokens["bob"]) == 403    # a viewer may look at the workspace, not open it
    assert _as(url, tokens["carol"]) == 403  # her role on beta gives nothing on alpha
    assert _as(url, tokens["dave"]) == 403   # no role at all
    # what the IDE answers, with only alice's own token: the gateway gave it the workspace's secret
    with urllib.request.urlopen(urllib.request.Request(
            url, headers={"Authorization": f"Bearer {tokens['alice']}"}), timeout=10) as response:
        assert json.loads(response.read())["type"] == "directory"

    # roles change, and so do the answers (once the kept decisions expire)
    _role(cluster, kubeconfig, "alpha", "carol", "editor")
    _role(cluster, kubeconfig, "alpha", "dave", "admin")
    time.sleep(DECISION_SECONDS)
    _until(lambda: _as(url, tokens["carol"]) == 200 and _as(url, tokens["dave"]) == 200)

    # the Service, past the route and its gateway, still asks for the access secret
    pod_ip = core.read_namespaced_pod("alpha-0", cluster["namespace"]).status.pod_ip
    direct = f"http://{pod_ip}:8888/gw/alpha/"
    assert http_status(direct + "api/contents") == 403
    assert http_status(direct + "api/contents", {"Authorization": f"Bearer {tokens['alice']}"}) == 403

    # no caller's token in the gateway's log
    log = core.read_namespaced_pod_log(gateway.items[0].metadata.name, cluster["control"])
    assert not any(token in log for token in tokens.values())
