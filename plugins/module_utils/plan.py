# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a task reports of one workspace: the actions taken (or, in check mode, that would be), the view,
the diff, and a failure that still says what was done before it (pure)."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import env_policy


class Outcome:
    """One reconciled workspace."""

    def __init__(self, actions, view, diff, extra=None, warnings=()):
        self.actions = list(actions)
        self.view = view
        self.diff = diff
        # output of lifecycle commands the engine ran (Docker: post_start, on_startup)
        self.extra = dict(extra or {})
        self.warnings = list(warnings)


class PartialFailure(WorkspaceError):
    """A workspace that could not be reconciled; what was done before the failure stays done."""

    def __init__(self, message, actions, extra=None):
        super().__init__(message)
        self.actions = list(actions)
        self.extra = dict(extra or {})
        self.name = None  # the workspace's, set by the task that reconciled it

    def result(self):
        return {"msg": str(self), "changed": bool(self.actions), "actions": self.actions, "workspace_name": self.name,
                **self.extra}


def result(model, outcome, with_diff):
    """The module result of one workspace."""
    found = {
        "name": model["name"],
        "changed": bool(outcome.actions),
        "actions": outcome.actions,
        "workspace": outcome.view,
        "env": env_policy.redact(model["env"]),
        **outcome.extra,
    }
    if with_diff:
        found["diff"] = outcome.diff
    return found
