# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the workspace_info module does: list or get workspaces, never change them."""

from __future__ import annotations

import time

from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import (
    access,
    columns,
    idle,
    policy_changes,
    policy_documents,
)
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import session


def _by_key(workspaces):
    return {(workspace["namespace"], workspace["name"]): workspace for workspace in workspaces}


def add_env(views, policy, workspace_envs, show_access):
    """Each view gets the env its workspace runs with, with sources, and whether the policy has moved on.

    With show_access it also gets the workspace's access secret and the URL that opens the IDE with it.
    """
    by_key = _by_key(workspace_envs)
    for view in views:
        workspace = by_key.get((view.get("namespace"), view["name"]))
        if not workspace:
            continue
        view.update(policy_changes.env_view(policy, workspace))
        token = workspace["values"].get(access.TOKEN_VAR) if workspace["inputs"].get("access") else None
        view["auth"] = "token" if token else "none"
        if show_access:
            view["access"] = access.shown(view.get("url"), token)


def add_idle(views, observed, now):
    """Idle seconds of a running workspace, and why an idle-stopped one was stopped."""
    by_key = _by_key(observed)
    for view in views:
        workspace = by_key.get((view.get("namespace"), view["name"]))
        if not workspace:
            continue
        view["idle_seconds"] = idle.idle_seconds(now, workspace["started_at"], workspace["last_activity"]) if (
            workspace["running"]) else None
        view["max_idle_seconds"] = (workspace["policy"] or {}).get("max_idle_seconds")
        if workspace["stopped_reason"] and view["status"] == "Stopped":
            view["stopped_reason"] = workspace["stopped_reason"]


def run(module):
    params = module.params
    if params.get("name"):
        error = naming.validate_workspace_name(params["name"])
        if error:
            session.fail(module, error)
    with session.engine(module) as backend:
        views = [view for view in backend.views(params.get("name"), params.get("namespace"), params["labels"])
                 # archived workspaces are out of the way unless asked for, or asked for by name
                 if params["include_archived"] or params.get("name") or not view.get("archived")]
        add_env(views, policy_documents.load(backend.store), backend.workspace_envs(params.get("namespace")),
                params["show_access"])
        for view in views:
            view["roles"] = backend.role_assignments(view)
        add_idle(views, backend.idle_workspaces(params.get("name"), params.get("namespace")), time.time())
    for view in views:
        view.update(columns.columns(view))
    views.sort(key=lambda w: (w.get("namespace") or "", w["name"]))
    module.exit_json(changed=False, workspaces=views, table=columns.table(views))
