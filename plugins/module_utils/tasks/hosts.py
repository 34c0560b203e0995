# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Workspaces as inventory hosts: how Ansible connects into each one."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.backends import registry


def workspace_vars(view):
    """What every host knows of its workspace (pure)."""
    return {
        "workspace_name": view["name"],
        "workspace_backend": view["backend"],
        "workspace_status": view["status"],
        "workspace_url": view.get("url"),
        "workspace_namespace": view.get("namespace"),
    }


def host_name(view):
    return f"{view['name']}.{view['namespace']}" if view.get("namespace") else view["name"]


def hosts(options):
    """[{name, vars}] for the workspaces of one engine."""
    backend = registry.get(options)
    try:
        found = []
        for view in backend.views(namespace=options.get("namespace")):
            connection = backend.host_vars(view, options)
            if connection is not None:  # a workspace with nothing running to connect to
                found.append({"name": host_name(view), "vars": {**connection, **workspace_vars(view)}})
    finally:
        backend.close()
    if options.get("running_only", True):
        found = [host for host in found if host["vars"]["workspace_status"] == "Running"]
    return sorted(found, key=lambda host: host["name"])
