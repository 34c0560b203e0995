# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Workspace roles: the permission table and assignment checks (pure, no I/O).

A role is given to a subject (a user or a group) on a scope: one workspace, or
every workspace of a namespace (global, including workspaces created later).
A subject holds at most one role per scope; assigning another replaces it.
"""

from __future__ import annotations

import re

from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming

ROLES = ("owner", "admin", "editor", "viewer")  # most powerful first
ACTIONS = ("status", "open", "lifecycle", "configure", "manage_roles", "delete")
ACTION_TITLES = {
    "status": "see status and logs",
    "open": "open the workspace (exec / port-forward into its pod, reach the IDE)",
    "lifecycle": "start, stop, restart",
    "configure": "change its config",
    "manage_roles": "manage its roles",
    "delete": "delete it",
}
PERMISSIONS = {
    "viewer": frozenset({"status"}),
    "editor": frozenset({"status", "open", "lifecycle", "configure"}),
    "admin": frozenset({"status", "open", "lifecycle", "configure", "manage_roles"}),
    "owner": frozenset(ACTIONS),
}
# Roles whose bindings a role with manage_roles may edit; only an owner makes owners.
GRANTS = {"owner": ROLES, "admin": ("admin", "editor", "viewer")}

SCOPES = ("global", "workspace")
STATES = ("present", "absent")
SUBJECT_KINDS = ("user", "group")

_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


# --- the permission table -------------------------------------------------------------------------------------------

def allows(role, action):
    """Whether the role may do the action (on every workspace its scope covers)."""
    return action in PERMISSIONS[role]


def permission_table():
    """Rows of the table: action, title and the roles that may do it."""
    return [{"action": action, "title": ACTION_TITLES[action],
             "roles": [role for role in ROLES if allows(role, action)]} for action in ACTIONS]


def stronger(first, second):
    """The more powerful of two roles (either may be None)."""
    if first is None or second is None:
        return first or second
    return min(first, second, key=ROLES.index)


# --- validation -----------------------------------------------------------------------------------------------------

def _subject_errors(subject):
    example = "for example {kind: user, name: alice@example.com}"
    if not isinstance(subject, dict) or not subject:
        return [f"subject: give who gets the role as a kind and a name, {example}"]
    errors = [f"subject.{key}: not a subject field; give kind and name only" for key in sorted(
        set(subject) - {"kind", "name"}, key=str)]
    kind, name = subject.get("kind") or "user", subject.get("name")
    if kind not in SUBJECT_KINDS:
        errors.append(f"subject.kind: '{kind}' is not a subject kind; use user or group")
    if not isinstance(name, str) or not name.strip():
        errors.append(f"subject.name: give the user or group name, {example}")
    elif name != name.strip() or _CONTROL_CHARS.search(name):
        errors.append(f"subject.name: {name!r} has surrounding spaces or control characters; give the name exactly "
                      f"as the API server authenticates it")
    elif name.startswith("system:"):
        errors.append(f"subject.name: '{name}' is a Kubernetes system identity; roles are for people and teams, "
                      f"give system identities their permissions directly")
    return errors


def _scope_errors(scope, workspace):
    if scope not in SCOPES:
        return [f"scope: '{scope}' is not a scope; use global or workspace"]
    if scope == "global" and workspace:
        return ["workspace: a global assignment covers every workspace; remove workspace, or use scope: workspace"]
    if scope == "workspace" and not workspace:
        return ["workspace: scope: workspace needs the workspace's name; give workspace, or use scope: global"]
    if scope == "workspace":
        error = naming.validate_workspace_name(workspace)
        if error:
            return ["workspace:" + error.removeprefix("name:")]
    return []


def _role_errors(role, state):
    if state not in STATES:
        return [f"state: '{state}' is not a state; use present or absent"]
    if role is None and state == "present":
        return [f"role: state: present needs a role; use one of {', '.join(ROLES)}"]
    if role is not None and role not in ROLES:
        return [f"role: '{role}' is not a role; use one of {', '.join(ROLES)}"]
    return []


def validate(params):
    """Module params -> (assignment, errors); every error starts with the field to fix."""
    scope = params.get("scope") or "workspace"
    state = params.get("state") or "present"
    subject = params.get("subject")
    errors = _subject_errors(subject) + _scope_errors(scope, params.get("workspace")) + _role_errors(
        params.get("role"), state)
    if errors:
        return None, errors
    return {
        "backend": params.get("backend") or "kubernetes",
        "namespace": params.get("namespace") or "workspaces",
        "role": params.get("role"),
        "subject": {"kind": subject.get("kind") or "user", "name": subject["name"]},
        "scope": scope,
        "workspace": params.get("workspace") if scope == "workspace" else None,
        "state": state,
    }, []


# --- assignments on one scope: {role: frozenset of (kind, name)} ----------------------------------------------------

def subject_key(subject):
    return subject["kind"], subject["name"]


def subject_label(key):
    return f"{key[0]}:{key[1]}"


def role_of(holders, key):
    """The subject's role on the scope (the stronger one if it was given two by hand), or None."""
    found = None
    for role, subjects in holders.items():
        if key in subjects:
            found = stronger(found, role)
    return found


def changed_holders(holders, key, role, state):
    """The scope's holders after the change: present puts the subject in `role` only, absent takes it out."""
    result = {name: frozenset(holders.get(name, ())) for name in ROLES}
    for name in ROLES:
        leaving = name != role if state == "present" else role in (None, name)
        if leaving:
            result[name] = result[name] - {key}
    if state == "present":
        result[role] = result[role] | {key}
    return result


def describe(holders, scope):
    """The assignments of one scope as workspace_info shows them, strongest role first."""
    return [
        {"role": role, "subject": {"kind": kind, "name": name}, "scope": scope}
        for role in ROLES for kind, name in sorted(holders.get(role, ()))
    ]
