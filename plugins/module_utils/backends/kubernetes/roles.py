# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Workspace roles on a Kubernetes API server, as RBAC objects.

A scope (one workspace, or the whole namespace for global roles) has four
permission objects (Roles, or the shared ClusterRoles for global) and four
RoleBindings with fixed names, created with the scope's first assignment and
kept, possibly empty, until the workspace is terminated. Permission objects
are sent by server-side apply only when they differ. A binding's subject list
is one atomic field that owners and other controllers may change too, so it is
written guarded by its resourceVersion (a new binding by create) and retried
on conflict: no concurrent assignment is lost. Nothing is sent when nothing
differs, and check mode sends nothing at all.
"""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import compare, rbac
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming, wait
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import roles


def _listed(cluster, kind, namespace, workspace):
    """The scope's objects of one kind, by role."""
    items = cluster.list(kind, namespace, rbac.label_selector(workspace))
    return {item["metadata"]["labels"][rbac.LABEL_ROLE]: item for item in items}


def _holders(bindings):
    """{role: subject keys} of the scope's bindings; subjects of other kinds are not assignments."""
    return {role: frozenset(filter(None, map(rbac.key_of_rbac_subject, binding.get("subjects") or ())))
            for role, binding in bindings.items()}


def workspace_exists(cluster, namespace, workspace):
    statefulset = cluster.get("StatefulSet", namespace, workspace)
    labels = ((statefulset or {}).get("metadata") or {}).get("labels") or {}
    return labels.get(naming.LABEL_WORKSPACE) == workspace


def assignments(cluster, namespace, workspace=None):
    """A workspace's assignments, direct and global (only the global ones without a workspace)."""
    found = []
    if workspace is not None:
        direct = _listed(cluster, "RoleBinding", namespace, workspace)
        found += roles.describe(_holders(direct), "workspace")
    found += roles.describe(_holders(_listed(cluster, "RoleBinding", namespace, None)), "global")
    return found


def remove_workspace_bindings(cluster, namespace, workspace, dry_run):
    """Delete a workspace's RoleBindings, then its Roles; the actions taken (or that would be)."""
    actions = []
    for kind in ("RoleBinding", "Role"):
        for role, obj in _listed(cluster, kind, namespace, workspace).items():
            cluster.delete(kind, namespace, obj["metadata"]["name"], dry_run=dry_run)
            actions.append(f"delete {kind}/{rbac.object_name(role, workspace)}")
    return actions


class RoleAssignment:
    """One assignment (or its removal) on one scope of a namespace."""

    def __init__(self, cluster, assignment, check_mode):
        self.cluster = cluster
        self.assignment = assignment
        self.check_mode = check_mode
        self.namespace = assignment["namespace"]
        self.workspace = assignment["workspace"]
        self.key = roles.subject_key(assignment["subject"])
        self.actions = []

    def converge(self):
        """Apply the assignment; (role before, role after, the scope's holders after)."""
        present = self.assignment["state"] == "present"
        # removing from a workspace that is gone is done already (its bindings went with it)
        if present and self.workspace is not None and not workspace_exists(
                self.cluster, self.namespace, self.workspace):
            raise WorkspaceError(
                f"workspace: '{self.workspace}' does not exist in namespace '{self.namespace}'; create it "
                f"with atelier.workspaces.workspace first, or check workspace and namespace")
        if present:
            self._ensure_namespace()
            self._ensure_permission_objects()

        def attempt():
            bindings = _listed(self.cluster, "RoleBinding", self.namespace, self.workspace)
            holders = _holders(bindings)
            if not present and not bindings:
                return None, None, holders  # nothing was ever assigned on this scope
            wanted = roles.changed_holders(holders, self.key, self.assignment["role"], self.assignment["state"])
            if not self._write_bindings(bindings, holders, wanted, create_missing=present):
                return wait.CONFLICT
            return roles.role_of(holders, self.key), roles.role_of(wanted, self.key), wanted

        return wait.retry_on_conflict(attempt, "subject: the role bindings")

    def _ensure_namespace(self):
        if self.workspace is not None or self.cluster.get("Namespace", None, self.namespace):
            return
        self.actions.append(f"create Namespace/{self.namespace}")
        if not self.check_mode:
            self.cluster.ensure_namespace(self.namespace)

    def _ensure_permission_objects(self):
        if self.workspace is None:
            kind, namespace = "ClusterRole", None
            desired = {role: rbac.cluster_role(role) for role in roles.ROLES}
        else:
            kind, namespace = "Role", self.namespace
            desired = {role: rbac.workspace_role(role, namespace, self.workspace) for role in roles.ROLES}
        existing = _listed(self.cluster, kind, namespace, self.workspace)
        for role, obj in desired.items():
            current = existing.get(role)
            difference = compare.first_difference(obj, current) if current is not None else "new"
            if difference is None:
                continue
            name = obj["metadata"]["name"]
            self.actions.append(f"create {kind}/{name}" if current is None else f"update {kind}/{name} ({difference})")
            if not self.check_mode:
                self.cluster.apply(obj)

    def _write_bindings(self, bindings, holders, wanted, create_missing):
        """Send the bindings that differ; False when one changed since it was read (read again and retry)."""
        changes = [role for role in roles.ROLES
                   if (role in bindings and holders[role] != wanted[role]) or (role not in bindings and create_missing)]
        changes.sort(key=lambda role: self.key in wanted[role])  # take the old role away before giving the new one
        for role in changes:
            current = bindings.get(role)
            if not self.check_mode and not self._send_binding(role, current, wanted[role]):
                return False
            self.actions.append(self._binding_action(role, current, wanted[role]))
        return True

    def _binding_action(self, role, current, after):
        name = f"RoleBinding/{rbac.object_name(role, self.workspace)}"
        who = roles.subject_label(self.key)
        if current is None:
            return f"create {name} with {who}" if self.key in after else f"create {name}"
        # only the assigned subject's membership differs between a binding's holders before and after
        return f"add {who} to {name}" if self.key in after else f"remove {who} from {name}"

    def _send_binding(self, role, current, subjects):
        kept = [s for s in (current or {}).get("subjects") or () if rbac.key_of_rbac_subject(s) is None]
        body = rbac.role_binding(role, self.namespace, subjects, self.workspace, kept)
        if current is None:
            return self.cluster.create(body, conflict=False) is not False
        # the resourceVersion makes the apply fail with a conflict if somebody changed the subjects since the read
        body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return self.cluster.apply(body, conflict=False) is not False
