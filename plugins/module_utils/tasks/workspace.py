# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the workspace module does, end to end: params -> model -> backend -> result."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.atelier.workspaces.plugins.module_utils import plan
from ansible_collections.atelier.workspaces.plugins.module_utils.args import workspace as workspace_args
from ansible_collections.atelier.workspaces.plugins.module_utils.backends import registry
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import (
    access,
    archive,
    cluster_settings,
    configuration,
    policy_documents,
)
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import workspace_spec as spec
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import session


def longest_wait(params):
    """The longest wait_timeout of the task and its entries: no engine call of the task may take longer."""
    entries = params.get("workspaces") if isinstance(params.get("workspaces"), list) else []
    waits = [params.get("wait_timeout"), *(entry.get("wait_timeout") for entry in entries if isinstance(entry, dict))]
    return max([0, *(wait for wait in waits if isinstance(wait, int))])


def completed(module, backend, params):
    """The params with the workspace's recorded configuration for the options they leave out."""
    if naming.validate_workspace_name(params.get("name")):
        return params, None  # build_model names the error
    current = backend.configuration(params["name"], params.get("namespace") or spec.DEFAULT_NAMESPACE)
    if current is None:
        merged, refused = archive.marked(configuration.merge(params, None, {}), None, archive.now())
    else:
        merged, refused = archive.marked(configuration.merge(params, current["record"], current["env"]),
                                         current["record"], archive.now())
    # the workspace keeps the access secret its env holds; a new one draws its own
    merged["_access_token"] = access.token_for(merged.get("auth"), current and current["env"])
    # a workspace's own secret values come back from its env: they stay out of every output
    module.no_log_values.update(configuration.secret_values(merged))
    module.no_log_values.update([merged["_access_token"]] if merged["_access_token"] else [])
    return merged, refused


def models(module, backend, policy, settings, kubernetes):
    """One model for the task, or one per entry of `workspaces`; all are checked before any is applied."""
    params = module.params
    if not params.get("workspaces"):
        merged, refused = completed(module, backend, params)
        model, errors = spec.build_model(cluster_settings.apply(merged, settings), policy, kubernetes)
        return ([None], [refused]) if refused else ([model], errors)
    fields = workspace_args.entry_spec()
    validator = ArgumentSpecValidator(fields)
    found, errors, seen = [], [], set()
    for index, entry_params in workspace_args.bulk_params(params):
        # an option left out is None, which an option with choices would refuse
        checked = validator.validate({key: value for key, value in entry_params.items()
                                      if key in fields and value is not None})
        # secrets inside entries are masked like the task's own
        module.no_log_values.update(checked._no_log_values)
        entry_errors = [str(error) for error in checked.errors]
        model = None
        if not entry_errors:
            entry, refused = completed(module, backend, {**checked.validated_parameters,
                                                         "backend": params["backend"]})
            model, entry_errors = spec.build_model(cluster_settings.apply(entry, settings), policy, kubernetes)
            if refused:
                model, entry_errors = None, [refused]
        if model and model["name"] in seen:
            entry_errors.append(f"name: '{model['name']}' is listed twice")
        errors.extend(f"workspaces[{index}].{error}" for error in entry_errors)
        if model:
            seen.add(model["name"])
            found.append(model)
    return found, errors


def load_policy(module, store):
    """The env policy every controller of this engine applies (the default one when none is stored)."""
    try:
        policy = policy_documents.load(store)
    except (WorkspaceError, ValueError) as error:
        session.fail(module, f"control_namespace: cannot read the env policy ({error}); fix or re-apply it with "
                             f"atelier.workspaces.workspace_env_policy")
    module.no_log_values.update(value for value in policy["secrets"].values() if value)
    return policy


def load_settings(module, store):
    """The cluster's workspace defaults (none when the cluster setup wrote none)."""
    try:
        settings = store.read(cluster_settings.DOCUMENT) or {}
    except WorkspaceError as error:
        session.fail(module, f"control_namespace: cannot read the cluster settings ({error})")
    errors = cluster_settings.validate(settings)
    if errors:
        session.fail(module, "; ".join(errors), errors=errors)
    return settings


def task_names(params):
    """The workspaces a task names, so the engine can read them all at once before anything is checked."""
    entries = params.get("workspaces") if isinstance(params.get("workspaces"), list) else []
    names = [entry.get("name") for entry in entries if isinstance(entry, dict)] or [params.get("name")]
    return [name for name in names if name]


def reconcile_all(backend, found, check_mode):
    """Reconcile every model; side by side where the backend allows it."""
    def reconcile(model):
        try:
            return backend.reconcile(model, check_mode)
        except plan.PartialFailure as failure:
            failure.name = model["name"]
            raise

    if backend.bulk_workers < 2 or len(found) < 2:
        return [reconcile(model) for model in found]
    # the first one creates what all share (image, network) before the others start
    first = reconcile(found[0])
    with ThreadPoolExecutor(max_workers=backend.bulk_workers) as pool:
        return [first, *pool.map(reconcile, found[1:])]


def run(module):
    """Entry point of the workspace module."""
    params = module.params
    kubernetes = registry.backend_class(params).kubernetes_options
    with session.engine(module, timeout=longest_wait(params)) as backend:
        backend.expect(task_names(params))
        found, errors = models(module, backend, load_policy(module, backend.store),
                               load_settings(module, backend.store), kubernetes)
        if errors:
            session.fail(module, "invalid workspace definition: " + "; ".join(errors), errors=errors)
        try:
            outcomes = reconcile_all(backend, found, module.check_mode)
        except plan.PartialFailure as failure:
            module.fail_json(**failure.result())
    results = [plan.result(model, outcome, module._diff) for model, outcome in zip(found, outcomes, strict=True)]
    for model, outcome in zip(found, outcomes, strict=True):
        for warning in model["warnings"] + outcome.warnings:
            module.warn(warning)
    if params.get("workspaces"):
        module.exit_json(changed=any(r["changed"] for r in results), workspaces=results)
    result = results[0]
    del result["name"]
    module.exit_json(**result)
