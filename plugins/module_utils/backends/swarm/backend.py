# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Swarm backend (swarm_mode): every workspace a replicated service of one task.

It shares the Docker backend's connection, control store and roles document;
the workspace itself is a service, and what runs is the task's container,
which carries the workspace labels too.
"""

from __future__ import annotations

import copy

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import backend as docker_backend
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import client as docker_client
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import env as docker_env
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import idle as docker_idle
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import observe as docker_observe
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.swarm import apply, client, observe
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError


def _replicas(service):
    return service["Spec"]["Mode"]["Replicated"]["Replicas"]


class SwarmBackend(docker_backend.DockerBackend):
    """Workspaces as Swarm services on a manager."""

    def __init__(self, params, timeout=None):
        super().__init__(params, timeout)
        try:
            docker_client.engine_errors(client.require_swarm)(self.api)
        except WorkspaceError:
            self.close()
            raise

    def _workspace(self, model, check_mode):
        return apply.SwarmWorkspace(self.api, model, check_mode, self.ready)

    def _view(self, service):
        name = service["Spec"]["Labels"][naming.LABEL_WORKSPACE]
        running = client.task_containers(self.api, name)
        task_container = running[0]["Name"].lstrip("/") if running else None
        return observe.view(service, client.tasks_of(self.api, service["Spec"]["Name"]), task_container)

    def _observed(self, before, after, model):
        view = self._view(after) if after else None
        return view, docker_backend.diff(observe.summary(before), model)

    def _follow_roles(self, model, workspace, after, check_mode):
        if model["state"] == "absent":
            return super()._follow_roles(model, workspace, after, check_mode)
        # a task is replaced whenever the Swarm likes: the role module exports into the running one
        return []

    def _services(self, name=None):
        return client.find_services(self.api, name)

    @docker_client.engine_errors
    def configuration(self, name, namespace):
        services = self._services(name)
        if not services:
            return None
        spec = services[0]["Spec"]
        return {"record": observe.recorded_configuration(services[0]),
                "env": docker_observe.managed_env(spec["Labels"], spec["TaskTemplate"]["ContainerSpec"].get("Env"))}

    @docker_client.engine_errors
    def views(self, name=None, namespace=None, labels=None):
        return [self._view(service) for service in self._services(name)
                if docker_backend.matches(service["Spec"]["Labels"], labels)]

    @docker_client.engine_errors
    def workspace_envs(self, namespace=None):
        return [docker_env.workspace_env(service["Spec"]["Labels"],
                                         service["Spec"]["TaskTemplate"]["ContainerSpec"].get("Env"),
                                         _replicas(service) > 0, service)
                for service in self._services()]

    @docker_client.engine_errors
    def refresh_env(self, workspace, entries, dry_run):
        """A service update with the new env: the Swarm replaces a running task, a stopped one starts with it."""
        if dry_run:
            return
        service = workspace["object"]
        spec = service["Spec"]
        template = copy.deepcopy(spec["TaskTemplate"])
        container = template["ContainerSpec"]
        labels = docker_env.env_labels(workspace["inputs"], entries)
        container["Env"] = docker_env.replaced_env(container.get("Env"), spec["Labels"], entries)
        container["Labels"] = {**(container.get("Labels") or {}), **labels}
        self.api.update_service(service["ID"], service["Version"]["Index"], task_template=template, name=spec["Name"],
                                labels={**spec["Labels"], **labels}, mode=spec["Mode"],
                                endpoint_spec=spec.get("EndpointSpec"))

    def _role_targets(self, workspace):
        return [summary for summary in docker_client.find_containers(self.api, workspace, tasks=True)
                if summary["State"] == "running"]

    def _exists(self, workspace):
        return bool(self._services(workspace))

    @docker_client.engine_errors
    def idle_workspaces(self, name=None, namespace=None):
        return docker_idle.observe(self.api, containers=client.task_containers(self.api, name))

    @docker_client.engine_errors
    def stop_idle(self, workspace, reason, dry_run):
        """Scale the service to no task: stopping the container would only make the Swarm start another."""
        if dry_run:
            return
        for service in self._services(workspace["name"]):
            self.api.update_service(service["ID"], service["Version"]["Index"], mode={"Replicated": {"Replicas": 0}},
                                    fetch_current_spec=True)
        docker_idle.record_reason(self.api, workspace, reason)

    def host_vars(self, view, options):
        if not view.get("container"):
            return None
        return super().host_vars(view, options)
