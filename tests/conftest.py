"""Shared pytest setup: import path for the collection and the real engines.

Engines are started (or reused) once per session by the repository's own
scripts. Locally an engine that cannot start skips its tests with the reason;
under CI=true that is a failure, never a skip.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
COLLECTIONS = REPO_ROOT / ".work" / "collections"
KUBECONFIG = REPO_ROOT / ".work" / "kubeconfig"

if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


def _engine_unavailable(what, detail):
    message = f"{what} is not available: {detail}"
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _run_script(script):
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "hack" / script)],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    return result.returncode, (result.stdout + result.stderr).strip()


@pytest.fixture(scope="session")
def docker_client():
    """A docker SDK client for the local engine, started when needed."""
    docker = pytest.importorskip("docker")
    code, output = _run_script("docker-up.sh")
    if code != 0:
        _engine_unavailable("Docker engine", output[-2000:])
    client = docker.from_env()
    yield client
    client.close()


@pytest.fixture(scope="session")
def kubeconfig():
    """Path of the kubeconfig of the local control plane, started when needed."""
    code, output = _run_script("k8s-up.sh")
    if code != 0 or not KUBECONFIG.exists():
        _engine_unavailable("Kubernetes control plane", output[-2000:])
    return str(KUBECONFIG)


@pytest.fixture(scope="session")
def k8s_api(kubeconfig):
    """An ApiClient for the local control plane."""
    kubernetes = pytest.importorskip("kubernetes")
    client = kubernetes.config.new_client_from_config(config_file=kubeconfig)
    yield client
    client.close()
