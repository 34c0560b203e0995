# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A workspace as a Swarm service (swarm_mode).

Start and stop change the replica count (1 or 0); any other change is a
service update, after which the Swarm replaces the task on the same data
volume. Image, network and volume steps are shared with plain containers.
A task's container does not copy the image's directory into the volume
(plan: NoCopy): before the service is created or changed, a never-started
container of the image does that once, as a plain workspace container would,
and the workspace user gets the directory (steps, datadir).
"""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import client as docker_client
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import datadir, steps
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import plan as docker_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.swarm import client, observe
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.swarm import plan as swarm_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.common import wait
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError

# a service's labels change with every update, so its record is current, limits included
COMPARED_LABELS = (docker_plan.LABEL_SPEC_HASH, docker_plan.LABEL_CONFIG_HASH, docker_plan.LABEL_CONFIGURATION)
SETTLE_SECONDS = 0.5


class SwarmWorkspace(steps.EngineSteps):
    """One workspace as a Swarm service."""

    def current(self):
        found = client.find_services(self.api, self.model["name"])
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
        self._ensure_network(swarm_plan.NETWORK, driver="overlay", attachable=True)
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

    def _ensure_service(self, before, desired):
        arguments = {
            "task_template": desired["TaskTemplate"], "name": desired["Name"], "labels": desired["Labels"],
            "mode": desired["Mode"], "endpoint_spec": desired.get("EndpointSpec"),
        }
        if before is None:
            self._prepare_storage()
            self._do("create service", self.api.create_service, **arguments)
            return
        spec = before["Spec"]
        same_spec = all(spec["Labels"].get(label) == desired["Labels"][label] for label in COMPARED_LABELS)
        same_replicas = spec["Mode"]["Replicated"]["Replicas"] == desired["Mode"]["Replicated"]["Replicas"]
        restart = self.model["state"] == "restarted" and desired["Mode"]["Replicated"]["Replicas"]
        if same_spec and same_replicas and not restart:
            return
        if not same_spec:
            self._prepare_storage()
        if restart:
            # a new ForceUpdate value makes the Swarm replace the task without any other change
            arguments["task_template"] = {**desired["TaskTemplate"],
                                          "ForceUpdate": spec["TaskTemplate"].get("ForceUpdate", 0) + 1}
        action = "update service" if not same_spec else (
            "restart" if restart else ("start" if desired["Mode"]["Replicated"]["Replicas"] else "stop"))
        self._do(action, self.api.update_service, before["ID"], before["Version"]["Index"], **arguments)

    def _prepare_storage(self):
        """The data volume filled from the image and given to the workspace user, or the shared sub-directory made."""
        if self.check_mode:
            return
        if self.model["storage"]["kind"] == "shared":
            self._ensure_shared_directory()
            return
        path = self.model["user_code_path"]
        mount = docker_client.Mount(target=path, source=docker_plan.volume_name(self.model["name"]), type="volume")
        try:
            helper = datadir.create_helper(self.api, self.model["image"], [mount], working_dir=path)
        except docker_client.APIError as error:
            raise WorkspaceError(f"preparing the data volume failed: {docker_client.explain(error)}") from None
        try:
            self._own_data_directory(helper)
        finally:
            self.api.remove_container(helper, force=True)

    def _remove_service(self, before):
        if before:
            self._do("remove service", self.api.remove_service, before["ID"])
        # the volume stays in use until the Swarm has removed the task's container
        self._purge_volume(before_removal=lambda: self._wait_service_containers_gone(
            docker_plan.container_name(self.model["name"])))

    def _wait_service_containers_gone(self, service_name):
        label = f"com.docker.swarm.service.name={service_name}"
        wait.poll(lambda: None if self.api.containers(all=True, filters={"label": label}) else True,
                  self.model["wait_timeout"], SETTLE_SECONDS,
                  lambda: f"wait_timeout: the containers of service {service_name} were still there after "
                          f"{self.model['wait_timeout']}s; the volume was kept")

    def _wait_task_running(self, service):
        name = service["Spec"]["Name"]

        def running():
            tasks = client.tasks_of(self.api, name)
            if any(task["Status"]["State"] == "running" for task in tasks):
                return True
            failed = [task for task in tasks if task["Status"]["State"] in observe.FAILED_TASK_STATES]
            if failed:
                status = failed[0]["Status"]
                raise WorkspaceError(f"the workspace task is {status['State']}: {status.get('Err') or status}")
            return None

        wait.poll(running, self.model["wait_timeout"], SETTLE_SECONDS,
                  lambda: f"wait_timeout: the workspace was not running after {self.model['wait_timeout']}s")
