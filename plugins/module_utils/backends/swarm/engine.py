# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads and changes workspaces that are Swarm services (swarm_mode).

Start and stop change the replica count (1 or 0); any other change is a
service update, after which the Swarm replaces the task on the same data
volume. Image and volume handling are the plain Docker backend's.
"""

from __future__ import annotations

import time

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import engine as docker_engine
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import plan as docker_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.swarm import plan as swarm_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import env_policy

# Task states after which the Swarm will not run the task again.
FAILED_TASK_STATES = ("failed", "rejected", "orphaned")
COMPARED_LABELS = (docker_plan.LABEL_SPEC_HASH, docker_plan.LABEL_CONFIG_HASH)


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


def _volume_exists(api, name):
    return bool(api.volumes(filters={"name": name}).get("Volumes"))


def _tasks(api, service_name):
    return api.tasks(filters={"service": service_name, "desired-state": "running"})


class SwarmWorkspace(docker_engine.DockerWorkspace):
    """One workspace as a Swarm service."""

    def current(self):
        found = find_services(self.api, self.model["name"])
        return found[0] if found else None

    def reconcile(self):
        self._refuse_lifecycle_commands()
        before = self.current()
        if self.model["state"] == "absent":
            self._remove_service(before)
            return before, None
        replicas = self._replicas(before)
        desired = swarm_plan.desired_service(self.model, replicas)
        self._ensure_image()
        self._ensure_swarm_network()
        self._ensure_storage()
        self._ensure_service(before, desired)
        after = self.current() if not self.check_mode else before
        if after and replicas and self.model["wait"] and not self.check_mode:
            self._wait_task_running(after)
        return before, after

    def _refuse_lifecycle_commands(self):
        """A service's task may be replaced at any time, so commands run once after a start have no place yet."""
        workspace_lifecycle = self.model.get("lifecycle") or {}
        for field, key in (("on_startup", "startup"), ("lifecycle_config.post_start", "post_start")):
            if workspace_lifecycle.get(key):
                raise WorkspaceError(f"{field}: not available with swarm_mode; run the commands from the image's "
                                     f"entrypoint, or use a plain container (swarm_mode: false)")

    def _replicas(self, before):
        state = self.model["state"]
        if state == "stopped":
            return 0
        if state == "present" and before is not None:
            return before["Spec"]["Mode"]["Replicated"]["Replicas"]
        return 1

    def _ensure_swarm_network(self):
        if ("network", swarm_plan.NETWORK) in self.ready:
            return
        if not self.api.networks(names=[swarm_plan.NETWORK]):
            self._do("create network", self.api.create_network, swarm_plan.NETWORK, driver="overlay",
                     attachable=True, labels={naming.LABEL_MANAGED_BY: naming.MANAGED_BY})
        if not self.check_mode:
            self.ready.add(("network", swarm_plan.NETWORK))

    def _ensure_service(self, before, desired):
        arguments = {
            "task_template": desired["TaskTemplate"], "name": desired["Name"], "labels": desired["Labels"],
            "mode": desired["Mode"], "endpoint_spec": desired.get("EndpointSpec"),
        }
        if before is None:
            self._do("create service", self.api.create_service, **arguments)
            return
        spec = before["Spec"]
        same_spec = all(spec["Labels"].get(label) == desired["Labels"][label] for label in COMPARED_LABELS)
        same_replicas = spec["Mode"]["Replicated"]["Replicas"] == desired["Mode"]["Replicated"]["Replicas"]
        restart = self.model["state"] == "restarted" and desired["Mode"]["Replicated"]["Replicas"]
        if same_spec and same_replicas and not restart:
            return
        if restart:
            # a new ForceUpdate value makes the Swarm replace the task without any other change
            arguments["task_template"] = {**desired["TaskTemplate"],
                                          "ForceUpdate": spec["TaskTemplate"].get("ForceUpdate", 0) + 1}
        action = "update service" if not same_spec else (
            "restart" if restart else ("start" if desired["Mode"]["Replicated"]["Replicas"] else "stop"))
        self._do(action, self.api.update_service, before["ID"], before["Version"]["Index"], **arguments)

    def _remove_service(self, before):
        if before:
            self._do("remove service", self.api.remove_service, before["ID"])
        if not self.model["purge"] or self.model["storage"]["kind"] != "volume":
            return
        volume = docker_plan.volume_name(self.model["name"])
        if _volume_exists(self.api, volume):
            if not self.check_mode:
                self._wait_service_containers_gone(docker_plan.container_name(self.model["name"]))
            self._do("remove volume (purge)", self.api.remove_volume, volume)

    def _wait_service_containers_gone(self, service_name):
        """The volume stays in use until the Swarm has removed the task's container."""
        deadline = time.monotonic() + self.model["wait_timeout"]
        label = f"com.docker.swarm.service.name={service_name}"
        while self.api.containers(all=True, filters={"label": label}):
            if time.monotonic() > deadline:
                raise WorkspaceError(f"wait_timeout: the containers of service {service_name} were still there "
                                     f"after {self.model['wait_timeout']}s; the volume was kept")
            time.sleep(docker_engine.SETTLE_SECONDS)

    def _wait_task_running(self, service):
        deadline = time.monotonic() + self.model["wait_timeout"]
        name = service["Spec"]["Name"]
        while True:
            tasks = _tasks(self.api, name)
            if any(task["Status"]["State"] == "running" for task in tasks):
                return
            failed = [task for task in tasks if task["Status"]["State"] in FAILED_TASK_STATES]
            if failed:
                status = failed[0]["Status"]
                raise WorkspaceError(f"the workspace task is {status['State']}: {status.get('Err') or status}")
            if time.monotonic() > deadline:
                raise WorkspaceError(f"wait_timeout: the workspace was not running after {self.model['wait_timeout']}s")
            time.sleep(docker_engine.SETTLE_SECONDS)


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


def observed_summary(service):
    """The diff's 'before' side, read back from the engine's service."""
    if not service:
        return None
    spec = service["Spec"]
    labels = spec["Labels"]
    container = spec["TaskTemplate"]["ContainerSpec"]
    managed = set(filter(None, labels.get(docker_plan.LABEL_ENV_NAMES, "").split(",")))
    secret = set(filter(None, labels.get(docker_plan.LABEL_SECRET_NAMES, "").split(",")))
    env = {}
    for item in container.get("Env") or []:
        name, _sep, value = item.partition("=")
        if name in managed:
            env[name] = env_policy.REDACTED if name in secret else value
    return {"image": container["Image"].split("@")[0], "command": container.get("Command"),
            "user": container.get("User"), "env": env, "replicas": spec["Mode"]["Replicated"]["Replicas"]}


def describe(api, service):
    """The user-facing view of a workspace service (no secret values)."""
    if not service:
        return None
    spec = service["Spec"]
    labels = spec["Labels"]
    container = spec["TaskTemplate"]["ContainerSpec"]
    limits = spec["TaskTemplate"].get("Resources", {}).get("Limits", {})
    tasks = _tasks(api, spec["Name"])
    ports = (spec.get("EndpointSpec") or {}).get("Ports") or []
    url = labels.get(docker_plan.LABEL_PUBLIC_URL) or (
        f"http://127.0.0.1:{ports[0]['PublishedPort']}/" if ports else
        f"http://{spec['Name']}:{labels.get(docker_plan.LABEL_PORT)}/")
    data = next((m for m in container.get("Mounts", []) if m["Target"] == container.get("Dir")), {})
    return {
        "name": labels.get(naming.LABEL_WORKSPACE),
        "backend": "docker",
        "swarm_service": spec["Name"],
        "status": service_status(spec["Mode"]["Replicated"]["Replicas"], tasks),
        "url": url,
        "image": container["Image"].split("@")[0],
        "storage": {"type": data.get("Type"), "source": data.get("Source"), "path": data.get("Target")},
        "resources": {
            "cpu_millis": (limits.get("NanoCPUs") or 0) * 1000 // swarm_plan.NANO or None,
            "memory_bytes": limits.get("MemoryBytes") or None,
        },
        "config_hash": labels.get(docker_plan.LABEL_CONFIG_HASH),
    }
