# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the workspace_role module does, end to end: params -> assignment -> backend -> result."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import roles
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import session


def _view(assignment, role):
    """One side of the diff: the subject's role on the scope, or nothing."""
    if role is None:
        return {}
    return {"role": role, "subject": dict(assignment["subject"]), "scope": assignment["scope"],
            "workspace": assignment["workspace"]}


def run(module):
    """Entry point of the workspace_role module."""
    assignment, errors = roles.validate(module.params)
    if errors:
        session.fail(module, "; ".join(errors), errors=errors)
    with session.engine(module) as backend:
        task = backend.role_assignment(assignment, module.check_mode)
        try:
            before, after, holders = task.converge()
        except WorkspaceError as error:
            # what was done before the failure stays done, and the result says so
            module.fail_json(msg=str(error), changed=bool(task.actions), actions=task.actions)
    result = {
        "changed": bool(task.actions),
        "actions": task.actions,
        "assignment": _view(assignment, after) or None,
        "assignments": roles.describe(holders, assignment["scope"]),
    }
    if module._diff:
        result["diff"] = {"before": _view(assignment, before), "after": _view(assignment, after)}
    module.exit_json(**result)
