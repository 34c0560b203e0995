"""Routes that ask the workspace gateway: the cluster setting reaches every nginx route, own or shared."""

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import plan
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import (
    cluster_settings,
    env_policy,
    workspace_spec,
)

GATEWAY = "http://atelier-gateway.atelier-system.svc.cluster.local:8080/auth"
SETTINGS = {"WORKSPACE_AUTH_URL": GATEWAY}


def _build(name="ide", **params):
    return workspace_spec.build_model({"name": name, "namespace": "team", "state": "present", "wait_timeout": 60,
                                       **params}, env_policy.default_policy())


def _model(name="ide", **params):
    model, errors = _build(name, **params)
    assert errors == []
    return model


def _own_ingress(model):
    return next(obj for obj in plan.desired_objects(model, 1) if obj["kind"] == "Ingress")


def test_an_own_route_asks_the_gateway_with_its_namespace_and_prefix():
    params = cluster_settings.apply({"ingress": {"path_prefix": "/ws"}}, SETTINGS)
    annotations = _own_ingress(_model(**params))["metadata"]["annotations"]
    assert annotations == {
        "nginx.ingress.kubernetes.io/auth-url": f"{GATEWAY}?namespace=team&prefix=%2Fws",
        "nginx.ingress.kubernetes.io/auth-response-headers": "Authorization",
    }


def test_without_a_gateway_a_route_has_no_auth_annotations():
    assert "annotations" not in _own_ingress(_model(ingress={"path_prefix": "/ws"}))["metadata"]


def test_a_shared_route_gets_the_gateway_and_keeps_its_other_annotations():
    params = cluster_settings.apply({}, {**SETTINGS, "WORKSPACE_INGRESS_NAME": "team-routes"})
    model = _model(**params)
    current = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "team-routes", "namespace": "team",
                            "annotations": {"keep": "me", "nginx.ingress.kubernetes.io/auth-url": "http://old"}},
               "spec": {"ingressClassName": "nginx", "rules": []}}
    shared = plan.shared_route(model, "Ingress", "team-routes", current, present=True)
    assert shared["metadata"]["annotations"]["keep"] == "me"
    assert shared["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-url"].startswith(GATEWAY + "?")
    # unchanged when asked again: the re-run sends nothing
    assert plan.shared_route(model, "Ingress", "team-routes", shared, present=True) == shared


def test_the_task_can_name_its_own_gateway_and_only_for_nginx():
    model = _model(ingress={"auth_url": "https://proxy.example/check?x=1"})
    assert _own_ingress(model)["metadata"]["annotations"]["nginx.ingress.kubernetes.io/auth-url"] == (
        "https://proxy.example/check?x=1&namespace=team&prefix=%2F")
    _none, errors = _build(ingress={"type": "istio", "auth_url": GATEWAY})
    assert errors and errors[0].startswith("ingress.auth_url: only an nginx-class ingress asks a gateway")
    _none, errors = _build(ingress={"auth_url": "gateway:8080"})
    assert errors and errors[0].startswith("ingress.auth_url: 'gateway:8080' is not an http(s) URL")


def test_the_cluster_gateway_skips_routes_that_cannot_ask_it():
    params = cluster_settings.apply({"ingress": {"type": "istio"}}, SETTINGS)
    assert "auth_url" not in params["ingress"] and _model(**params)["ingress"]["auth_url"] is None
    assert "ingress" not in cluster_settings.apply({}, SETTINGS)  # no route, no gateway: the Service only
