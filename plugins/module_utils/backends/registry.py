# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The only place that names a backend: which one the connection options ask for, connected."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import client as docker_client
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker.backend import DockerBackend
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import client as k8s_client
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes.backend import KubernetesBackend
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.swarm.backend import SwarmBackend
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import MissingLibrary


def backend_class(params):
    """The backend's class, for what needs no connection (which options mean something to it)."""
    if params.get("backend") == "docker":
        return SwarmBackend if params.get("swarm_mode") else DockerBackend
    return KubernetesBackend


def get(params, timeout=None):
    """The connected backend; MissingLibrary or WorkspaceError when it cannot be reached.

    `timeout` is the longest a single engine call may take (lifecycle commands run within one).
    """
    cls = backend_class(params)
    if cls is KubernetesBackend and not k8s_client.HAS_KUBERNETES:
        raise MissingLibrary("kubernetes", k8s_client.KUBERNETES_IMPORT_ERROR)
    if cls is not KubernetesBackend and not docker_client.HAS_DOCKER:
        raise MissingLibrary("docker", docker_client.DOCKER_IMPORT_ERROR)
    return cls(params, timeout)
