# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Swarm workspace looks like to the user, read from its service and tasks (pure)."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import observe as docker_observe
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import plan as docker_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.swarm import plan as swarm_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import archive, configuration

# Task states after which the Swarm will not run the task again.
FAILED_TASK_STATES = ("failed", "rejected", "orphaned")


def service_status(replicas, tasks):
    """Creating, Starting, Running, Stopped or Failed, from the replica count and the service's tasks."""
    if replicas == 0:
        return "Stopped"
    states = [task["Status"]["State"] for task in tasks]
    if "running" in states:
        return "Running"
    if any(state in FAILED_TASK_STATES for state in states):
        return "Failed"
    return "Starting" if states else "Creating"


def summary(service):
    """The diff's 'before' side, read back from the engine's service."""
    if not service:
        return None
    spec = service["Spec"]
    labels = spec["Labels"]
    container = spec["TaskTemplate"]["ContainerSpec"]
    env = docker_observe.managed_env(labels, container.get("Env"), redacted=True)
    return {"image": container["Image"].split("@")[0], "command": container.get("Command"),
            "user": container.get("User"), "env": env, "replicas": spec["Mode"]["Replicated"]["Replicas"]}


def recorded_configuration(service):
    """The options the workspace was given; a service's labels are rewritten by every update, so it is current."""
    return configuration.decode(service["Spec"]["Labels"].get(docker_plan.LABEL_CONFIGURATION))


def view(service, tasks, task_container=None):
    """The user-facing view of a workspace service (no secret values)."""
    if not service:
        return None
    spec = service["Spec"]
    labels = spec["Labels"]
    container = spec["TaskTemplate"]["ContainerSpec"]
    limits = spec["TaskTemplate"].get("Resources", {}).get("Limits", {})
    ports = (spec.get("EndpointSpec") or {}).get("Ports") or []
    url = labels.get(docker_plan.LABEL_PUBLIC_URL) or (
        f"http://127.0.0.1:{ports[0]['PublishedPort']}/" if ports else
        f"http://{spec['Name']}:{labels.get(docker_plan.LABEL_PORT)}/")
    data = next((m for m in container.get("Mounts", []) if m["Target"] == container.get("Dir")), {})
    return {
        "name": labels.get(naming.LABEL_WORKSPACE),
        "backend": "docker",
        "swarm_service": spec["Name"],
        # the running task's container, where Ansible and the tools reach the workspace
        "container": task_container,
        "status": service_status(spec["Mode"]["Replicated"]["Replicas"], tasks),
        "url": url,
        "image": container["Image"].split("@")[0],
        "storage": {"type": data.get("Type"), "source": data.get("Source"), "path": data.get("Target")},
        "resources": {
            "cpu_millis": (limits.get("NanoCPUs") or 0) * 1000 // swarm_plan.NANO or None,
            "memory_bytes": limits.get("MemoryBytes") or None,
        },
        "config_hash": labels.get(docker_plan.LABEL_CONFIG_HASH),
        "configuration": configuration.shown(recorded_configuration(service)),
        **archive.fields(recorded_configuration(service)),
    }
