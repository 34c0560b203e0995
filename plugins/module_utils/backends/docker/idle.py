# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Idle Docker workspaces: observed from the container and its activity file, stopped by the engine.

A container's labels cannot change, so the reason of an idle stop is kept in
the control store document ``idle-stops`` (workspace name to reason).
"""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import client
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import store as docker_store
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import idle

DOCUMENT = "idle-stops"


def _activity(api, container):
    """Modification time of the activity file in the data directory, or None."""
    path = f"{container['Config'].get('WorkingDir') or '/'}".rstrip("/") + f"/{idle.ACTIVITY_FILE}"
    try:
        stream, stat = api.get_archive(container["Id"], path)
    except client.NotFound:
        return None
    for _chunk in stream:  # the archive itself is not needed; drain it so the connection is reusable
        pass
    return idle.parse_time(stat.get("mtime"))


def observe(api, name=None, containers=None):
    """Every workspace (or one, or those inspected) with what its idle time is computed from."""
    reasons = docker_store.DockerStore(api).read(DOCUMENT) or {}
    observed = []
    if containers is None:
        containers = client.inspect_all(api, name)
    for container in containers:
        running = bool(container["State"].get("Running"))
        workspace = container["Config"]["Labels"][naming.LABEL_WORKSPACE]
        observed.append({
            "name": workspace,
            "namespace": None,
            "running": running,
            "policy": idle.termination_policy(container["Config"]["Labels"]),
            "started_at": idle.parse_time(container["State"].get("StartedAt")) if running else None,
            "last_activity": _activity(api, container) if running else None,
            "stopped_reason": None if running else reasons.get(workspace),
            "id": container["Id"],
        })
    return observed


def stop(api, workspace, reason, dry_run):
    if dry_run:
        return
    api.stop(workspace["id"])
    record_reason(api, workspace, reason)


def record_reason(api, workspace, reason):
    """Keep why the workspace was stopped where workspace_info finds it (a container's labels cannot change)."""
    docker_store.DockerStore(api).update(DOCUMENT, lambda reasons: {**(reasons or {}), workspace["name"]: reason})
