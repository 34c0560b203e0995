"""Engines and tools that only some integration tests need, started once per session by hack/ scripts.

As in tests/conftest.py: locally a failure to start skips the tests that need it,
under CI=true it fails them.
"""

import os
import shlex
import subprocess
from pathlib import Path
from unittest import mock

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TLS_CERT_DIR = REPO_ROOT / ".work" / "docker-tls"
# requests lets these override the CA a client is given (psf/requests#3829)
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def _unavailable(what, detail):
    message = f"{what} is not available: {detail}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _run_hack(script, *args, timeout=1800):
    try:
        result = subprocess.run(
            ["bash", str(REPO_ROOT / "hack" / script), *args],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired as error:
        return 1, "", f"hack/{script} did not finish within {timeout}s: {error}"
    return result.returncode, result.stdout, result.stderr


class TlsEngine:
    """The second dockerd of hack/docker-tls.sh: where it listens and the client certificates for it."""

    def __init__(self, exports):
        self.host = exports["DOCKER_HOST"]
        self.cert_path = exports["DOCKER_CERT_PATH"]
        self.ca_dir = str(Path(self.cert_path).parent / "ca")
        self.client = self.sdk_client()

    @property
    def connection(self):
        """The module options that reach this engine."""
        return {"docker_host": self.host, "tls_verify": True, "cert_path": self.cert_path}

    @property
    def environment(self):
        """The same as DOCKER_* variables, as the Docker CLI reads them."""
        return {"DOCKER_HOST": self.host, "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": self.cert_path}

    def sdk_client(self):
        import docker

        cert = Path(self.cert_path)
        tls = docker.tls.TLSConfig(
            client_cert=(str(cert / "cert.pem"), str(cert / "key.pem")), ca_cert=str(cert / "ca.pem"), verify=True,
        )
        with mock.patch.dict(os.environ):
            for name in CA_BUNDLE_VARIABLES:
                os.environ.pop(name, None)
            client = docker.DockerClient(base_url=self.host.replace("tcp://", "https://"), tls=tls, version="auto")
        # keep the engine's CA for every later request too, whatever the environment says
        client.api.trust_env = False
        return client


@pytest.fixture(scope="session")
def tls_engine(docker_client):
    """A second Docker engine that only answers TLS clients with a certificate from its CA."""
    pytest.importorskip("docker")
    code, stdout, stderr = _run_hack("docker-tls.sh", str(TLS_CERT_DIR))
    exports = {}
    for line in stdout.splitlines():
        if line.startswith("export "):
            name, _sep, value = line[len("export "):].partition("=")
            exports[name] = shlex.split(value)[0] if value else ""
    if code != 0 or not {"DOCKER_HOST", "DOCKER_CERT_PATH"} <= set(exports):
        _unavailable("TLS Docker engine (hack/docker-tls.sh)", (stdout + stderr)[-2000:])
    engine = TlsEngine(exports)
    yield engine
    engine.client.close()


@pytest.fixture(scope="session")
def chromium():
    """Path of a Chromium that can run headless, installed by hack/chromium.sh when missing."""
    code, stdout, stderr = _run_hack("chromium.sh")
    lines = stdout.strip().splitlines()
    if code != 0 or not lines or not Path(lines[-1]).exists():
        _unavailable("Chromium (hack/chromium.sh)", (stdout + stderr)[-2000:])
    return lines[-1]


@pytest.fixture(scope="session")
def toolless_image(docker_client):
    """A local image without a shell, mkdir, chown or /home (docker_workspaces.TOOLLESS_DOCKERFILE)."""
    from docker_workspaces import build_toolless_image

    tag = build_toolless_image(docker_client, f"atelier/toolless:{os.urandom(3).hex()}")
    yield tag
    docker_client.images.remove(tag, force=True)


REAL_NODE_LABEL = "workspaces.atelier.dev/real-node"
INGRESS_ADDRESS_FILE = REPO_ROOT / ".work" / "ingress-address"


@pytest.fixture(scope="session")
def real_node(k8s_api):
    """Name and address of the node where pods really run (hack/node-up.sh), once it is Ready."""
    from kubernetes.client import CoreV1Api

    nodes = CoreV1Api(k8s_api).list_node(label_selector=f"{REAL_NODE_LABEL}=true").items
    ready = [node for node in nodes
             if any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])]
    if not ready:
        _unavailable("the real node (hack/node-up.sh)", f"no Ready node labelled {REAL_NODE_LABEL}=true")
    node = ready[0]
    address = next(a.address for a in node.status.addresses if a.type == "InternalIP")
    return {"name": node.metadata.name, "address": address}


@pytest.fixture(scope="session")
def ingress_address(real_node):
    """host:port of the ingress controller serving the nginx IngressClass."""
    if not INGRESS_ADDRESS_FILE.exists():
        _unavailable("the ingress controller (hack/node-up.sh)", f"{INGRESS_ADDRESS_FILE} is missing")
    return INGRESS_ADDRESS_FILE.read_text().strip()


@pytest.fixture(scope="session", autouse=True)
def bystander(request):
    """Someone else's Docker workspace with a role of its own, there for the whole session: every test runs on an
    engine that is not empty, and the workspace must be exactly as it was when the session ends."""
    if not any("docker_client" in item.fixturenames for item in request.session.items):
        yield None  # a session without Docker tests leaves the engine alone
        return
    docker_client = request.getfixturevalue("docker_client")
    from ansible_runner import run_module
    from docker_workspaces import container

    name = "bystander-" + os.urandom(3).hex()
    args = {"name": name, "backend": "docker", "image": "atelier/busybox:local", "command": ["sleep", "infinity"],
            "user_code_path": "/data", "wait_timeout": 30, "env": {"OWNER": "someone-else"}}
    run_module("atelier.workspaces.workspace", args)
    role = {"backend": "docker", "workspace": name, "role": "owner",
            "subject": {"kind": "user", "name": "someone-else"}}
    run_module("atelier.workspaces.workspace_role", role)

    def state():
        found = container(docker_client, name)
        found.reload()
        return {"id": found.id, "status": found.status, "labels": found.labels,
                "env": sorted(found.attrs["Config"]["Env"])}

    before = state()
    yield name
    after = state()
    roles = run_module("atelier.workspaces.workspace_info", {"backend": "docker", "name": name})["workspaces"][0]
    run_module("atelier.workspaces.workspace", {**args, "state": "absent", "purge": True})
    assert after == before, "the suite changed a workspace that is not its own"
    assert [row["subject"]["name"] for row in roles["roles"] if row["scope"] == "workspace"] == ["someone-else"]
