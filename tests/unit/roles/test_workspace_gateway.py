"""The workspace gateway's decisions, with the API server's answers given: who gets in, and with what."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles" / "k8s_cluster" / "files" / "workspace_gateway.py"
spec = importlib.util.spec_from_file_location("workspace_gateway", SCRIPT)
gateway = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gateway)


class FakeApi:
    """The API server: tokens -> users, and which user may open which workspace."""

    def __init__(self):
        self.users = {"alice-token": {"username": "alice", "groups": ["devs"]}}
        self.may_open = {("alice", "ws", "a")}
        self.secrets = {("ws", "a"): "the-secret"}
        self.calls = 0

    def identity(self, token):
        self.calls += 1
        return self.users.get(token)

    def allowed(self, user, namespace, workspace):
        return (user["username"], namespace, workspace) in self.may_open

    def access_secret(self, namespace, workspace):
        return self.secrets.get((namespace, workspace))


def _decide(api, decisions, authorization=None, uri="/ws/a/lab", query=None):
    headers = {"X-Forwarded-Uri": uri}
    if authorization:
        headers["Authorization"] = authorization
    return gateway.decide(api, decisions, headers, query or {"namespace": ["ws"], "prefix": ["/ws"]})


@pytest.mark.parametrize("uri, prefix, workspace", [
    ("/ws/a/lab?x=1", "/ws", "a"),
    ("/ws/a", "/ws", "a"),
    ("/ws/a/", "ws/", "a"),
    ("/a/api/contents", "/", "a"),
    ("/a/api/contents", "", "a"),
    ("/wsx/a/lab", "/ws", None),
    ("/other/a", "/ws", None),
    ("/ws/", "/ws", None),
    ("/ws/Bad_Name/lab", "/ws", None),
    ("/ws/../a", "/ws", None),
    ("", "/ws", None),
])
def test_the_workspace_is_the_segment_after_the_prefix(uri, prefix, workspace):
    assert gateway.workspace_of(uri, prefix) == workspace


def test_no_token_is_asked_for_one_and_a_wrong_one_refused():
    api, decisions = FakeApi(), gateway.Decisions()
    assert _decide(api, decisions)[0] == 401
    assert _decide(api, decisions, "token the-secret")[0] == 401  # only a Kubernetes bearer token counts
    assert _decide(api, decisions, "Bearer stolen")[0] == 401


def test_the_api_server_decides_and_the_ide_gets_the_workspace_secret():
    api, decisions = FakeApi(), gateway.Decisions()
    assert _decide(api, decisions, "Bearer alice-token") == (200, {"Authorization": "token the-secret"})
    # a role on one workspace gives nothing on another, nor in another namespace
    assert _decide(api, decisions, "Bearer alice-token", uri="/ws/b/lab")[0] == 403
    assert _decide(api, decisions, "Bearer alice-token", query={"namespace": ["other"], "prefix": ["/ws"]})[0] == 403
    assert _decide(api, decisions, "Bearer alice-token", query={"namespace": ["Bad!"], "prefix": ["/ws"]})[0] == 403


def test_a_workspace_without_a_secret_gets_no_caller_token_either():
    api, decisions = FakeApi(), gateway.Decisions()
    api.secrets.clear()
    assert _decide(api, decisions, "Bearer alice-token") == (200, {"Authorization": ""})


def test_decisions_are_kept_briefly_under_a_hash_of_the_token():
    now = [100.0]
    api, decisions = FakeApi(), gateway.Decisions(clock=lambda: now[0])
    for _request in range(5):
        _decide(api, decisions, "Bearer alice-token")
    assert api.calls == 1
    assert not any("alice-token" in key for key in decisions.entries)
    now[0] += gateway.CACHE_SECONDS + 1
    _decide(api, decisions, "Bearer alice-token")
    assert api.calls == 2


def test_the_access_review_asks_for_port_forward_on_the_workspace_pod():
    review = gateway.access_review({"username": "alice", "uid": "7", "groups": ["devs"]}, "ws", "a")
    assert review["spec"]["user"] == "alice" and review["spec"]["groups"] == ["devs"]
    assert review["spec"]["resourceAttributes"] == {"namespace": "ws", "verb": "create", "resource": "pods",
                                                    "subresource": "portforward", "name": "a-0"}
