# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the workspace module does, end to end: params -> model -> engine -> result."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import engine as docker_engine
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import plan as docker_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import roles as role_docker
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import store as docker_store
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import engine as k8s_engine
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import roles as role_k8s
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import store as k8s_store
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.swarm import engine as swarm_engine
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import cluster_settings, env_policy
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import policy_documents as env_policy_store
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import workspace_spec as spec

# Docker workspaces reconciled at once in a bulk task; more buys little on a small engine host.
DOCKER_WORKERS = 8


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


def connect_kubernetes_or_fail(module):
    if not k8s_engine.HAS_KUBERNETES:
        from ansible.module_utils.basic import missing_required_lib

        _fail(module, missing_required_lib("kubernetes"), exception=str(k8s_engine.KUBERNETES_IMPORT_ERROR))
    try:
        return k8s_engine.connect(module.params)
    except WorkspaceError as error:
        _fail(module, str(error))


class _Failure(Exception):
    """A workspace that could not be reconciled; carries the task's failure result."""

    def __init__(self, **result):
        super().__init__(result["msg"])
        self.result = result


def _reconcile(module, workspace):
    try:
        return workspace.reconcile()
    except WorkspaceError as error:
        # what was done before the failure stays done, and the result says so
        raise _Failure(msg=str(error), changed=bool(workspace.actions), actions=workspace.actions,
                       workspace_name=workspace.model["name"], **workspace.extra_result) from None


def _reconcile_all(module, reconcile, models):
    """Reconcile every model; Docker workspaces side by side, since the engine serialises little."""
    if module.params["backend"] != "docker" or len(models) < 2:
        return [reconcile(model) for model in models]
    # the first one creates what all share (image, network) before the others start
    first = reconcile(models[0])
    with ThreadPoolExecutor(max_workers=DOCKER_WORKERS) as pool:
        return [first, *pool.map(reconcile, models[1:])]


def _docker_reconciler(module):
    api = connect_or_fail(module)
    ready = set()
    if module.params.get("swarm_mode"):
        return _swarm_reconciler(module, api, ready)

    roles = _DockerRoles(api, module.check_mode)

    def reconcile(model):
        workspace = docker_engine.DockerWorkspace(api, model, module.check_mode, ready)
        before, after = _reconcile(module, workspace)
        model["warnings"].extend(workspace.warnings)
        workspace.actions.extend(roles.follow(model, workspace, after))
        view = docker_engine.describe(after) if after and after.get("Config") else None
        return workspace.actions, view, _diff(_observed_summary(before), model), workspace.extra_result

    return reconcile, api.close, docker_store.DockerStore(api)


class _DockerRoles:
    """Role assignments follow the workspaces of one task: removed with them, exported into new containers."""

    def __init__(self, api, check_mode):
        self.api, self.check_mode = api, check_mode
        self.lock = threading.Lock()  # the roles document is read, changed and written whole
        self.document = None

    def follow(self, model, workspace, after):
        if model["state"] == "absent":
            with self.lock:
                self.document = None
                return role_docker.remove_workspace_assignments(self.api, model["name"], self.check_mode)
        if "create container" in workspace.actions and after and after.get("Id") and not self.check_mode:
            with self.lock:
                # read once per task: bulk tasks create many containers
                if self.document is None:
                    self.document = role_docker.read_document(self.api) or {}
                document = self.document
            role_docker.export_into(self.api, after["Id"], model["name"], document)
        return []


def _swarm_reconciler(module, api, ready):
    try:
        swarm_engine.require_swarm(api)
    except WorkspaceError as error:
        _fail(module, str(error))

    def reconcile(model):
        workspace = swarm_engine.SwarmWorkspace(api, model, module.check_mode, ready)
        before, after = _reconcile(module, workspace)
        model["warnings"].extend(workspace.warnings)
        return workspace.actions, swarm_engine.describe(api, after), _diff(swarm_engine.observed_summary(before),
                                                                           model), {}

    return reconcile, api.close, docker_store.DockerStore(api)


def _kubernetes_reconciler(module):
    api = connect_kubernetes_or_fail(module)
    single = None if module.params.get("workspaces") else module.params["name"]
    cluster = k8s_engine.Cluster(api)
    snapshot = k8s_engine.Snapshot(cluster, single=single)

    def reconcile(model):
        workspace = k8s_engine.K8sWorkspace(api, model, module.check_mode, snapshot)
        _before, after = _reconcile(module, workspace)
        if model["state"] == "absent":
            # the RBAC bindings of a removed workspace would grant access to a future one of the same name
            workspace.actions.extend(
                role_k8s.remove_workspace_bindings(cluster, model["namespace"], model["name"], module.check_mode))
        return workspace.actions, k8s_engine.describe(after, model), workspace.diffs, workspace.extra_result

    return reconcile, api.close, k8s_store.K8sStore(cluster, module.params.get("control_namespace"))


def _models(module, policy, settings):
    """One model for the task, or one per entry of `workspaces`; all are checked before any is applied."""
    params = module.params
    if not params.get("workspaces"):
        model, errors = spec.build_model(cluster_settings.apply(params, settings), policy)
        return [model], errors
    fields = spec.entry_spec()
    validator = ArgumentSpecValidator(fields)
    models, errors, seen = [], [], set()
    for index, entry_params in spec.bulk_params(params):
        checked = validator.validate({key: value for key, value in entry_params.items() if key in fields})
        # secrets inside entries are masked like the task's own
        module.no_log_values.update(checked._no_log_values)
        entry_errors = [str(error) for error in checked.errors]
        model = None
        if not entry_errors:
            entry = cluster_settings.apply({**checked.validated_parameters, "backend": params["backend"]}, settings)
            model, entry_errors = spec.build_model(entry, policy)
        if model and model["name"] in seen:
            entry_errors.append(f"name: '{model['name']}' is listed twice")
        errors.extend(f"workspaces[{index}].{error}" for error in entry_errors)
        if model:
            seen.add(model["name"])
            models.append(model)
    return models, errors


def _load_policy(module, store):
    """The env policy every controller of this engine applies (the default one when none is stored)."""
    try:
        policy = env_policy_store.load(store)
    except (WorkspaceError, ValueError) as error:
        _fail(module, f"control_namespace: cannot read the env policy ({error}); fix or re-apply it with "
                      f"atelier.workspaces.workspace_env_policy")
    module.no_log_values.update(value for value in policy["secrets"].values() if value)
    return policy


def _load_settings(module, store):
    """The cluster's workspace defaults (none when the cluster setup wrote none)."""
    try:
        settings = store.read(cluster_settings.DOCUMENT) or {}
    except WorkspaceError as error:
        _fail(module, f"control_namespace: cannot read the cluster settings ({error})")
    errors = cluster_settings.validate(settings)
    if errors:
        _fail(module, "; ".join(errors), errors=errors)
    return settings


def _result(model, actions, view, diff, extra, with_diff):
    result = {
        "name": model["name"],
        "changed": bool(actions),
        "actions": actions,
        "workspace": view,
        "env": env_policy.redact(model["env"]),
        **extra,  # output of lifecycle commands the engine ran (Docker: post_start, on_startup)
    }
    if with_diff:
        result["diff"] = diff
    return result


def run(module):
    """Entry point of the workspace module."""
    factory = _docker_reconciler if module.params["backend"] == "docker" else _kubernetes_reconciler
    reconcile, close, store = factory(module)
    try:
        models, errors = _models(module, _load_policy(module, store), _load_settings(module, store))
        if errors:
            _fail(module, "invalid workspace definition: " + "; ".join(errors), errors=errors)
        outcomes = _reconcile_all(module, reconcile, models)
    except _Failure as failure:
        module.fail_json(**failure.result)
    finally:
        close()
    results = [_result(model, *outcome, module._diff) for model, outcome in zip(models, outcomes, strict=True)]
    for model in models:
        for warning in model["warnings"]:
            module.warn(warning)
    if module.params.get("workspaces"):
        module.exit_json(changed=any(r["changed"] for r in results), workspaces=results)
    result = results[0]
    del result["name"]
    module.exit_json(**result)
