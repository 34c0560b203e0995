# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Finding workspace services on a Swarm manager, their tasks and the containers the tasks run in."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import client as docker_client
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError

SERVICE_LABEL = "com.docker.swarm.service.name"


def require_swarm(api):
    """Fail clearly when the engine is not a Swarm manager."""
    state = api.info().get("Swarm", {})
    if state.get("LocalNodeState") != "active" or not state.get("ControlAvailable"):
        raise WorkspaceError(
            "swarm_mode: the engine is not a Swarm manager; run 'docker swarm init' on it, point docker_host at a "
            "manager, or set swarm_mode: false (DOCKER_SWARM_MODE)"
        )


def find_services(api, workspace=None):
    selector = naming.label_selector(workspace).split(",")
    if workspace is None:
        selector.append(naming.LABEL_WORKSPACE)
    return api.services(filters={"label": selector})


def tasks_of(api, service_name):
    return api.tasks(filters={"service": service_name, "desired-state": "running"})


TASK_LABEL = "com.docker.swarm.task.id"


def task_containers(api, workspace=None):
    """The inspected containers of the running tasks of one workspace, or of every workspace.

    A task being replaced keeps its container running until it stops: only tasks the Swarm wants running count.
    """
    found = docker_client.find_containers(api, workspace, tasks=True)
    running = [summary for summary in found if summary["State"] == "running"]
    if not running:
        return []
    wanted = {task["ID"] for task in api.tasks(filters={"desired-state": "running"})}
    return [api.inspect_container(summary["Id"]) for summary in running
            if (summary.get("Labels") or {}).get(TASK_LABEL) in wanted]
