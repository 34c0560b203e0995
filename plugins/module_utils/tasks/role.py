# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the workspace_role module does, end to end: params -> assignment -> engine -> result."""

from __future__ import annotations

import copy

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import roles as role_docker
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import engine as k8s_engine
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import roles as role_k8s
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import roles
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import workspace_spec as spec
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import workspace as workspace_task

ROLE_SPEC = {
    "backend": copy.deepcopy(spec.WORKSPACE_SPEC["backend"]),
    "namespace": {"type": "str", "default": "workspaces"},
    "role": {"type": "str", "choices": list(roles.ROLES)},
    # kind and name are checked by roles.validate, whose messages name the field (a sub-spec's are less clear)
    "subject": {"type": "dict", "required": True},
    "scope": {"type": "str", "default": "workspace", "choices": list(roles.SCOPES)},
    "workspace": {"type": "str"},
    "state": {"type": "str", "default": "present", "choices": list(roles.STATES)},
}


def argument_spec():
    """The workspace_role module's argument_spec (fresh copy)."""
    return {
        **copy.deepcopy(ROLE_SPEC),
        **copy.deepcopy(spec.CONNECTION_SPEC),
        **copy.deepcopy(spec.KUBERNETES_CONNECTION_SPEC),
        **copy.deepcopy(spec.CONTROL_SPEC),
    }


def _view(assignment, role):
    """One side of the diff: the subject's role on the scope, or nothing."""
    if role is None:
        return {}
    return {"role": role, "subject": dict(assignment["subject"]), "scope": assignment["scope"],
            "workspace": assignment["workspace"]}


def _task(module, assignment):
    """The engine's RoleAssignment and the call that closes its connection."""
    if assignment["backend"] == "docker":
        api = workspace_task.connect_or_fail(module)
        return role_docker.RoleAssignment(api, assignment, module.check_mode), api.close
    api = workspace_task.connect_kubernetes_or_fail(module)
    return role_k8s.RoleAssignment(k8s_engine.Cluster(api), assignment, module.check_mode), api.close


def run(module):
    """Entry point of the workspace_role module."""
    assignment, errors = roles.validate(module.params)
    if errors:
        module.fail_json(msg="; ".join(errors), errors=errors, changed=False)
    task, close = _task(module, assignment)
    try:
        before, after, holders = task.converge()
        if assignment["backend"] == "docker" and task.actions and not module.check_mode:
            # the IDE in front of each workspace reads its roles from the exported file
            task.actions.extend(f"export roles into workspace {name}"
                                for name in role_docker.refresh_exports(task.api, assignment["workspace"]))
    except WorkspaceError as error:
        # what was done before the failure stays done, and the result says so
        module.fail_json(msg=str(error), changed=bool(task.actions), actions=task.actions)
    finally:
        close()
    result = {
        "changed": bool(task.actions),
        "actions": task.actions,
        "assignment": _view(assignment, after) or None,
        "assignments": roles.describe(holders, assignment["scope"]),
    }
    if module._diff:
        result["diff"] = {"before": _view(assignment, before), "after": _view(assignment, after)}
    module.exit_json(**result)
