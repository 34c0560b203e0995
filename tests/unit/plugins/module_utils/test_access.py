"""The IDE's access secret: drawn once, kept by every later run and env recomputation, never shown."""

import pytest

from ansible_collections.atelier.workspaces.plugins.module_utils.domain import access, env_policy, policy_changes
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import workspace_spec as spec


def _model(**params):
    model, errors = spec.build_model({"name": "ws", "backend": "docker", "wait_timeout": 30, **params},
                                     kubernetes=False)
    assert not errors, errors
    return model


def _env(model):
    return {entry["name"]: entry for entry in model["env"]}


def test_a_new_workspace_draws_a_secret_of_its_own():
    first, second = access.token_for(None, None), access.token_for("token", {})
    assert first != second and len(first) >= 40


def test_an_existing_workspace_keeps_its_secret():
    assert access.token_for("token", {access.TOKEN_VAR: "kept", "OTHER": "x"}) == "kept"
    assert access.token_for("none", {access.TOKEN_VAR: "kept"}) is None


def test_the_secret_is_a_secret_env_entry_above_every_other_layer():
    entry = _env(_model(_access_token="s3cret"))[access.TOKEN_VAR]
    assert entry == {"name": access.TOKEN_VAR, "value": "s3cret", "source": "access", "secret": True}
    assert "s3cret" not in str(env_policy.redact(_model(_access_token="s3cret")["env"]))


def test_auth_none_gives_no_secret():
    model = _model(auth="none", _access_token="ignored")
    assert access.TOKEN_VAR not in _env(model) and model["auth"] == "none"
    assert "access" not in model["env_inputs"]


def test_a_task_cannot_set_the_secret_through_env():
    params = {"name": "ws", "wait_timeout": 30, "env": {access.TOKEN_VAR: "mine"}}
    _model_none, errors = spec.build_model(params, kubernetes=False)
    assert errors == [f"env.{access.TOKEN_VAR}: the collection sets it to the workspace's own access secret; "
                      f"remove it (workspace_info with show_access: true returns the secret)"]


def test_the_inputs_record_no_secret_and_a_recomputation_keeps_it():
    model = _model(_access_token="s3cret", env={"A": "1"})
    inputs = env_policy.with_sources(model["env_inputs"], model["env"])
    assert "s3cret" not in str(inputs) and inputs["access"] is True
    stored = {entry["name"]: entry["value"] for entry in model["env"]}
    entries, errors = env_policy.recompute(env_policy.default_policy(), "ws", inputs, stored)
    assert not errors and env_policy.config_hash(entries) == env_policy.config_hash(model["env"])
    view = policy_changes.env_view(env_policy.default_policy(), {
        "name": "ws", "inputs": inputs, "values": stored, "config_hash": env_policy.config_hash(model["env"])})
    assert view["env_stale"] is False
    assert {e["name"]: e["value"] for e in view["env"]}[access.TOKEN_VAR] == env_policy.REDACTED


@pytest.mark.parametrize("bind, route, warned", [
    ("127.0.0.1", None, False),
    ("::1", None, False),
    ("localhost", None, False),
    ("0.0.0.0", None, True),
    ("10.1.2.3", None, True),
    (None, {"path": "/ws/a"}, True),
])
def test_auth_none_warns_when_the_ide_is_reachable_beyond_the_host(bind, route, warned):
    assert bool(access.warnings("none", bind, route)) is warned
    assert access.warnings("token", bind, route) == []


def test_the_access_url_carries_the_secret():
    assert access.shown("http://127.0.0.1:5/", "t") == {"mode": "token", "token": "t",
                                                        "url": "http://127.0.0.1:5/?token=t"}
    assert access.shown("http://h/ws/?a=1", "t+/")["url"] == "http://h/ws/?a=1&token=t%2B%2F"
    assert access.shown("http://h/", None) == {"mode": "none", "token": None, "url": "http://h/"}
    assert access.shown(None, "t") == {"mode": "token", "token": "t", "url": None}
