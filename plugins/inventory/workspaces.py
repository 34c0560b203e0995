# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: workspaces
short_description: Development workspaces as inventory hosts
version_added: 0.1.0
description:
  - Makes each workspace managed by M(atelier.workspaces.workspace) an inventory host, so playbooks can run inside
    workspaces - on Docker through the C(community.docker.docker) connection, on Kubernetes through
    C(kubernetes.core.kubectl) into the pod C(<name>-0).
  - Workspaces are found by their labels. By default only running ones are listed.
  - The source is a YAML file whose name ends in C(workspaces.yml) or C(workspaces.yaml).
author:
  - atelier.workspaces maintainers (@atelier-workspaces)
extends_documentation_fragment:
  - constructed
options:
  plugin:
    description: The name of this plugin; it makes the file an inventory source of this plugin.
    required: true
    type: str
    choices: [atelier.workspaces.workspaces]
  backend:
    description: The engine whose workspaces become hosts.
    type: str
    default: docker
    choices: [docker, kubernetes]
  running_only:
    description: List only running workspaces; stopped ones cannot take tasks.
    type: bool
    default: true
  docker_host:
    description: Docker engine address.
    type: str
    env:
      - name: DOCKER_HOST
  tls_verify:
    description: Verify the Docker engine's TLS certificate.
    type: bool
    env:
      - name: DOCKER_TLS_VERIFY
  cert_path:
    description: Directory with C(ca.pem), C(cert.pem) and C(key.pem) for the Docker engine.
    type: path
    env:
      - name: DOCKER_CERT_PATH
  swarm_mode:
    description:
      - The Docker engine is a Swarm manager and the workspaces are services; each host is the container of the
        service's running task.
    type: bool
    default: false
    env:
      - name: DOCKER_SWARM_MODE
  kubeconfig:
    description: Path of the kubeconfig for O(backend=kubernetes).
    type: path
    env:
      - name: K8S_AUTH_KUBECONFIG
  context:
    description: Kubeconfig context for O(backend=kubernetes).
    type: str
    env:
      - name: K8S_AUTH_CONTEXT
  namespace:
    description: Kubernetes namespace to list; every namespace when left out.
    type: str
"""

EXAMPLES = r"""
# workspaces.yml
plugin: atelier.workspaces.workspaces
backend: docker
keyed_groups:
  - key: workspace_status
    prefix: status

# ansible -i workspaces.yml all -m ansible.builtin.command -a 'git -C ~/code status'
"""

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable

from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import hosts as workspace_hosts

GROUP = "atelier_workspaces"


class InventoryModule(BaseInventoryPlugin, Constructable):
    NAME = "atelier.workspaces.workspaces"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("workspaces.yml", "workspaces.yaml"))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        options = {name: self.get_option(name) for name in (
            "backend", "running_only", "docker_host", "tls_verify", "cert_path", "swarm_mode", "kubeconfig", "context",
            "namespace")}
        try:
            hosts = workspace_hosts.hosts(options)
        except WorkspaceError as error:
            raise AnsibleParserError(f"atelier.workspaces.workspaces: {error}") from None
        self.inventory.add_group(GROUP)
        strict = self.get_option("strict")
        for host in hosts:
            self.inventory.add_host(host["name"], group=GROUP)
            for key, value in host["vars"].items():
                self.inventory.set_variable(host["name"], key, value)
            self._set_composite_vars(self.get_option("compose"), host["vars"], host["name"], strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), host["vars"], host["name"], strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), host["vars"], host["name"],
                                           strict=strict)
