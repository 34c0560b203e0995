# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workspace roles as RBAC objects (pure, no I/O).

On Kubernetes each action is a set of RBAC rules. A workspace-scoped role is a
namespaced Role whose rules name that workspace's objects (``resourceNames``);
a global role is a ClusterRole with the same rules unnarrowed, bound in the
workspace namespace only. Each scope has one RoleBinding per role, with a fixed
name, so an owner or admin can manage the scope's roles by editing those
bindings; RBAC's escalation check stops anybody from binding a role whose
permissions they do not hold (an admin cannot make owners).
"""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import roles

LABEL_ROLE = "workspaces.atelier.dev/role"
LABEL_SCOPE = "workspaces.atelier.dev/scope"
RBAC_GROUP = "rbac.authorization.k8s.io"
RBAC_API_VERSION = f"{RBAC_GROUP}/v1"
RBAC_SUBJECT_KINDS = {"user": "User", "group": "Group"}

READ = ("get", "list", "watch")
# (API group, resource, verbs, name of the workspace's object: a suffix via naming.object_name, or "pod").
# A global role drops the names. The pod template, Service and Ingress are deliberately never writable: whoever
# writes a pod template can mount any Secret or claim of the namespace, and whoever edits a Service selector or
# an Ingress backend can route to another workspace's IDE. No rule names Secrets at all.
ACTION_RULES = {
    "status": (
        ("apps", "statefulsets", READ, None),
        ("", "pods", READ, "pod"),
        ("", "pods/log", ("get",), "pod"),
        ("", "services", READ, None),
        ("", "persistentvolumeclaims", READ, "data"),
        ("", "configmaps", READ, "hooks"),
        ("networking.k8s.io", "ingresses", READ, None),
        ("networking.istio.io", "virtualservices", READ, None),
    ),
    "open": (
        # websocket clients authorise the upgrade as get, older clients as create
        ("", "pods/exec", ("get", "create"), "pod"),
        ("", "pods/portforward", ("get", "create"), "pod"),
    ),
    "lifecycle": (
        ("apps", "statefulsets/scale", ("get", "update", "patch"), None),
        ("", "pods", ("delete",), "pod"),  # a restart: the StatefulSet brings the pod back
    ),
    "configure": (
        ("", "configmaps", ("update", "patch"), "hooks"),
    ),
    "delete": (
        ("apps", "statefulsets", ("delete",), None),
        ("", "services", ("delete",), None),
        ("", "persistentvolumeclaims", ("delete",), "data"),
        ("", "configmaps", ("delete",), "hooks"),
        ("networking.k8s.io", "ingresses", ("delete",), None),
        ("networking.istio.io", "virtualservices", ("delete",), None),
    ),
}
# Only a global role can read events: their names are generated, so they cannot be narrowed to a workspace.
GLOBAL_ONLY_RULES = {"status": (("", "events", READ),)}
MANAGE_VERBS_WORKSPACE = ("get", "update", "patch")
MANAGE_VERBS_GLOBAL = ("get", "list", "watch", "update", "patch")
VERB_ORDER = ("get", "list", "watch", "create", "update", "patch", "delete")


def object_name(role, workspace=None):
    """Name of a scope's Role (or ClusterRole) and of the RoleBinding that binds it."""
    return f"atelier-workspaces-{role}" if workspace is None else f"atelier-workspace-{workspace}-{role}"


def labels(role, workspace=None):
    found = {naming.LABEL_MANAGED_BY: naming.MANAGED_BY, LABEL_ROLE: role,
             LABEL_SCOPE: "global" if workspace is None else "workspace"}
    if workspace is not None:
        found[naming.LABEL_WORKSPACE] = workspace
    return found


def label_selector(workspace=None):
    """Selector for the RBAC objects of one workspace, or of the global scope."""
    return f"{naming.label_selector(workspace)},{LABEL_SCOPE}={'global' if workspace is None else 'workspace'}"


def _resource_name(workspace, target):
    if target == "pod":
        return f"{workspace}-0"  # the StatefulSet's stable pod
    return naming.object_name(workspace, target)


def _action_rules(action, workspace):
    if action == "manage_roles":
        return []
    rules = [(group, resource, verbs, _resource_name(workspace, target) if workspace else None)
             for group, resource, verbs, target in ACTION_RULES[action]]
    if workspace is None:
        rules += [(group, resource, verbs, None) for group, resource, verbs in GLOBAL_ONLY_RULES.get(action, ())]
    return rules


def _manage_rules(role, workspace):
    if not roles.allows(role, "manage_roles"):
        return []
    if workspace is None:
        # the escalation check still limits which roles a global admin can bind
        return [(RBAC_GROUP, "rolebindings", MANAGE_VERBS_GLOBAL, None)]
    return [(RBAC_GROUP, "rolebindings", MANAGE_VERBS_WORKSPACE, object_name(granted, workspace))
            for granted in roles.GRANTS[role]]


def rules(role, workspace=None):
    """RBAC rules of a role: narrowed to one workspace's objects, or every workspace's (global)."""
    merged = {}
    collected = [rule for action in roles.ACTIONS if roles.allows(role, action)
                 for rule in _action_rules(action, workspace)]
    for group, resource, verbs, name in collected + _manage_rules(role, workspace):
        merged.setdefault((group, resource), {}).setdefault(name, set()).update(verbs)
    result = []
    for (group, resource), by_name in sorted(merged.items()):
        # one rule per resource and verb set, so the rules stay few and readable
        names_by_verbs = {}
        for name, verbs in by_name.items():
            names_by_verbs.setdefault(tuple(v for v in VERB_ORDER if v in verbs), []).append(name)
        for verbs, names in sorted(names_by_verbs.items()):
            rule = {"apiGroups": [group], "resources": [resource], "verbs": list(verbs)}
            if None not in names:
                rule["resourceNames"] = sorted(names)
            result.append(rule)
    return result


def cluster_role(role):
    """The ClusterRole holding a global role's permission set."""
    return {"apiVersion": RBAC_API_VERSION, "kind": "ClusterRole",
            "metadata": {"name": object_name(role), "labels": labels(role)}, "rules": rules(role)}


def workspace_role(role, namespace, workspace):
    """The namespaced Role of one workspace's role, narrowed to its objects."""
    return {"apiVersion": RBAC_API_VERSION, "kind": "Role",
            "metadata": {"name": object_name(role, workspace), "namespace": namespace,
                         "labels": labels(role, workspace)},
            "rules": rules(role, workspace)}


def rbac_subject(key):
    kind, name = key
    return {"kind": RBAC_SUBJECT_KINDS[kind], "apiGroup": RBAC_GROUP, "name": name}


def key_of_rbac_subject(subject):
    """(kind, name) of a User or Group subject; None for other kinds (kept as they are)."""
    for kind, rbac_kind in RBAC_SUBJECT_KINDS.items():
        if subject.get("kind") == rbac_kind:
            return kind, subject.get("name")
    return None


def role_binding(role, namespace, subjects, workspace=None, kept=()):
    """The scope's RoleBinding of one role with these subject keys (plus `kept`: subjects of other kinds)."""
    if workspace is None:
        role_ref = {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": object_name(role)}
    else:
        role_ref = {"apiGroup": RBAC_GROUP, "kind": "Role", "name": object_name(role, workspace)}
    return {
        "apiVersion": RBAC_API_VERSION,
        "kind": "RoleBinding",
        "metadata": {"name": object_name(role, workspace), "namespace": namespace, "labels": labels(role, workspace)},
        "roleRef": role_ref,
        # always sent, even empty: the list is atomic and an apply that leaves it out would not clear it
        "subjects": [rbac_subject(key) for key in sorted(subjects)] + list(kept),
    }
