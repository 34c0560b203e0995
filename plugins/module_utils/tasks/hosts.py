# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Workspaces as inventory hosts: how Ansible connects into each one."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import engine as docker_engine
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import engine as k8s_engine


def _workspace_vars(view):
    return {
        "workspace_name": view["name"],
        "workspace_backend": view["backend"],
        "workspace_status": view["status"],
        "workspace_url": view.get("url"),
        "workspace_namespace": view.get("namespace"),
    }


def docker_host_vars(view, docker_host=None):
    """Connection variables for a workspace container (pure)."""
    host_vars = {
        "ansible_connection": "community.docker.docker",
        "ansible_host": view["container"],
        **_workspace_vars(view),
    }
    if docker_host:
        host_vars["ansible_docker_host"] = docker_host
    return host_vars


def kubernetes_host_vars(view, kubeconfig=None, context=None):
    """Connection variables for a workspace pod (pure)."""
    host_vars = {
        "ansible_connection": "kubernetes.core.kubectl",
        "ansible_kubectl_pod": view["pod"],
        "ansible_kubectl_namespace": view["namespace"],
        "ansible_kubectl_container": "workspace",
        **_workspace_vars(view),
    }
    if kubeconfig:
        host_vars["ansible_kubectl_kubeconfig"] = kubeconfig
    if context:
        host_vars["ansible_kubectl_context"] = context
    return host_vars


def hosts(options):
    """[{name, vars}] for the workspaces of one engine."""
    if options["backend"] == "kubernetes":
        api = k8s_engine.connect(options)
        try:
            views = k8s_engine.list_workspaces(api, options.get("namespace"))
        finally:
            api.close()
        found = [{"name": f"{view['name']}.{view['namespace']}",
                  "vars": kubernetes_host_vars(view, options.get("kubeconfig"), options.get("context"))}
                 for view in views]
    else:
        api = docker_engine.connect(options)
        try:
            views = [docker_engine.describe(api.inspect_container(summary["Id"]))
                     for summary in docker_engine.find_containers(api)]
        finally:
            api.close()
        found = [{"name": view["name"], "vars": docker_host_vars(view, options.get("docker_host"))} for view in views]
    if options.get("running_only", True):
        found = [host for host in found if host["vars"]["workspace_status"] == "Running"]
    return sorted(found, key=lambda host: host["name"])
