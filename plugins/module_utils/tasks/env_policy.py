# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the workspace_env_policy module does: store the policy, report and refresh stale workspaces."""

from __future__ import annotations

import fnmatch

from ansible_collections.atelier.workspaces.plugins.module_utils.args.env_policy import POLICY_SPEC
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import (
    env_policy,
    policy_changes,
    policy_documents,
)
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import session


def desired_policy(params):
    """The policy the task describes -> (policy, errors); state absent means the default policy."""
    if params["state"] == "absent":
        return env_policy.default_policy(), []
    try:
        policy = env_policy.normalise_policy({field: params.get(field) for field in POLICY_SPEC})
    except ValueError as error:
        return None, [str(error)]
    return policy, env_policy.validate_policy(policy)


def selected(workspaces, names):
    """The workspaces whose name is one of names (wildcards allowed); all of them when names is empty."""
    if not names:
        return list(workspaces)
    return [workspace for workspace in workspaces
            if any(fnmatch.fnmatchcase(workspace["name"], pattern) for pattern in names)]


def run(module):
    policy, errors = desired_policy(module.params)
    if errors:
        session.fail(module, "invalid env policy: " + "; ".join(errors), errors=errors)
    with session.engine(module) as backend:
        result = _apply(module, backend, policy)
    module.exit_json(**result)


def _apply(module, backend, policy):
    params, dry_run = module.params, module.check_mode
    if params["state"] == "absent":
        changed, before = policy_documents.remove(backend.store, dry_run)
    else:
        changed, before = policy_documents.save(backend.store, policy, dry_run)
    workspaces = selected(backend.workspace_envs(params.get("namespace")), params.get("workspace_names"))
    stale = policy_changes.stale_report(policy, workspaces)
    restarted = []
    if params["apply_to_existing"] == "restart":
        for row in stale:
            if "errors" in row:
                module.warn(f"workspace {row['name']}: not restarted, the policy cannot serve it: "
                            + "; ".join(row["errors"]))
                continue
            backend.refresh_env(row["_workspace"], row["_entries"], dry_run)
            restarted.append(row["name"])
    for row in stale:
        row.pop("_entries", None)
        row.pop("_workspace", None)
    result = {
        "changed": changed or bool(restarted),
        "policy": policy_changes.public_view(policy),
        "stale": [row for row in stale if row["name"] not in restarted],
        "restarted": restarted,
    }
    if module._diff:
        result["diff"] = policy_changes.diff(before, policy)
    return result
