# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Docker backend: every workspace a plain container on one engine."""

from __future__ import annotations

import threading

from ansible_collections.atelier.workspaces.plugins.module_utils import plan, ports
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import (
    apply,
    client,
    env,
    idle,
    observe,
    roles,
    store,
)
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import plan as docker_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError

LOG_TAIL_LINES = 20


def diff(before, model):
    """Diff mode's two sides: the workspace as the engine had it, and as the task wants it."""
    after = None if model["state"] == "absent" else docker_plan.summary(model)
    return {"before": before or {}, "after": after or {}}


def matches(labels, wanted):
    return all((labels or {}).get(key) == str(value) for key, value in (wanted or {}).items())


class DockerBackend(ports.Backend):
    """Workspaces as containers; documents in a control volume; roles stored and exported, not enforced."""

    # the engine serialises little, so a bulk task reconciles workspaces side by side
    bulk_workers = 8

    def __init__(self, params, timeout=None):
        self.api = client.connect(params, timeout)
        self.params = params
        self._store = store.DockerStore(self.api)
        # images and networks already known to be there, shared by the workspaces of one task
        self.ready = set()
        self._lock = threading.Lock()  # the workspaces of a bulk task share the roles document read once
        self._roles_document = None
        self._inspected = {}

    def close(self):
        self.api.close()

    @property
    def store(self):
        return self._store

    # --- reconcile ----------------------------------------------------------------------------------------------

    def _workspace(self, model, check_mode):
        return apply.DockerWorkspace(self.api, model, check_mode, self.ready)

    def _observed(self, before, after, model):
        """(view, diff) of one reconciled workspace."""
        view = observe.view(after) if after and after.get("Config") else None
        return view, diff(observe.summary(before), model)

    def reconcile(self, model, check_mode):
        workspace = self._workspace(model, check_mode)
        self._inspected.clear()
        try:
            before, after = client.engine_errors(workspace.reconcile)()
            workspace.actions.extend(self._follow_roles(model, workspace, after, check_mode))
        except WorkspaceError as error:
            raise plan.PartialFailure(str(error), workspace.actions, workspace.extra_result) from None
        view, changes = self._observed(before, after, model)
        return plan.Outcome(workspace.actions, view, changes, workspace.extra_result, workspace.warnings)

    @client.engine_errors
    def _follow_roles(self, model, workspace, after, check_mode):
        """Role assignments follow the workspace: removed with it, exported into its new container."""
        if model["state"] == "absent":
            with self._lock:
                self._roles_document = None
                return roles.remove_workspace_assignments(self.api, model["name"], check_mode)
        if "create container" in workspace.actions and after and after.get("Id") and not check_mode:
            with self._lock:
                # read once per task: bulk tasks create many containers
                if self._roles_document is None:
                    self._roles_document = roles.read_document(self.api) or {}
                document = self._roles_document
            roles.export_into(self.api, after["Id"], model["name"], document)
        return []

    @client.engine_errors
    def configuration(self, name, namespace):
        containers = self._containers(name)
        if not containers:
            return None
        config = containers[0]["Config"]
        return {"record": observe.recorded_configuration(containers[0]),
                "env": observe.managed_env(config["Labels"], config.get("Env"))}

    # --- reading ------------------------------------------------------------------------------------------------

    def _containers(self, name=None):
        """Every workspace container (or one workspace's), inspected once per task: the readers share them."""
        if name not in self._inspected:
            self._inspected[name] = client.inspect_all(self.api, name)
        return self._inspected[name]

    @client.engine_errors
    def views(self, name=None, namespace=None, labels=None):
        found = []
        for container in self._containers(name):
            if not matches(container["Config"]["Labels"], labels):
                continue
            view = observe.view(container)
            if view["status"] == "Failed":
                # the troubleshooting view: why it stopped, without opening the engine
                view["log_tail"] = self.api.logs(container["Id"], tail=LOG_TAIL_LINES).decode(errors="replace")
            found.append(view)
        return found

    @client.engine_errors
    def workspace_envs(self, namespace=None):
        return env.workspace_envs(self.api, self._containers())

    @client.engine_errors
    def refresh_env(self, workspace, entries, dry_run):
        self._inspected.clear()
        env.refresh(self.api, workspace, entries, dry_run)

    # --- roles --------------------------------------------------------------------------------------------------

    def _role_targets(self, workspace):
        return client.find_containers(self.api, workspace)

    def _exists(self, workspace):
        return bool(client.find_containers(self.api, workspace))

    def role_assignment(self, assignment, check_mode):
        task = roles.RoleAssignment(self.api, assignment, check_mode, self._role_targets, self._exists)
        task.converge = client.engine_errors(task.converge)
        return task

    @client.engine_errors
    def role_assignments(self, view):
        if self._roles_document is None:
            self._roles_document = roles.read_document(self.api) or {}
        return roles.assignments(self.api, view["name"], self._roles_document)

    # --- idle ---------------------------------------------------------------------------------------------------

    @client.engine_errors
    def idle_workspaces(self, name=None, namespace=None):
        return idle.observe(self.api, containers=self._containers(name))

    @client.engine_errors
    def stop_idle(self, workspace, reason, dry_run):
        idle.stop(self.api, workspace, reason, dry_run)

    # --- inventory ----------------------------------------------------------------------------------------------

    def host_vars(self, view, options):
        host_vars = {"ansible_connection": "community.docker.docker", "ansible_host": view["container"]}
        if options.get("docker_host"):
            host_vars["ansible_docker_host"] = options["docker_host"]
        return host_vars
