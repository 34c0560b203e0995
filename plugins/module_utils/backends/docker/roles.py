# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Workspace roles on a Docker engine: stored and exported, never enforced.

Docker has no authorisation layer, so a role cannot stop anybody who reaches
the engine. The assignments are kept with the engine's host in the control
store's document ``roles`` (one key per scope: ``global`` or
``workspace:<name>``, each a JSON object of ``"<kind>:<name>": "<role>"``), so
every controller sees the same ones, and a workspace gets them as a read-only
file for the IDE in front of it to enforce. Each change is made under the
document's engine-side lock, so the changes of parallel tasks are all kept.
"""

from __future__ import annotations

import json

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import store as docker_store
from ansible_collections.atelier.workspaces.plugins.module_utils.common import archive, naming
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import roles

DOCUMENT = "roles"
GLOBAL_KEY = "global"
EXPORT_PATH = "/etc/atelier/roles.json"
EXPORT_ENV = "ATELIER_ROLES_FILE"
# how often a task exports again when parallel tasks keep changing the document under it
EXPORT_ROUNDS = 5


def scope_key(workspace=None):
    return GLOBAL_KEY if workspace is None else f"workspace:{workspace}"


def _holders(document, workspace):
    """{role: subject keys} of one scope from the stored document."""
    stored = json.loads((document or {}).get(scope_key(workspace)) or "{}")
    holders = {role: set() for role in roles.ROLES}
    for label, role in stored.items():
        kind, _sep, name = label.partition(":")
        if role in holders:
            holders[role].add((kind, name))
    return {role: frozenset(keys) for role, keys in holders.items()}


def _stored(holders):
    """One scope's value in the document, or None when nobody holds a role there."""
    by_subject = {roles.subject_label(key): role for role in reversed(roles.ROLES) for key in holders.get(role, ())}
    return json.dumps(by_subject, sort_keys=True) if by_subject else None


def _with_scope(document, workspace, holders):
    changed = dict(document or {})
    value = _stored(holders)
    if value is None:
        changed.pop(scope_key(workspace), None)
    else:
        changed[scope_key(workspace)] = value
    return changed


def read_document(api):
    return docker_store.DockerStore(api).read(DOCUMENT)


def assignments(api, workspace=None, document=None):
    """A workspace's assignments, direct and global (only the global ones without a workspace).

    `document` is the roles document when the caller has read it already.
    """
    if document is None:
        document = read_document(api)
    found = roles.describe(_holders(document, workspace), "workspace") if workspace is not None else []
    return found + roles.describe(_holders(document, None), "global")


def remove_workspace_assignments(api, workspace, dry_run):
    """Forget a terminated workspace's assignments; the actions taken (or that would be)."""

    def change(document):
        return _with_scope(document, workspace, {}) if scope_key(workspace) in (document or {}) else document

    if not docker_store.DockerStore(api).update(DOCUMENT, change, dry_run=dry_run):
        return []
    return [f"remove {scope_key(workspace)} from the roles document"]


def export(workspace, found):
    """The read-only file a workspace gets (pure): its assignments, each subject's effective role and the table.

    `found` is what assignments() returns for the workspace. A subject holding a global and a workspace role
    has the stronger of the two, as the permission sets only grow from viewer to owner.
    """
    effective = {}
    for entry in found:
        label = roles.subject_label(roles.subject_key(entry["subject"]))
        effective[label] = roles.stronger(effective.get(label), entry["role"])
    content = {
        "workspace": workspace,
        "enforced": False,
        "note": "Docker has no authorisation layer; the IDE in front of the workspace enforces these roles",
        "assignments": found,
        "effective": dict(sorted(effective.items())),
        "permissions": {role: [a for a in roles.ACTIONS if roles.allows(role, a)] for role in roles.ROLES},
    }
    return {"path": EXPORT_PATH, "mode": "0444", "content": json.dumps(content, indent=1, sort_keys=True) + "\n",
            "env": {EXPORT_ENV: EXPORT_PATH}}


def export_into(api, container_id, workspace, document=None):
    """Write the workspace's roles file into its container (read-only for the workspace's user)."""
    exported = export(workspace, assignments(api, workspace, document))
    roles_file = archive.file_with_parents(exported["path"], exported["content"].encode(), int(exported["mode"], 8))
    api.put_archive(container_id, "/", roles_file)


def refresh_exports(api, containers):
    """Re-export into the given container summaries (one workspace's, or all after a global change); their names.

    Parallel tasks export at the same time: each exports again while the stored document is no longer the
    one it exported, so the last export made is of the last document.
    """
    names = [summary["Labels"][naming.LABEL_WORKSPACE] for summary in containers]
    document = read_document(api) or {}
    for _round in range(EXPORT_ROUNDS):
        for summary, name in zip(containers, names, strict=True):
            export_into(api, summary["Id"], name, document)
        stored = read_document(api) or {}
        if stored == document:
            break
        document = stored
    return names


class RoleAssignment:
    """One assignment (or its removal) on one scope of the engine.

    `containers(workspace)` lists the summaries of the containers a workspace runs in (all workspaces' for None);
    the IDE in front of each reads its roles from the file exported into them.
    """

    def __init__(self, api, assignment, check_mode, containers, exists):
        self.store = docker_store.DockerStore(api)
        self.api = api
        self.assignment = assignment
        self.check_mode = check_mode
        self.containers = containers
        self.exists = exists
        self.workspace = assignment["workspace"]
        self.key = roles.subject_key(assignment["subject"])
        self.actions = []

    def converge(self):
        """Apply the assignment; (role before, role after, the scope's holders after)."""
        present = self.assignment["state"] == "present"
        if present and self.workspace is not None and not self.exists(self.workspace):
            raise WorkspaceError(
                f"workspace: '{self.workspace}' does not exist on this Docker engine; create it with "
                f"atelier.workspaces.workspace first, or check workspace and docker_host")
        seen = {}

        def change(document):
            # computed again on the stored document when a parallel task changed it first
            holders = _holders(document, self.workspace)
            wanted = roles.changed_holders(holders, self.key, self.assignment["role"], self.assignment["state"])
            seen.update(before=roles.role_of(holders, self.key), after=roles.role_of(wanted, self.key),
                        holders=wanted)
            if _stored(wanted) == _stored(holders):
                return document
            return _with_scope(document, self.workspace, wanted)

        if self.store.update(DOCUMENT, change, dry_run=self.check_mode):
            self.actions.append(self._action(seen["before"], seen["after"]))
            if not self.check_mode:
                self.actions.extend(f"export roles into workspace {name}"
                                    for name in refresh_exports(self.api, self.containers(self.workspace)))
        return seen["before"], seen["after"], seen["holders"]

    def _action(self, before, after):
        who, where = roles.subject_label(self.key), scope_key(self.workspace)
        if after is None:
            return f"remove {who} ({before}) from roles[{where}]"
        return f"store {who} as {after} in roles[{where}]" + (f" (was {before})" if before else "")
