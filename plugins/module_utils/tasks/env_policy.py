# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the workspace_env_policy module does: store the policy, report and refresh stale workspaces."""

from __future__ import annotations

import copy

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import env as env_refresh_docker
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import store as docker_store
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import engine as k8s_engine
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import env as env_refresh_k8s
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import store as k8s_store
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import env_policy
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import policy_documents as env_policy_store
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import workspace_spec as spec
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import workspace as workspace_task

POLICY_SPEC = {
    "seed_vars": {"type": "dict"},
    "variables": {"type": "dict"},
    "secrets": {"type": "dict", "no_log": True},
    "inherit": {"type": "bool"},
    "user_defined_vars": {"type": "list", "elements": "str"},
    "workspace_env_pattern": {"type": "str"},
    "env_rules": {"type": "dict"},
    "share_secrets_across_workspaces": {"type": "bool"},
    "inherit_pod_annotations": {"type": "bool"},
}


NO_INPUTS = ("the workspace does not record what it was given; converge it once with "
             "atelier.workspaces.workspace so its env can be recomputed")


def argument_spec():
    return {
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "backend": copy.deepcopy(spec.WORKSPACE_SPEC["backend"]),
        "namespace": {"type": "str"},
        "apply_to_existing": {"type": "str", "default": "none", "choices": ["none", "restart"]},
        **copy.deepcopy(POLICY_SPEC),
        **copy.deepcopy(spec.CONNECTION_SPEC),
        **copy.deepcopy(spec.KUBERNETES_CONNECTION_SPEC),
        **copy.deepcopy(spec.CONTROL_SPEC),
    }


def desired_policy(params):
    """The policy the task describes -> (policy, errors); state absent means the default policy."""
    if params["state"] == "absent":
        return env_policy.default_policy(), []
    try:
        policy = env_policy.normalise_policy({field: params.get(field) for field in POLICY_SPEC})
    except ValueError as error:
        return None, [str(error)]
    return policy, env_policy.validate_policy(policy)


def public_view(policy):
    """The policy as output and diffs show it: secret names, never their values."""
    return {**policy, "secrets": {name: env_policy.REDACTED for name in sorted(policy["secrets"])}}


def _diff(before, after):
    before_view, after_view = public_view(before), public_view(after)
    for name, value in after["secrets"].items():
        if name in before["secrets"] and before["secrets"][name] != value:
            after_view["secrets"][name] = f"{env_policy.REDACTED} (changed)"
    return {"before": before_view, "after": after_view}


class Backend:
    """The engine side of the task: the store, the workspaces' envs and their refresh."""

    def __init__(self, module):
        params = module.params
        if params["backend"] == "docker":
            self.api = workspace_task.connect_or_fail(module)
            self.store = docker_store.DockerStore(self.api)
            self.workspace_envs = lambda: env_refresh_docker.workspace_envs(self.api)
            self.refresh = lambda workspace, entries, dry_run: env_refresh_docker.refresh(
                self.api, workspace, entries, dry_run)
        else:
            self.api = workspace_task.connect_kubernetes_or_fail(module)
            cluster = k8s_engine.Cluster(self.api)
            self.store = k8s_store.K8sStore(cluster, params["control_namespace"])
            self.workspace_envs = lambda: env_refresh_k8s.workspace_envs(cluster, params.get("namespace"))
            self.refresh = lambda workspace, entries, dry_run: env_refresh_k8s.refresh(
                cluster, workspace, entries, dry_run)

    def close(self):
        self.api.close()


def stale_report(policy, workspaces):
    """Workspaces whose env under the policy differs from the env they run with (pure).

    Each row names what changed (variable names only); a workspace the policy
    cannot serve (a shared secret it uses is gone) carries the errors instead.
    """
    report = []
    for workspace in workspaces:
        row = {"name": workspace["name"], "namespace": workspace["namespace"], "backend": workspace["backend"],
               "running": workspace["running"]}
        if not workspace["inputs"]:
            # without its recorded inputs the workspace's own env cannot be told apart from inherited values
            report.append({**row, "errors": [NO_INPUTS]})
            continue
        entries, errors = env_policy.recompute(policy, workspace["name"], workspace["inputs"], workspace["values"])
        if errors:
            report.append({**row, "errors": errors})
        elif env_policy.config_hash(entries) != workspace["config_hash"]:
            report.append({**row, "changes": env_policy.env_changes(workspace["values"], entries),
                           "_entries": entries, "_workspace": workspace})
    return sorted(report, key=lambda row: (row["namespace"] or "", row["name"]))


def env_view(policy, workspace):
    """What workspace_info shows of a workspace's env: the env it runs with (with sources) and whether it is stale."""
    entries, errors = env_policy.recompute(policy, workspace["name"], workspace["inputs"], workspace["values"])
    errors = errors or ([NO_INPUTS] if not workspace["inputs"] else [])
    running_with = env_policy.stored_entries(workspace["inputs"], workspace["values"])
    return {
        "env": env_policy.redact(running_with),
        "env_stale": bool(errors) or env_policy.config_hash(entries) != workspace["config_hash"],
    }


def run(module):
    params = module.params
    policy, errors = desired_policy(params)
    if errors:
        module.fail_json(msg="invalid env policy: " + "; ".join(errors), errors=errors, changed=False)
    backend = Backend(module)
    try:
        result = _apply(module, backend, policy)
    except WorkspaceError as error:
        module.fail_json(msg=str(error), changed=False)
    finally:
        backend.close()
    module.exit_json(**result)


def _apply(module, backend, policy):
    params, dry_run = module.params, module.check_mode
    before = env_policy_store.load(backend.store)
    if params["state"] == "absent":
        changed = env_policy_store.remove(backend.store, dry_run)
    else:
        changed = env_policy_store.save(backend.store, policy, dry_run)
    stale = stale_report(policy, backend.workspace_envs())
    restarted = []
    if params["apply_to_existing"] == "restart":
        for row in stale:
            if "errors" in row:
                module.warn(f"workspace {row['name']}: not restarted, the policy cannot serve it: "
                            + "; ".join(row["errors"]))
                continue
            backend.refresh(row["_workspace"], row["_entries"], dry_run)
            restarted.append(row["name"])
    for row in stale:
        row.pop("_entries", None)
        row.pop("_workspace", None)
    result = {
        "changed": changed or bool(restarted),
        "policy": public_view(policy),
        "stale": [row for row in stale if row["name"] not in restarted],
        "restarted": restarted,
    }
    if module._diff:
        result["diff"] = _diff(before, policy)
    return result
