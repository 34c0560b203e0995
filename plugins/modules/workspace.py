#!/usr/bin/python
# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: workspace
short_description: Create, update, stop, start, restart and remove development workspaces
version_added: 0.1.0
description:
  - Manages one self-hosted development workspace - an isolated container with persistent storage,
    environment variables, resources and an access URL - idempotently.
  - On Docker a workspace is a container C(atelier-<name>), a named volume C(atelier-<name>-data) for its data
    (or a sub-directory of one shared host directory) and the user-defined network C(atelier-workspaces).
    Every object carries the labels C(app.kubernetes.io/managed-by=atelier.workspaces) and
    C(workspaces.atelier.dev/name=<name>) and is found by them.
  - Settings the engine can change on a running container (CPU and memory limits) are updated in place;
    any other change replaces the container on the same data. A change of the environment therefore restarts
    the workspace deliberately, and the result says so in RV(actions).
  - Data is only deleted when O(state=absent) is combined with O(purge=true).
  - On Kubernetes a workspace is a StatefulSet with one replica when running and none when stopped (stable
    pod C(<name>-0)), a Service, a Secret C(<name>-env) with its environment (read with C(envFrom); its hash in the
    pod template restarts the workspace deliberately when it changes) and a PersistentVolumeClaim C(<name>-data)
    that is kept when the workspace is removed. Objects are sent by server-side apply, only when they differ;
    check mode uses the API server's dry run.
author:
  - atelier.workspaces maintainers (@atelier-workspaces)
extends_documentation_fragment:
  - atelier.workspaces.docker_connection
  - atelier.workspaces.kubernetes_connection
  - atelier.workspaces.control_store
attributes:
  check_mode:
    support: full
    description: Predicts whether the task changes anything, and RV(actions), and changes nothing.
  diff_mode:
    support: full
    description: Shows the workspace's settings before and after, with secret values redacted.
options:
  name:
    description:
      - Name of the workspace; lower-case letters, digits and C(-), starting with a letter, at most 52 characters.
      - Required unless O(workspaces) is given.
    type: str
  workspaces:
    description:
      - Several workspaces in one task, reconciled over one engine connection, so a large fleet does not cost
        one module start-up per workspace.
      - Each entry takes the options of this module except O(backend) and the connection options, and needs a
        C(name). Options set on the task are the defaults of every entry; an entry's own value wins (a dict option
        such as O(resources) is replaced whole).
      - Every entry is checked before any is applied. The result lists them in RV(workspaces).
    type: list
    elements: dict
  namespace:
    description: Kubernetes namespace of the workspace; created when missing.
    type: str
    default: workspaces
  accelerator_label:
    description: Node label that O(resources.accelerator) selects on (Kubernetes).
    type: str
    default: nvidia.com/gpu.product
  state:
    description:
      - V(present) makes sure the workspace exists; a new one is started, an existing stopped one stays stopped.
      - V(running) and V(stopped) also set whether it runs. V(restarted) always restarts it.
      - V(absent) removes the container and keeps the data unless O(purge=true).
    type: str
    default: present
    choices: [present, running, stopped, restarted, absent]
  backend:
    description: The engine that runs the workspace.
    type: str
    default: kubernetes
    choices: [kubernetes, docker]
  image:
    description:
      - Container image of the workspace. Defaults to C(container_config.image), then to C(atelier/workspace:local).
    type: str
  command:
    description: Command that replaces the image's default command.
    type: list
    elements: str
  user:
    description: User (and optionally C(:group)) the workspace runs as; non-root by default.
    type: str
    default: '1000'
  env:
    description: Environment variables of the workspace. They win over every other source.
    type: dict
    default: {}
  secrets:
    description:
      - Secret values exposed as environment variables. Values are never returned or shown in diffs.
    type: list
    elements: dict
    default: []
    suboptions:
      key:
        description: Name of the secret.
        type: str
      env_var:
        description: Environment variable that receives the value; defaults to O(secrets[].key).
        type: str
      value:
        description: The secret value owned by this workspace.
        type: str
  resources:
    description: CPU, memory and GPUs, in the Kubernetes notation on both backends.
    type: dict
    default: {}
    suboptions:
      cpu:
        description: CPU limit, for example V(2), V(0.5) or V(500m).
        type: str
      memory:
        description: Memory limit, for example V(512Mi) or V(4Gi).
        type: str
      gpu:
        description: Number of GPUs (Docker device requests).
        type: int
      accelerator:
        description: GPU model, used for scheduling on Kubernetes.
        type: str
  storage:
    description:
      - Where the workspace keeps its data. By default each workspace has its own claim (Kubernetes) or named
        volume (Docker); O(storage.shared_claim) or O(storage.shared_path) put it in a sub-directory of one
        shared location instead.
    type: dict
    default: {}
    suboptions:
      size:
        description: Size of the workspace's own claim (Kubernetes).
        type: str
        default: 10Gi
      class:
        description: Storage class of the workspace's own claim; the cluster's default class when left out.
        type: str
      shared_claim:
        description:
          - An existing claim shared by workspaces (Kubernetes); this workspace mounts its sub-path
            O(storage.subpath_prefix)/O(name). It wins over O(storage.class), with a warning.
        type: str
      shared_path:
        description:
          - A host directory shared by workspaces (Docker); this workspace uses its sub-directory
            O(storage.subpath_prefix)/O(name).
        type: path
      subpath_prefix:
        description: Prefix of each workspace's sub-directory under O(storage.shared_path).
        type: str
        default: workspaces
  user_code_path:
    description: Directory in the container that holds the data; exported as E(USER_CODE_PATH).
    type: str
    default: /home/workspace/code
  port:
    description: Port of the IDE inside the container.
    type: int
    default: 8888
  publish:
    description: How the IDE port is published on the Docker host.
    type: dict
    default: {}
    suboptions:
      bind_address:
        description: Host address to publish on; the default keeps the workspace local to the host.
        type: str
        default: 127.0.0.1
      host_port:
        description: Host port; a free one is chosen when left out.
        type: int
  public_url:
    description: URL users open, when a proxy in front publishes the workspace; returned as RV(workspace.url).
    type: str
  ingress:
    description:
      - How users reach the workspace from outside the cluster (Kubernetes). Without it the workspace is reachable
        through its Service only.
      - Each workspace gets the path O(ingress.path_prefix)/O(name), in an Ingress (or Istio VirtualService) of its
        own, or in the shared one named O(ingress.name). Changes to a shared route are read-modify-write guarded by
        C(resourceVersion) and retried, so workspaces created at the same time do not lose each other's paths;
        removing a workspace takes out only its own path, and the last one out removes the shared route.
    type: dict
    suboptions:
      type:
        description: V(nginx) and V(alb) write an Ingress with that class; V(istio) writes a VirtualService.
        type: str
        default: nginx
        choices: [nginx, alb, istio]
      name:
        description: Name of a shared Ingress or VirtualService (the seed's C(WORKSPACE_INGRESS_NAME)).
        type: str
      host:
        description: Host name of the route; any host when left out.
        type: str
      path_prefix:
        description: Prefix of the workspace's path.
        type: str
        default: /
      path_type:
        description: Ingress path type.
        type: str
        default: ImplementationSpecific
        choices: [ImplementationSpecific, Prefix]
      gateway:
        description: Istio gateway of the VirtualService.
        type: str
        default: istio-system/ingressgateway
  labels:
    description: Extra labels for the workspace's container.
    type: dict
    default: {}
  container_config:
    description:
      - The container configuration in the Mage Pro form, a YAML string or a dict.
      - For Docker the keys C(image), C(volumes) (C(source:/target[:ro]) strings), C(environment) and
        C(public_url) are read; any other key is an error. Module options win over it.
    type: raw
  purge:
    description: With O(state=absent), also delete the workspace's data volume.
    type: bool
    default: false
  wait:
    description: Wait until the workspace runs.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for O(wait).
    type: int
    default: 120
  node_selector:
    description: Pod C(nodeSelector) (Kubernetes only; an error with O(backend=docker)).
    type: dict
  affinity:
    description: Pod C(affinity) (Kubernetes only; an error with O(backend=docker)).
    type: dict
  tolerations:
    description: Pod C(tolerations); each needs a C(key), or C(operator=Exists) (Kubernetes only).
    type: list
    elements: dict
  runtime_class_name:
    description: Pod C(runtimeClassName), for example a sysbox or kata class (Kubernetes only).
    type: str
  host_users:
    description: Pod C(hostUsers); V(false) runs the workspace in a user namespace (Kubernetes only).
    type: bool
  image_pull_secrets:
    description: Names of Secrets for pulling the image (Kubernetes only).
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: A workspace on the local Docker engine
  atelier.workspaces.workspace:
    name: alice-dev
    backend: docker
    resources:
      cpu: "2"
      memory: 4Gi
    env:
      PROJECT: analytics
    secrets:
      - key: github_token
        env_var: GITHUB_TOKEN
        value: "{{ vault_github_token }}"
  register: alice

- name: Show where to open it
  ansible.builtin.debug:
    msg: "{{ alice.workspace.url }}"

- name: Stop it for the night; the data stays
  atelier.workspaces.workspace:
    name: alice-dev
    backend: docker
    state: stopped

- name: Remove it, data included
  atelier.workspaces.workspace:
    name: alice-dev
    backend: docker
    state: absent
    purge: true
"""

RETURN = r"""
actions:
  description: What was done (or, in check mode, would be done), in order.
  returned: when O(workspaces) is not given
  type: list
  elements: str
  sample: [create volume, create container, start]
workspaces:
  description: With O(workspaces), one result per entry, in order, each with C(name), C(changed), C(actions),
    C(workspace) and C(env) as described here for a single workspace.
  returned: when O(workspaces) is given
  type: list
  elements: dict
workspace:
  description: The workspace as the engine reports it after the task; null when it does not exist.
  returned: when O(workspaces) is not given
  type: dict
  contains:
    name:
      description: Workspace name.
      type: str
    status:
      description: One of Running, Starting, Stopped, Failed.
      type: str
    url:
      description: Where users open the workspace.
      type: str
    container:
      description: Container name.
      type: str
    storage:
      description: The data mount (type, source, path).
      type: dict
    resources:
      description: Limits in force (cpu_millis, memory_bytes).
      type: dict
    config_hash:
      description: Hash of the effective environment; a new value means the workspace was restarted for it.
      type: str
env:
  description: The effective environment with the source of every value; secret values are redacted.
  returned: when O(workspaces) is not given
  type: list
  elements: dict
  sample: [{name: USER_CODE_PATH, value: /home/workspace/code, source: system, secret: false}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.atelier.workspaces.plugins.module_utils import spec, workspace_task


def main():
    module = AnsibleModule(argument_spec=spec.argument_spec(), supports_check_mode=True, **spec.MODULE_RULES)
    workspace_task.run(module)


if __name__ == "__main__":
    main()
