"""The IDE behind a route: its base URL follows the route's path, and readiness waits for its port."""

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import plan
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import env_policy, workspace_spec


def _model(**params):
    model, errors = workspace_spec.build_model({"name": "ide", "state": "present", "wait_timeout": 60, **params},
                                               env_policy.default_policy())
    assert errors == []
    return model


def _env(model):
    return {entry["name"]: (entry["value"], entry["source"]) for entry in model["env"]}


def _statefulset(model):
    return next(obj for obj in plan.desired_objects(model, 1) if obj["kind"] == "StatefulSet")


def test_a_routed_workspace_serves_its_ide_under_the_route_path():
    model = _model(ingress={"path_prefix": "/teams/"})
    assert _env(model)["IDE_BASE_URL"] == ("/teams/ide/", "system")
    assert plan.url(model) == "/teams/ide/"


def test_a_workspace_without_route_keeps_the_image_default_base_url():
    assert "IDE_BASE_URL" not in _env(_model())


def test_an_explicit_variable_wins_over_the_route_base_url():
    model = _model(ingress={"path_prefix": "/ide"}, env={"IDE_BASE_URL": "/custom/"})
    assert _env(model)["IDE_BASE_URL"] == ("/custom/", "explicit")


def test_the_base_url_survives_a_policy_recomputation():
    model = _model(ingress={"path_prefix": "/ide"})
    arguments = env_policy.inputs_arguments(model["env_inputs"], {})
    entries, errors = env_policy.effective_env(env_policy.default_policy(), "ide", **arguments)
    assert errors == []
    assert {e["name"]: e["value"] for e in entries}["IDE_BASE_URL"] == "/ide/ide/"


def test_the_pod_is_ready_only_once_the_ide_port_answers():
    container = _statefulset(_model())["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["tcpSocket"] == {"port": plan.IDE_PORT_NAME}
    assert container["ports"][0]["name"] == plan.IDE_PORT_NAME


def test_no_service_link_variables_reach_the_workspace():
    # a Service "ide" would otherwise put IDE_PORT=tcp://<ip>:8888 into the env of every pod in the namespace
    assert _statefulset(_model())["spec"]["template"]["spec"]["enableServiceLinks"] is False
