"""End to end on the real node (kubelet + containerd) behind the real ingress controller: the workspace pod
really runs, Chromium opens its IDE through the shared Ingress at the URL the module returns, and
everything the pod is given (user, env, secret, git clone, on_startup, post-start) is checked inside it.
Every state change runs twice; the second run sends no write to the API server."""

import http.cookiejar
import json
import subprocess
import threading
import time
import urllib.request
import uuid
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from ansible_runner import AUDIT_LOG, audit_writes, run_module
from conftest import REAL_NODE_LABEL
from ide_browser import access_token, http_status, open_lab

kubernetes = pytest.importorskip("kubernetes")
from kubernetes.client import CoreV1Api  # noqa: E402
from kubernetes.client.exceptions import ApiException  # noqa: E402
from kubernetes.stream import stream  # noqa: E402

CODE = "/home/workspace/code"
CANARY = "canary-" + uuid.uuid4().hex
# only workspaces that ask for it land on the real node
PLACEMENT = {
    "node_selector": {REAL_NODE_LABEL: "true"},
    "tolerations": [{"key": REAL_NODE_LABEL, "operator": "Equal", "value": "true", "effect": "NoSchedule"}],
}
HOOK = "#!/bin/sh\necho hook >> /tmp/post-start-order\n"


@pytest.fixture()
def namespace(k8s_api):
    """A namespace that enforces Pod Security `restricted`, as the k8s_cluster role makes them."""
    core = CoreV1Api(k8s_api)
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name, "labels": {
        "pod-security.kubernetes.io/enforce": "restricted"}}})
    yield name
    core.delete_namespace(name)


class _QuietFiles(SimpleHTTPRequestHandler):
    """Static files without a log line per request in the test's output."""

    def log_message(self, *_args):
        pass


@pytest.fixture()
def git_server(real_node, tmp_path):
    """A repository served over HTTP to the pods: tag v1 holds the first version of README, main a later one."""
    work, bare = tmp_path / "work", tmp_path / "served" / "project.git"
    git = partial(subprocess.run, check=True, capture_output=True, text=True)
    git(["git", "init", "-q", "-b", "main", str(work)])
    identity = ["-c", "user.name=e2e", "-c", "user.email=e2e@example.test"]
    (work / "README").write_text("version one\n")
    git(["git", "-C", str(work), "add", "README"])
    git(["git", "-C", str(work), *identity, "commit", "-q", "-m", "one"])
    git(["git", "-C", str(work), "tag", "v1"])
    (work / "README").write_text("version two\n")
    git(["git", "-C", str(work), *identity, "commit", "-q", "-am", "two"])
    git(["git", "clone", "-q", "--bare", str(work), str(bare)])
    # the dumb HTTP protocol: plain files, which any static server can serve
    git(["git", "-C", str(bare), "update-server-info"])
    server = ThreadingHTTPServer(("0.0.0.0", 0), partial(_QuietFiles, directory=str(bare.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://{real_node['address']}:{server.server_address[1]}/project.git"
    server.shutdown()


def _converge_twice(arguments):
    first = run_module("atelier.workspaces.workspace", arguments)
    writes = audit_writes()
    second = run_module("atelier.workspaces.workspace", arguments)
    assert second["changed"] is False, second["actions"]
    assert audit_writes() == writes, "the unchanged re-run sent write requests"
    return first


def _pod(core, namespace, name):
    try:
        return core.read_namespaced_pod(f"{name}-0", namespace)
    except ApiException as error:
        if error.status == 404:
            return None
        raise


def _running_pod(core, namespace, name, other_than=None, timeout=180):
    """The workspace's Ready pod (a new one when `other_than` names the uid of the old)."""
    deadline = time.monotonic() + timeout
    while True:
        pod = _pod(core, namespace, name)
        ready = pod and pod.metadata.uid != other_than and any(
            c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])
        if ready:
            return pod
        assert time.monotonic() < deadline, f"no Ready pod {name}-0: {pod and pod.status}"
        time.sleep(1)


def _exec(core, namespace, name, script):
    """stdout of `sh -c script` in the workspace container, as kubectl exec runs it."""
    return stream(core.connect_get_namespaced_pod_exec, f"{name}-0", namespace, container="workspace",
                  command=["/bin/sh", "-c", script], stderr=True, stdin=False, stdout=True, tty=False).strip()


def _write_through_ide(url, path, content, secret):
    """PUT a file with the IDE's contents API, as its editor saves one (login, cookie and XSRF token first)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{url}lab?token={secret}", timeout=30).read()
    xsrf = next(cookie.value for cookie in jar if cookie.name == "_xsrf")
    body = json.dumps({"type": "file", "format": "text", "content": content}).encode()
    request = urllib.request.Request(url + f"api/contents/{path}", data=body, method="PUT",
                                     headers={"Content-Type": "application/json", "X-XSRFToken": xsrf})
    with opener.open(request, timeout=30) as response:
        assert response.status in (200, 201)


def test_workspace_runs_on_the_real_node_and_opens_through_the_ingress(
        k8s_api, kubeconfig, namespace, ingress_address, git_server, chromium, tmp_path):
    core = CoreV1Api(k8s_api)
    hook = tmp_path / "hook.sh"
    hook.write_text(HOOK)
    args = {
        "name": "ide", "backend": "kubernetes", "namespace": namespace, "kubeconfig": kubeconfig,
        "state": "running", "wait_timeout": 300, **PLACEMENT,
        "env": {"PROJECT": "e2e"},
        "secrets": [{"key": "token", "env_var": "API_TOKEN", "value": CANARY}],
        "storage": {"size": "1Gi", "class": "local-path"},
        "git": {"repo": git_server, "ref": "v1"},
        "on_startup": ["echo ran >> .startup-runs"],
        "lifecycle_config": {"post_start": {"command": "echo command >> /tmp/post-start-order",
                                            "hook_path": str(hook)}},
        "ingress": {"name": "e2e-shared", "path_prefix": "/ide"},
    }
    by_name = {key: args[key] for key in ("name", "backend", "namespace", "kubeconfig", "wait_timeout")}

    created = _converge_twice(args)
    assert created["workspace"]["status"] == "Running"
    assert created["workspace"]["url"] == "/ide/ide/"
    pod = _running_pod(core, namespace, "ide")
    assert pod.spec.node_name == _real_node_name(core)

    # 1. the IDE, through the controller, at the module's URL
    url = f"http://{ingress_address}{created['workspace']['url']}"
    proof = f"proof-{uuid.uuid4().hex[:6]}.txt"
    token = uuid.uuid4().hex
    # nobody gets in without the workspace's access secret
    assert http_status(url + "api/contents") == 403
    assert http_status(url + "lab") == 302
    secret = access_token(args)
    assert http_status(url + "api/contents", {"Authorization": f"token {secret}"}) == 200
    _write_through_ide(url, proof, token, secret)
    open_lab(chromium, tmp_path / "profile", url, proof, secret)

    # 2. inside the pod
    assert _exec(core, namespace, "ide", "id -u") == "1000"
    assert _exec(core, namespace, "ide", "ls /var/run/secrets/kubernetes.io 2>&1 || true").endswith(
        "No such file or directory")
    assert _exec(core, namespace, "ide", "printenv PROJECT API_TOKEN WORKSPACE_ACCESS_TOKEN") == (
        f"e2e\n{CANARY}\n{secret}")
    assert _exec(core, namespace, "ide", f"cat {CODE}/project/README") == "version one"
    assert _exec(core, namespace, "ide", f"git -C {CODE}/project describe --tags") == "v1"
    assert _exec(core, namespace, "ide", f"cat {CODE}/.startup-runs") == "ran"
    assert _exec(core, namespace, "ide", "cat /tmp/post-start-order") == "command\nhook"
    assert _exec(core, namespace, "ide", f"stat -c %u {CODE}/{proof}") == "1000"

    info = run_module("atelier.workspaces.workspace_info",
                      {key: by_name[key] for key in ("name", "backend", "namespace", "kubeconfig")})
    assert info["workspaces"][0]["status"] == "Running"
    assert info["workspaces"][0]["url"] == "/ide/ide/"
    assert info["workspaces"][0]["auth"] == "token" and "access" not in info["workspaces"][0]
    assert secret not in info["_output"]

    # 3. the data outlives stop/start, a deleted pod, and absent/re-create, until purge
    stopped = _converge_twice({**by_name, "state": "stopped"})
    assert stopped["changed"] is True
    assert _pod_gone(core, namespace, "ide")
    started = _converge_twice({**by_name, "state": "running"})
    assert started["workspace"]["status"] == "Running"
    _running_pod(core, namespace, "ide")
    assert _exec(core, namespace, "ide", f"cat {CODE}/{proof}") == token
    # stopped and started by name, the workspace keeps its access secret
    assert access_token(by_name) == secret
    old = _running_pod(core, namespace, "ide").metadata.uid
    core.delete_namespaced_pod("ide-0", namespace)
    _running_pod(core, namespace, "ide", other_than=old)
    assert _exec(core, namespace, "ide", f"cat {CODE}/{proof}") == token
    _converge_twice({**by_name, "state": "absent"})
    assert _pod_gone(core, namespace, "ide")
    _converge_twice(args)
    _running_pod(core, namespace, "ide")
    assert _exec(core, namespace, "ide", f"cat {CODE}/{proof}") == token
    # on_startup ran once: neither restarts nor the re-creation repeat it
    assert _exec(core, namespace, "ide", f"cat {CODE}/.startup-runs") == "ran"

    # 4. an env change restarts the pod with the new value
    old = _running_pod(core, namespace, "ide").metadata.uid
    changed = _converge_twice({**by_name, "state": "running", "env": {"PROJECT": "e2e-changed"}})
    assert changed["changed"] is True
    _running_pod(core, namespace, "ide", other_than=old)
    assert _exec(core, namespace, "ide", "printenv PROJECT") == "e2e-changed"

    # the access secret is in no audit record of the API server
    assert secret not in AUDIT_LOG.read_text(errors="replace")

    claim = core.read_namespaced_persistent_volume_claim("ide-data", namespace)
    volume = claim.spec.volume_name
    _converge_twice({**by_name, "state": "absent", "purge": True})
    assert _claim_gone(core, namespace, "ide-data")
    assert _volume_gone(core, volume)


def _real_node_name(core):
    return core.list_node(label_selector=f"{REAL_NODE_LABEL}=true").items[0].metadata.name


def _gone(read, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            read()
        except ApiException as error:
            if error.status == 404:
                return True
            raise
        time.sleep(1)
    return False


def _pod_gone(core, namespace, name):
    return _gone(lambda: core.read_namespaced_pod(f"{name}-0", namespace))


def _claim_gone(core, namespace, claim):
    return _gone(lambda: core.read_namespaced_persistent_volume_claim(claim, namespace))


def _volume_gone(core, volume):
    return _gone(lambda: core.read_persistent_volume(volume))


def test_shared_claim_workspaces_write_only_their_own_subpath(k8s_api, kubeconfig, namespace, real_node):
    core = CoreV1Api(k8s_api)
    core.create_namespaced_persistent_volume_claim(namespace, {
        "metadata": {"name": "team"},
        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "local-path",
                 "resources": {"requests": {"storage": "1Gi"}}}})
    common = {"backend": "kubernetes", "namespace": namespace, "kubeconfig": kubeconfig, "state": "running",
              "wait_timeout": 300, "image": "atelier/busybox:local", "storage": {"shared_claim": "team"},
              # a custom image is Ready once something answers on the IDE port
              "command": ["httpd", "-f", "-p", "8888", "-h", "/tmp"], **PLACEMENT}
    for name in ("alice", "bob"):
        _converge_twice({**common, "name": name})
        _running_pod(core, namespace, name)
        assert _exec(core, namespace, name, f"echo {name} > {CODE}/{name}.txt && ls {CODE}") == f"{name}.txt"
    volume = core.read_persistent_volume(core.read_namespaced_persistent_volume_claim("team", namespace)
                                         .spec.volume_name)
    root = Path((volume.spec.host_path or volume.spec.local).path)
    written = sorted(str(path.relative_to(root)) for path in root.rglob("*.txt"))
    assert written == ["workspaces/alice/alice.txt", "workspaces/bob/bob.txt"]
    assert {path.stat().st_uid for path in root.rglob("*.txt")} == {1000}
    for name in ("alice", "bob"):
        run_module("atelier.workspaces.workspace", {**common, "name": name, "state": "absent"})


@pytest.mark.parametrize("user", ["1000", "1234"])
def test_an_image_without_the_data_path_gets_a_data_directory_its_user_writes(k8s_api, kubeconfig, namespace,
                                                                              real_node, user):
    """atelier/busybox:local has no /home/workspace/code: the claim's own directory is what the user writes."""
    core = CoreV1Api(k8s_api)
    args = {"name": "custom", "backend": "kubernetes", "namespace": namespace, "kubeconfig": kubeconfig,
            "image": "atelier/busybox:local", "user": user, "state": "running", "wait_timeout": 300,
            "command": ["httpd", "-f", "-p", "8888", "-h", "/tmp"],
            "storage": {"size": "1Gi", "class": "local-path"}, **PLACEMENT}
    _converge_twice(args)
    old = _running_pod(core, namespace, "custom").metadata.uid
    assert _exec(core, namespace, "custom", f"echo kept > {CODE}/proof && id -u && stat -c %u {CODE}/proof") == (
        f"{user}\n{user}")
    claim = core.read_namespaced_persistent_volume_claim("custom-data", namespace)
    volume = core.read_persistent_volume(claim.spec.volume_name)
    root = Path((volume.spec.host_path or volume.spec.local).path)
    assert (root / "proof").read_text() == "kept\n"
    assert (root / "proof").stat().st_uid == int(user)

    # a new pod on the same claim finds the data and can still write
    _converge_twice({**args, "env": {"PROJECT": "changed"}})
    _running_pod(core, namespace, "custom", other_than=old)
    assert _exec(core, namespace, "custom", f"cat {CODE}/proof && touch {CODE}/again && echo ok") == "kept\nok"
    run_module("atelier.workspaces.workspace", {**args, "state": "absent", "purge": True})


def test_user_namespaces_run_where_the_kernel_allows(k8s_api, kubeconfig, namespace):
    core = CoreV1Api(k8s_api)
    args = {"name": "userns", "backend": "kubernetes", "namespace": namespace, "kubeconfig": kubeconfig,
            "image": "atelier/busybox:local", "command": ["sleep", "infinity"], "host_users": False,
            "storage": {"size": "1Gi", "class": "local-path"}, "state": "running", "wait": False, **PLACEMENT}
    _converge_twice(args)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        pod = _pod(core, namespace, "userns")
        if pod and pod.status.phase == "Running":
            break
        time.sleep(2)
    else:
        events = core.list_namespaced_event(namespace, field_selector="involvedObject.name=userns-0").items
        reasons = "; ".join(f"{e.reason}: {e.message}" for e in events
                            if e.type == "Warning" and e.reason != "MissingClusterDNS")
        pytest.skip(f"user namespaces do not run on this node: {reasons or (pod and pod.status)}")
    # inside a user namespace, uid 0 of the host is not mapped in
    assert _exec(core, namespace, "userns", "cat /proc/self/uid_map").split()[1] != "0"
    run_module("atelier.workspaces.workspace", {**args, "state": "absent", "purge": True})
