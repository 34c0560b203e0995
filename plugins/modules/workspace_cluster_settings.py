#!/usr/bin/python
# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: workspace_cluster_settings
short_description: Cluster-wide defaults and limits of development workspaces
version_added: 0.1.0
description:
  - Changes the cluster settings that M(atelier.workspaces.workspace) reads on every run - the control store
    document C(cluster-settings), on Kubernetes the ConfigMap C(atelier-cluster-settings) in O(control_namespace),
    on Docker a document in the control volume on the engine's host.
  - Only the settings the task gives change; a setting given an empty value is removed; the others stay as they
    are, so several tasks (or roles) can each keep their own.
  - The settings as they would be after the change are checked before anything is written; an unknown or invalid
    setting fails the task with its name and changes nothing.
  - The roles C(atelier.workspaces.docker_host) and C(atelier.workspaces.k8s_cluster) write the settings of a
    host or cluster they prepare; this module is for a Docker host set up otherwise, or a single setting.
author:
  - atelier.workspaces maintainers (@atelier-workspaces)
extends_documentation_fragment:
  - atelier.workspaces.docker_connection
  - atelier.workspaces.kubernetes_connection
  - atelier.workspaces.control_store
attributes:
  check_mode:
    support: full
    description: Reports whether the settings would change; writes nothing.
  diff_mode:
    support: full
    description: The settings before and after.
options:
  settings:
    description:
      - Setting name to value, under the names self-hosted clusters use. C(WORKSPACE_INGRESS_NAME),
        C(WORKSPACE_INGRESS_TYPE), C(WORKSPACE_INGRESS_PATH_TYPE), C(WORKSPACE_INGRESS_HOST) and
        C(WORKSPACE_INGRESS_PATH_PREFIX) give every workspace a path in one shared route (Kubernetes);
        C(WORKSPACE_AUTH_URL) sends every nginx-class route through the workspace gateway of
        P(atelier.workspaces.k8s_cluster#role).
        C(WORKSPACE_STORAGE_CLASS), C(WORKSPACE_PVC_NAME), C(WORKSPACE_SHARED_PATH) and
        C(WORKSPACE_PVC_SUBPATH_PREFIX) choose where workspace data lives. A task's own
        O(atelier.workspaces.workspace#module:ingress) and O(atelier.workspaces.workspace#module:storage) win over
        them.
      - C(WORKSPACE_ALLOWED_HOST_PATHS) lists the host directories under which a workspace's
        O(atelier.workspaces.workspace#module:container_config) volumes may bind-mount a host path, as a list or as
        absolute directories separated by C(:). Without it no host directory is mounted; no task can widen it.
        The host's root, C(/etc), C(/proc), C(/sys), C(/dev), C(/run), C(/var/run), C(/var/lib/docker),
        C(/var/lib/containerd), C(/var/lib/kubelet), C(/root), C(/boot) and every C(*.sock) are never mounted,
        whatever it lists.
      - Values are strings; an empty value (V(""), V([]) or V(null)) removes the setting.
    type: dict
    required: true
  backend:
    description: The engine whose settings these are.
    type: str
    default: kubernetes
    choices: [kubernetes, docker]
"""

EXAMPLES = r"""
- name: Let workspaces on this Docker host mount directories under /srv/datasets
  atelier.workspaces.workspace_cluster_settings:
    backend: docker
    settings:
      WORKSPACE_ALLOWED_HOST_PATHS: [/srv/datasets]

- name: No host directory any more
  atelier.workspaces.workspace_cluster_settings:
    backend: docker
    settings:
      WORKSPACE_ALLOWED_HOST_PATHS: []

- name: A shared ingress for the cluster's workspaces
  atelier.workspaces.workspace_cluster_settings:
    control_namespace: atelier-system
    settings:
      WORKSPACE_INGRESS_NAME: workspaces
      WORKSPACE_INGRESS_HOST: ide.example.com
"""

RETURN = r"""
settings:
  description: Every cluster setting after the change (or, in check mode, as it would be).
  returned: always
  type: dict
  sample:
    WORKSPACE_ALLOWED_HOST_PATHS: /srv/datasets:/srv/projects
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.atelier.workspaces.plugins.module_utils.args import cluster_settings as settings_args
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import cluster_settings as settings_task


def main():
    module = AnsibleModule(argument_spec=settings_args.argument_spec(), supports_check_mode=True)
    settings_task.run(module)


if __name__ == "__main__":
    main()
