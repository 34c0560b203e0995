"""The Docker connection options against a real TLS engine (hack/docker-tls.sh): the workspace
lands on that engine only, a re-run changes nothing, and every misconfiguration names its field."""

import shutil
import subprocess
import uuid
from pathlib import Path

import certifi
import pytest
from ansible_runner import run_module

IMAGE = "atelier/busybox:local"
LABEL = "workspaces.atelier.dev/name"
# the connection comes from the task's options only, unless a test sets these itself
NO_DOCKER_ENV = {"DOCKER_HOST": None, "DOCKER_TLS_VERIFY": None, "DOCKER_CERT_PATH": None}
# with REQUESTS_CA_BUNDLE set (as in many CI images) the engine's CA from cert_path must still be used
CA_BUNDLE_ENV = {
    "unset": {"REQUESTS_CA_BUNDLE": None, "CURL_CA_BUNDLE": None},
    "REQUESTS_CA_BUNDLE": {"REQUESTS_CA_BUNDLE": certifi.where(), "CURL_CA_BUNDLE": None},
    "CURL_CA_BUNDLE": {"REQUESTS_CA_BUNDLE": None, "CURL_CA_BUNDLE": certifi.where()},
}


def _args(name, **overrides):
    args = {
        "name": name,
        "backend": "docker",
        "image": IMAGE,
        "command": ["sleep", "infinity"],
        "user_code_path": "/data",
        "wait_timeout": 30,
    }
    args.update(overrides)
    return args


def _objects(client, name):
    """Containers and volumes of one workspace on one engine."""
    selector = {"label": f"{LABEL}={name}"}
    return client.containers.list(all=True, filters=selector), client.volumes.list(filters=selector)


@pytest.fixture()
def name(tls_engine, docker_client):
    workspace = f"tls-{uuid.uuid4().hex[:8]}"
    yield workspace
    for client in (tls_engine.client, docker_client):
        containers, volumes = _objects(client, workspace)
        for container in containers:
            container.remove(force=True)
        for volume in volumes:
            volume.remove(force=True)


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def bad_cert_dirs(tls_engine, tmp_path_factory):
    """cert_path directories that must not get through: empty, a client from a foreign CA, a foreign CA."""
    root = tmp_path_factory.mktemp("tls-bad")
    real = Path(tls_engine.cert_path)
    rogue = root / "rogue-ca"
    rogue.mkdir()
    _openssl("genrsa", "-out", str(rogue / "ca-key.pem"), "2048")
    _openssl("req", "-x509", "-new", "-key", str(rogue / "ca-key.pem"), "-days", "2", "-subj", "/CN=rogue CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-out", str(rogue / "ca.pem"))

    # the engine's CA (so the server is trusted) but a client certificate the engine never signed
    foreign_client = root / "foreign-client"
    foreign_client.mkdir()
    shutil.copy(real / "ca.pem", foreign_client / "ca.pem")
    (root / "client.cnf").write_text("extendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\n")
    _openssl("genrsa", "-out", str(foreign_client / "key.pem"), "2048")
    _openssl("req", "-new", "-key", str(foreign_client / "key.pem"), "-subj", "/CN=intruder",
             "-out", str(root / "client.csr"))
    _openssl("x509", "-req", "-in", str(root / "client.csr"), "-CA", str(rogue / "ca.pem"),
             "-CAkey", str(rogue / "ca-key.pem"), "-CAcreateserial", "-days", "2",
             "-extfile", str(root / "client.cnf"), "-out", str(foreign_client / "cert.pem"))

    # the engine's own client certificate, but a CA that did not sign the server certificate
    foreign_ca = root / "foreign-ca"
    foreign_ca.mkdir()
    shutil.copy(real / "cert.pem", foreign_ca / "cert.pem")
    shutil.copy(real / "key.pem", foreign_ca / "key.pem")
    shutil.copy(rogue / "ca.pem", foreign_ca / "ca.pem")

    empty = root / "empty"
    empty.mkdir()
    return {"empty": str(empty), "foreign-client": str(foreign_client), "foreign-ca": str(foreign_ca)}


def _assert_only_on_tls_engine(tls_engine, docker_client, name, result):
    containers, volumes = _objects(tls_engine.client, name)
    assert [c.name for c in containers] == [f"atelier-{name}"]
    (container,) = containers
    assert container.status == "running"
    assert result["workspace"]["container_id"] == container.id
    assert [v.name for v in volumes] == [f"atelier-{name}-data"]
    assert _objects(docker_client, name) == ([], [])
    code, output = container.exec_run(["sh", "-c", "id -u; echo kept > /data/proof; cat /data/proof"])
    assert (code, output.decode().split()) == (0, ["1000", "kept"])


def _converge_on_tls_engine(tls_engine, docker_client, name, args, env):
    first = run_module("atelier.workspaces.workspace", args, env=env)
    assert first["changed"] is True
    assert first["actions"][-2:] == ["create container", "start"]
    _assert_only_on_tls_engine(tls_engine, docker_client, name, first)
    started = tls_engine.client.containers.get(f"atelier-{name}").attrs["State"]["StartedAt"]

    second = run_module("atelier.workspaces.workspace", args, env=env)
    assert second["changed"] is False
    assert second["actions"] == []
    container = tls_engine.client.containers.get(f"atelier-{name}")
    assert container.id == first["workspace"]["container_id"]
    assert container.attrs["State"]["StartedAt"] == started

    info = run_module("atelier.workspaces.workspace_info", {**{k: v for k, v in args.items() if k in (
        "backend", "docker_host", "tls_verify", "cert_path")}, "name": name}, env=env)
    assert [(w["name"], w["status"], w["container_id"]) for w in info["workspaces"]] == [
        (name, "Running", container.id)]

    removed = run_module("atelier.workspaces.workspace", {**args, "state": "absent", "purge": True}, env=env)
    assert removed["actions"] == ["remove container", "remove volume (purge)"]
    assert _objects(tls_engine.client, name) == ([], [])


@pytest.mark.parametrize("ca_bundle", list(CA_BUNDLE_ENV))
def test_options_reach_the_tls_engine_only(tls_engine, docker_client, name, ca_bundle):
    args = _args(name, **tls_engine.connection)
    _converge_on_tls_engine(tls_engine, docker_client, name, args, {**NO_DOCKER_ENV, **CA_BUNDLE_ENV[ca_bundle]})


@pytest.mark.parametrize("ca_bundle", ["unset", "REQUESTS_CA_BUNDLE"])
def test_docker_env_variables_reach_the_tls_engine_only(tls_engine, docker_client, name, ca_bundle):
    _converge_on_tls_engine(
        tls_engine, docker_client, name, _args(name), {**tls_engine.environment, **CA_BUNDLE_ENV[ca_bundle]},
    )


def test_options_win_over_docker_env_variables(tls_engine, docker_client, name):
    """DOCKER_* point at the TLS engine, the task's docker_host at the main one: the task wins."""
    args = _args(name, docker_host="unix:///var/run/docker.sock", tls_verify=False)
    env = {**tls_engine.environment, "DOCKER_CERT_PATH": None, **CA_BUNDLE_ENV["unset"]}
    result = run_module("atelier.workspaces.workspace", args, env=env)
    assert result["changed"] is True
    assert _objects(tls_engine.client, name) == ([], [])
    containers, _volumes = _objects(docker_client, name)
    assert [c.id for c in containers] == [result["workspace"]["container_id"]]
    run_module("atelier.workspaces.workspace", {**args, "state": "absent", "purge": True}, env=env)


# (case, options beyond the engine's own connection, the message's first words, words it must also hold)
MISCONFIGURED = [
    ("cert_path without certificates", {"cert_path": "empty"}, "cert_path:", ["ca.pem", "cert.pem", "key.pem"]),
    ("client certificate from another CA", {"cert_path": "foreign-client"}, "cert_path:", ["cert.pem"]),
    ("tls_verify with a CA that did not sign the engine", {"cert_path": "foreign-ca"}, "cert_path:", ["ca.pem"]),
    ("TLS engine without tls options", {"tls_verify": None, "cert_path": None}, "tls_verify:", ["cert_path"]),
    ("nothing listens on the port", {"docker_host": "tcp://127.0.0.1:1"}, "docker_host:", ["127.0.0.1:1"]),
]


@pytest.mark.parametrize(
    ("overrides", "starts_with", "mentions"),
    [case[1:] for case in MISCONFIGURED],
    ids=[case[0] for case in MISCONFIGURED],
)
def test_misconfiguration_names_the_field_and_creates_nothing(
    tls_engine, docker_client, bad_cert_dirs, name, overrides, starts_with, mentions,
):
    args = _args(name, **tls_engine.connection)
    for key, value in overrides.items():
        if value is None:
            args.pop(key)
        else:
            args[key] = bad_cert_dirs[value] if key == "cert_path" else value
    result = run_module(
        "atelier.workspaces.workspace", args, expect_failure=True, env={**NO_DOCKER_ENV, **CA_BUNDLE_ENV["unset"]},
    )
    assert result["msg"].startswith(starts_with), result["msg"]
    for word in mentions:
        assert word in result["msg"]
    assert result.get("changed") is False
    assert _objects(tls_engine.client, name) == ([], [])
    assert _objects(docker_client, name) == ([], [])
