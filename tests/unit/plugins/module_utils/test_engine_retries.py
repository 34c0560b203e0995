"""The two choke points try transient failures again and give up with a message naming the engine."""

from types import SimpleNamespace

import pytest

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import client as docker_client
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import client as k8s_client
from ansible_collections.atelier.workspaces.plugins.module_utils.common import retry
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError

requests = pytest.importorskip("requests")


@pytest.fixture(autouse=True)
def waits(monkeypatch):
    """The pauses the choke points would have made, without making them."""
    made = []
    monkeypatch.setattr(retry.Tries, "wait", lambda _tries, seconds: made.append(seconds))
    return made


def refused():
    return ConnectionRefusedError(111, "Connection refused")


def cut():
    return ConnectionResetError(104, "Connection reset by peer")


# --- Kubernetes: Cluster.call -------------------------------------------------------------------------------------

class Answer:
    def __init__(self, status, data=b"{}", headers=None):
        self.status, self.data, self.headers, self.reason = status, data, headers or {}, "reason"

    def read(self):
        return self.data


class FakeApi:
    """An ApiClient that answers from a script: an Answer, or an error to raise."""

    def __init__(self, *script):
        self.script, self.sent = list(script), []
        self.configuration = SimpleNamespace(host="https://api.test:6443")

    def param_serialize(self, method, resource_path, query_params, body, header_params, auth_settings):
        return method, resource_path, header_params, body, None

    def call_api(self, method, url, header_params=None, body=None, post_params=None):
        self.sent.append(method)
        answer = self.script.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def test_kubernetes_busy_and_unreachable_answers_are_tried_again(waits):
    api = FakeApi(refused(), Answer(503), Answer(500, b'{"message": "etcdserver: leader changed"}'),
                  Answer(200, b'{"kind": "ConfigMap"}'))
    assert k8s_client.Cluster(api).get("ConfigMap", "ns", "doc") == {"kind": "ConfigMap"}
    assert api.sent == ["GET"] * 4 and len(waits) == 3


def test_kubernetes_retry_after_is_honoured(waits):
    api = FakeApi(Answer(429, headers={"Retry-After": "3"}), Answer(200))
    k8s_client.Cluster(api).get("ConfigMap", "ns", "doc")
    assert waits[0] >= 3


@pytest.mark.parametrize("status", [400, 403, 404, 422])
def test_kubernetes_permanent_answers_are_not_tried_again(status):
    api = FakeApi(Answer(status, b'{"message": "no"}'))
    with pytest.raises(WorkspaceError, match=r"PUT .* failed: no"):
        k8s_client.Cluster(api).replace({"kind": "ConfigMap", "metadata": {"namespace": "ns", "name": "doc"}})
    assert api.sent == ["PUT"]


def test_kubernetes_conflict_goes_back_to_the_caller_at_once():
    api = FakeApi(Answer(409, b'{"message": "modified"}'))
    cluster = k8s_client.Cluster(api)
    assert cluster.replace({"kind": "ConfigMap", "metadata": {"namespace": "ns", "name": "d"}}, conflict=False) is False
    assert api.sent == ["PUT"]


def test_kubernetes_delete_resent_after_a_cut_finds_nothing_and_is_done():
    api = FakeApi(cut(), Answer(404, b'{"message": "not found"}'))
    assert k8s_client.Cluster(api).delete("ConfigMap", "ns", "doc") == {}
    assert api.sent == ["DELETE", "DELETE"]


def test_kubernetes_gives_up_naming_the_server_and_the_tries():
    api = FakeApi(*[Answer(503, b'{"message": "the server is shutting down"}')] * retry.MAX_ATTEMPTS)
    with pytest.raises(WorkspaceError) as failed:
        k8s_client.Cluster(api).get("ConfigMap", "ns", "doc")
    message = str(failed.value)
    assert message.startswith("kubeconfig: the Kubernetes API server at https://api.test:6443 kept failing")
    assert "HTTP 503: the server is shutting down" in message and f"tried {retry.MAX_ATTEMPTS} times" in message


def test_kubernetes_unreachable_server_gives_up_naming_it():
    api = FakeApi(*[OSError("connect", refused())] * retry.MAX_ATTEMPTS)
    with pytest.raises(WorkspaceError, match=r"cannot reach the Kubernetes API server .*; tried 8 times"):
        k8s_client.Cluster(api).get("ConfigMap", "ns", "doc")


# --- Docker: _EngineClient.request ------------------------------------------------------------------------------

def response(status, body=b"{}", headers=None):
    answer = requests.Response()
    answer.status_code, answer._content, answer.reason, answer.url = status, body, "reason", "http://engine/x"
    answer.headers.update(headers or {})
    return answer


@pytest.fixture
def engine(monkeypatch):
    """An _EngineClient whose requests are answered from `engine.script`."""
    state = SimpleNamespace(script=[], sent=[])

    def answer(_session, method, url, *args, **kwargs):
        state.sent.append(method)
        found = state.script.pop(0)
        if isinstance(found, BaseException):
            raise requests.exceptions.ConnectionError(found)
        return found

    monkeypatch.setattr(requests.Session, "request", answer)
    state.api = docker_client._EngineClient(base_url="tcp://engine.test:2375", version="1.41",
                                            where="tcp://engine.test:2375")
    return state


def test_docker_reads_are_tried_again_while_the_engine_restarts(engine, waits):
    engine.script = [refused(), cut(), response(503), response(500), response(200, b'{"Id": "abc"}')]
    assert engine.api.inspect_container("abc") == {"Id": "abc"}
    assert engine.sent == ["GET"] * 5 and len(waits) == 4


def test_docker_a_create_is_only_resent_when_the_engine_did_nothing(engine):
    engine.script = [refused(), response(503), response(201, b'{"Id": "new"}')]
    assert engine.api.create_container("img", name="x")["Id"] == "new"
    engine.script, engine.sent = [response(500, b'{"message": "failed half way"}')], []
    with pytest.raises(docker_client.APIError, match="failed half way"):
        engine.api.create_container("img", name="x")
    engine.script, engine.sent = [cut()], []
    with pytest.raises(requests.exceptions.ConnectionError):
        engine.api.create_container("img", name="x")
    assert engine.sent == ["POST"]


def test_docker_container_is_restarting_is_tried_again(engine):
    engine.script = [response(409, b'{"message": "Container abc is restarting, wait until the container is running"}'),
                     response(204, b"")]
    engine.api.start("abc")
    assert engine.sent == ["POST", "POST"]


def test_docker_delete_resent_after_a_cut_finds_nothing_and_is_done(engine):
    engine.script = [cut(), response(404, b'{"message": "No such container: abc"}')]
    engine.api.remove_container("abc", force=True)
    assert engine.sent == ["DELETE", "DELETE"]


def test_docker_a_delete_of_nothing_is_still_not_found(engine):
    engine.script = [response(404, b'{"message": "No such container: abc"}')]
    with pytest.raises(docker_client.NotFound):
        engine.api.remove_container("abc", force=True)


def test_docker_retry_after_is_honoured(engine, waits):
    engine.script = [response(429, headers={"Retry-After": "2"}), response(200, b"[]")]
    engine.api.containers(all=True)
    assert waits[0] >= 2


def test_docker_gives_up_naming_the_engine_and_the_tries(engine):
    engine.script = [response(503, b'{"message": "engine busy"}')] * retry.MAX_ATTEMPTS
    with pytest.raises(WorkspaceError) as failed:
        engine.api.containers(all=True)
    assert str(failed.value).startswith("docker_host: the Docker engine at tcp://engine.test:2375 kept failing "
                                        "(HTTP 503: engine busy); tried 8 times")


def test_docker_unreachable_engine_gives_up_with_the_diagnosis(engine):
    engine.script = [refused()] * retry.MAX_ATTEMPTS
    with pytest.raises(WorkspaceError, match=r"^docker_host: cannot reach the Docker engine at tcp://engine.test:2375 "
                                             r"\(.*\); start the engine .*; tried 8 times"):
        engine.api.containers(all=True)
