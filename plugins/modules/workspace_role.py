#!/usr/bin/python
# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: workspace_role
short_description: Give users and groups a role on one workspace or on every workspace
version_added: 0.1.0
description:
  - Assigns a role - V(owner), V(admin), V(editor) or V(viewer) - to a user or a group, on one workspace or
    globally (every workspace of the namespace, including workspaces created later), or removes it.
  - A subject holds at most one role per scope; assigning another role replaces the old one on that scope. A
    global role and a workspace role of the same subject add up.
  - What each role may do - see status and logs, open the workspace (exec or port-forward into its pod, that is
    reach the IDE), start, stop and restart it, change its config, manage its roles, delete it - is the
    permission table in the collection's C(docs/roles.md).
  - On Kubernetes the roles are enforced by RBAC. A workspace role is a Role C(atelier-workspace-<workspace>-<role>)
    whose rules name only that workspace's objects (StatefulSet C(<workspace>), pod C(<workspace>-0), Service,
    claim C(<workspace>-data), ConfigMap C(<workspace>-hooks)); a global role is a ClusterRole
    C(atelier-workspaces-<role>) bound in O(namespace) only. Each scope has one RoleBinding per role with the same
    name as its role; the subjects are its assignments. Owners and admins manage roles by editing those bindings,
    and RBAC's escalation check keeps an admin from making owners.
  - No role grants access to any Secret, nor write access to a workspace's pod template, Service or Ingress,
    because those would reach other workspaces' Secrets, data or IDE. Image, resources and environment change
    through M(atelier.workspaces.workspace).
  - On Docker roles are advisory. Docker has no authorisation layer, so anybody who can reach the engine can do
    everything. The assignments are stored with the engine's host (document C(roles) of the control store) and
    are exported read-only into the workspace, for the IDE in front of it to enforce.
  - Terminating a workspace removes its assignments.
author:
  - atelier.workspaces maintainers (@atelier-workspaces)
extends_documentation_fragment:
  - atelier.workspaces.docker_connection
  - atelier.workspaces.kubernetes_connection
  - atelier.workspaces.control_store
attributes:
  check_mode:
    support: full
    description: Predicts whether the task changes anything, and RV(actions), and sends no write.
  diff_mode:
    support: full
    description: Shows the subject's role on the scope before and after.
options:
  backend:
    description: The engine the workspaces run on.
    type: str
    default: kubernetes
    choices: [kubernetes, docker]
  namespace:
    description:
      - Kubernetes namespace of the workspaces; global roles cover every workspace in it.
      - Created for a global assignment when missing.
    type: str
    default: workspaces
  role:
    description:
      - The role to give. Required with O(state=present).
      - With O(state=absent), the subject loses the role only if it holds this one; left out, it loses whichever
        role it holds on the scope.
    type: str
    choices: [owner, admin, editor, viewer]
  subject:
    description:
      - "Who gets the role, as a dict with C(kind) and C(name), for example C({kind: group, name: data-team})."
      - C(kind) is V(user) (the default) or V(group) - a user, or a group of users, as the API server (or the IDE
        in front, on Docker) authenticates them.
      - C(name) is the user or group name, exactly as authenticated, for example V(alice@example.com). Kubernetes
        system identities (names starting with C(system:)) are refused.
    type: dict
    required: true
  scope:
    description:
      - V(workspace) gives the role on O(workspace) only; V(global) on every workspace of the namespace (on
        Docker, of the engine), including workspaces created later.
    type: str
    default: workspace
    choices: [global, workspace]
  workspace:
    description:
      - The workspace, for O(scope=workspace); it must exist for O(state=present).
      - Must be left out for O(scope=global).
      - Removing (O(state=absent)) from a workspace that no longer exists changes nothing.
    type: str
  state:
    description: V(present) assigns the role (replacing the subject's former role on the scope); V(absent) removes it.
    type: str
    default: present
    choices: [present, absent]
notes:
  - On Kubernetes the assignments are the RBAC objects in O(namespace) themselves; O(control_namespace) is only
    where other cluster-wide documents live.
  - On Kubernetes the identity running the module needs to hold every permission it grants (or the C(escalate) and
    C(bind) verbs), as RBAC requires; C(cluster-admin) does.
  - On Docker, changes from parallel tasks against one engine are not merged; assign roles there from one task at
    a time.
seealso:
  - module: atelier.workspaces.workspace
  - module: atelier.workspaces.workspace_info
"""

EXAMPLES = r"""
- name: Alice owns her workspace
  atelier.workspaces.workspace_role:
    workspace: alice-dev
    role: owner
    subject: {kind: user, name: alice@example.com}

- name: The data team may look at every workspace, including future ones
  atelier.workspaces.workspace_role:
    scope: global
    role: viewer
    subject: {kind: group, name: data-team}

- name: Bob edits instead of viewing (his former role on the workspace is replaced)
  atelier.workspaces.workspace_role:
    workspace: alice-dev
    role: editor
    subject: {name: bob@example.com}

- name: Bob no longer has any role on the workspace
  atelier.workspaces.workspace_role:
    workspace: alice-dev
    subject: {name: bob@example.com}
    state: absent

- name: On Docker the same, stored with the engine's host and advisory
  atelier.workspaces.workspace_role:
    backend: docker
    workspace: demo
    role: viewer
    subject: {name: carol}
"""

RETURN = r"""
actions:
  description:
    - What was done, or would be in check mode, for example V(create Role/atelier-workspace-alice-dev-owner),
      V(remove user:bob@example.com from RoleBinding/atelier-workspace-alice-dev-viewer) or
      V(add user:bob@example.com to RoleBinding/atelier-workspace-alice-dev-editor).
  returned: always
  type: list
  elements: str
assignment:
  description: The subject's role on the scope after the task; null when it holds none.
  returned: always
  type: dict
  contains:
    role:
      description: The role.
      type: str
    subject:
      description: The subject, with C(kind) and C(name).
      type: dict
    scope:
      description: V(global) or V(workspace).
      type: str
    workspace:
      description: The workspace; null for a global role.
      type: str
assignments:
  description: Every assignment on the task's scope after the task, strongest role first.
  returned: always
  type: list
  elements: dict
  contains:
    role:
      description: The role.
      type: str
    subject:
      description: The subject, with C(kind) and C(name).
      type: dict
    scope:
      description: V(global) or V(workspace).
      type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.atelier.workspaces.plugins.module_utils.args import role as role_args
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import role as role_task


def main():
    module = AnsibleModule(argument_spec=role_args.argument_spec(), supports_check_mode=True)
    role_task.run(module)


if __name__ == "__main__":
    main()
