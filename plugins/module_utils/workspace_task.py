# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the workspace module does, end to end: params -> model -> engine -> result."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils import (
    docker_engine,
    docker_plan,
    env_policy,
    k8s_engine,
    spec,
)
from ansible_collections.atelier.workspaces.plugins.module_utils.errors import WorkspaceError


def _fail(module, message, **extra):
    module.fail_json(msg=message, changed=False, **extra)


def connect_or_fail(module):
    if not docker_engine.HAS_DOCKER:
        from ansible.module_utils.basic import missing_required_lib

        _fail(module, missing_required_lib("docker"), exception=str(docker_engine.DOCKER_IMPORT_ERROR))
    try:
        api = docker_engine.connect(module.params)
        api.ping()
    except WorkspaceError as error:
        _fail(module, str(error))
    except docker_engine.DockerException as error:
        where = module.params.get("docker_host") or "unix:///var/run/docker.sock"
        _fail(
            module,
            f"docker_host: cannot reach the Docker engine at {where} ({error}); start the engine or set "
            f"docker_host (DOCKER_HOST), tls_verify and cert_path",
        )
    return api


def _diff(before, model):
    after = None if model["state"] == "absent" else docker_plan.summary(model)
    return {"before": before or {}, "after": after or {}}


def _observed_summary(container):
    """The diff's 'before' side, read back from the engine's container."""
    if not container:
        return None
    labels = container["Config"]["Labels"]
    managed = set(filter(None, labels.get(docker_plan.LABEL_ENV_NAMES, "").split(",")))
    secret = set(filter(None, labels.get(docker_plan.LABEL_SECRET_NAMES, "").split(",")))
    env = {}
    for item in container["Config"].get("Env") or []:
        name, _sep, value = item.partition("=")
        if name in managed:
            env[name] = env_policy.REDACTED if name in secret else value
    view = docker_engine.describe(container)
    return {
        "image": container["Config"]["Image"],
        "command": container["Config"].get("Cmd"),
        "user": container["Config"].get("User"),
        "env": env,
        "cpu_millis": view["resources"]["cpu_millis"],
        "memory_bytes": view["resources"]["memory_bytes"],
        "status": view["status"],
    }


def _connect_kubernetes(module):
    if not k8s_engine.HAS_KUBERNETES:
        from ansible.module_utils.basic import missing_required_lib

        _fail(module, missing_required_lib("kubernetes"), exception=str(k8s_engine.KUBERNETES_IMPORT_ERROR))
    try:
        return k8s_engine.connect(module.params)
    except WorkspaceError as error:
        _fail(module, str(error))


def _reconcile(module, workspace, close):
    try:
        return workspace.reconcile()
    except WorkspaceError as error:
        # what was done before the failure stays done, and the result says so
        module.fail_json(msg=str(error), changed=bool(workspace.actions), actions=workspace.actions)
    finally:
        close()


def _run_docker(module, model):
    api = connect_or_fail(module)
    workspace = docker_engine.DockerWorkspace(api, model, module.check_mode)
    before, after = _reconcile(module, workspace, api.close)
    model["warnings"].extend(workspace.warnings)
    view = docker_engine.describe(after) if after and after.get("Config") else None
    return workspace.actions, view, _diff(_observed_summary(before), model)


def _run_kubernetes(module, model):
    api = _connect_kubernetes(module)
    workspace = k8s_engine.K8sWorkspace(api, model, module.check_mode)
    _before, after = _reconcile(module, workspace, api.close)
    return workspace.actions, k8s_engine.describe(after, model), workspace.diffs


def run(module):
    """Entry point of the workspace module."""
    model, errors = spec.build_model(module.params)
    if errors:
        _fail(module, "invalid workspace definition: " + "; ".join(errors), errors=errors)
    backend = _run_docker if model["backend"] == "docker" else _run_kubernetes
    actions, view, diff = backend(module, model)
    for warning in model["warnings"]:
        module.warn(warning)
    result = {
        "changed": bool(actions),
        "actions": actions,
        "workspace": view,
        "env": env_policy.redact(model["env"]),
    }
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)
