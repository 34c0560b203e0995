#!/usr/bin/python
# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: workspace_info
short_description: List development workspaces or get one, with status, URL and resources
version_added: 0.1.0
description:
  - Reads the workspaces managed by M(atelier.workspaces.workspace), found by their labels, and reports their
    status, URL, storage and resources.
  - For a failed workspace it adds what explains the failure - on Docker the last lines of its log, on Kubernetes
    the events of its pod.
  - On Kubernetes the status comes from the StatefulSet and its pod - Creating, Starting, Running, Stopping,
    Stopped, or Failed (unschedulable, image not pullable, crash loop).
author:
  - atelier.workspaces maintainers (@atelier-workspaces)
extends_documentation_fragment:
  - atelier.workspaces.docker_connection
  - atelier.workspaces.kubernetes_connection
  - atelier.workspaces.control_store
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Reads only.
options:
  name:
    description: Only this workspace; all workspaces when left out.
    type: str
  backend:
    description: The engine to read.
    type: str
    default: kubernetes
    choices: [kubernetes, docker]
  namespace:
    description: Kubernetes namespace to read; every namespace when left out.
    type: str
  labels:
    description:
      - Only workspaces that carry all of these labels (the container or service on Docker, the StatefulSet on
        Kubernetes).
    type: dict
    default: {}
  include_archived:
    description:
      - Also list archived workspaces (see O(atelier.workspaces.workspace#module:state=archived)). A workspace asked
        for by O(name) is returned either way.
    type: bool
    default: false
  show_access:
    description:
      - Also return each workspace's access secret and the URL that opens its IDE with it, as RV(workspaces[].access).
      - The secret is returned only when this is true; register the result with C(no_log) where it should not be
        shown.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Every workspace on the local Docker engine
  atelier.workspaces.workspace_info:
    backend: docker
  register: all_workspaces

- name: One workspace
  atelier.workspaces.workspace_info:
    name: alice-dev
    backend: docker
  register: alice

- name: Every workspace in a Kubernetes namespace
  atelier.workspaces.workspace_info:
    backend: kubernetes
    namespace: workspaces
  register: team
"""

RETURN = r"""
workspaces:
  description: The workspaces found, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Workspace name.
      type: str
    status:
      description: One of Creating, Starting, Running, Stopping, Stopped, Failed.
      type: str
    namespace:
      description: Kubernetes namespace.
      type: str
      returned: with O(backend=kubernetes)
    node:
      description: Node the workspace's pod runs on.
      type: str
      returned: with O(backend=kubernetes)
    reason:
      description: Why a workspace whose pod the cluster refused to create (Pod Security admission, a quota) is Failed.
      type: str
      returned: with O(backend=kubernetes) when the pod was refused
    events:
      description:
        - Events of a failed workspace (type, reason, message) - of its pod, or of its StatefulSet when the pod was
          refused.
      type: list
      elements: dict
      returned: with O(backend=kubernetes) when status is Failed
    url:
      description: Where users open the workspace.
      type: str
    image:
      description: Container image.
      type: str
    storage:
      description: The data mount (type, source, path).
      type: dict
    resources:
      description: Limits in force (cpu_millis, memory_bytes).
      type: dict
    cpu:
      description: CPU limit as given (column of RV(table)).
      type: str
    memory:
      description: Memory limit as given (column of RV(table)).
      type: str
    gpu:
      description: Number of GPUs (column of RV(table)).
      type: int
    accelerator:
      description: GPU model (column of RV(table)).
      type: str
    ttl_seconds:
      description:
        - The idle limit after which M(atelier.workspaces.workspace_reaper) stops it, when auto termination is on.
      type: int
    configuration:
      description:
        - The options the workspace was given, in the option names of M(atelier.workspaces.workspace), so they can be
          copied back into a task. Secrets are listed by C(key) and C(env_var) only.
        - Null for a workspace that records none (created before this was recorded, or by other means).
      type: dict
    archived:
      description: Whether the workspace is archived.
      type: bool
    archived_at:
      description: When it was archived (UTC, RFC 3339), or null.
      type: str
    auth:
      description: V(token) when the IDE requires the workspace's access secret, V(none) when it asks for nothing.
      type: str
    access:
      description: The workspace's access secret.
      type: dict
      returned: with O(show_access=true)
      contains:
        mode:
          description: V(token) or V(none), as RV(workspaces[].auth).
          type: str
        token:
          description: The access secret, or null with O(atelier.workspaces.workspace#module:auth=none).
          type: str
        url:
          description: RV(workspaces[].url) with the secret as its C(token) query parameter, which opens the IDE.
          type: str
    container:
      description: The container the workspace runs in (on Swarm, the running task's; null while stopped).
      type: str
      returned: with O(backend=docker)
    log_tail:
      description: Last log lines of a failed workspace.
      type: str
      returned: with O(backend=docker) when status is Failed
    env:
      description:
        - The env the workspace runs with, one entry per variable with C(name), C(value), C(source) and C(secret);
          secret values are shown as C(********).
        - C(source) is where the value came from when the workspace was last started - C(explicit), C(secret),
          C(pattern), C(rule:<env>), C(allow-list) or C(system).
      type: list
      elements: dict
    idle_seconds:
      description:
        - Seconds since the later of the workspace's start and its last reported activity; null when it is not
          running. See M(atelier.workspaces.workspace_reaper) for the activity signal.
      type: int
    max_idle_seconds:
      description: The idle limit of its termination policy, when auto termination is on.
      type: int
    stopped_reason:
      description: Why M(atelier.workspaces.workspace_reaper) stopped it, while it stays stopped.
      type: str
      returned: when stopped for being idle
    roles:
      description:
        - Role assignments that apply to the workspace, each with C(role), C(subject) (C(kind), C(name)) and
          C(scope) (C(workspace) or C(global)); see M(atelier.workspaces.workspace_role).
      type: list
      elements: dict
    env_stale:
      description:
        - Whether the env policy now gives the workspace a different env than the one it runs with; a restart
          (or M(atelier.workspaces.workspace_env_policy) with C(apply_to_existing=restart)) applies it.
      type: bool
table:
  description:
    - The workspaces as text rows under a header, with the columns NAME, NAMESPACE, STATUS, CPU, MEMORY, GPU,
      ACCELERATOR, TTL_SECONDS and URL (C(-) where a column has no value); C(playbooks/list.yml) prints it.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.atelier.workspaces.plugins.module_utils.args import info as info_args
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import info as workspace_info_task


def main():
    module = AnsibleModule(argument_spec=info_args.argument_spec(), supports_check_mode=True)
    workspace_info_task.run(module)


if __name__ == "__main__":
    main()
