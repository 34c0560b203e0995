# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the workspace module does, end to end: params -> model -> engine -> result."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils import docker_engine, docker_plan, env_policy, spec


def _fail(module, message, **extra):
    module.fail_json(msg=message, changed=False, **extra)


def connect_or_fail(module):
    if not docker_engine.HAS_DOCKER:
        from ansible.module_utils.basic import missing_required_lib

        _fail(module, missing_required_lib("docker"), exception=str(docker_engine.DOCKER_IMPORT_ERROR))
    try:
        api = docker_engine.connect(module.params)
        api.ping()
    except docker_engine.WorkspaceError as error:
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


def run(module):
    """Entry point of the workspace module."""
    params = module.params
    if params["backend"] != "docker":
        _fail(module, "backend: only 'docker' is available in this version; set backend: docker")
    model, errors = spec.build_model(params)
    if errors:
        _fail(module, "invalid workspace definition: " + "; ".join(errors), errors=errors)
    api = connect_or_fail(module)
    workspace = docker_engine.DockerWorkspace(api, model, module.check_mode)
    try:
        before, after = workspace.reconcile()
    except docker_engine.WorkspaceError as error:
        # what was done before the failure stays done, and the result says so
        module.fail_json(msg=str(error), changed=bool(workspace.actions), actions=workspace.actions)
    finally:
        api.close()
    for warning in workspace.warnings:
        module.warn(warning)
    result = {
        "changed": bool(workspace.actions),
        "actions": workspace.actions,
        "workspace": docker_engine.describe(after) if after and after.get("Config") else None,
        "env": env_policy.redact(model["env"]),
    }
    if module._diff:
        result["diff"] = _diff(_observed_summary(before), model)
    module.exit_json(**result)
