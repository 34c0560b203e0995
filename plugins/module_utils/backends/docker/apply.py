# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A workspace as a plain container: read what exists (found by label), compare it with the plan and
apply the difference; in check mode only report the actions it would take."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import client, steps
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import plan as docker_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.common import archive, wait
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import lifecycle

SECURITY_OPT = ["no-new-privileges"]
CAP_DROP = ["ALL"]
SETTLE_SECONDS = 0.5
OUTPUT_LIMIT = 64 * 1024  # of each stream of a lifecycle command kept in the result


def _host_config(api, desired):
    resources = desired["resources"]
    port = next(iter(desired["ports"]))
    bind_address, host_port = desired["ports"][port]
    return api.create_host_config(
        mounts=[
            client.Mount(target=m["target"], source=m["source"], type=m["type"], read_only=m["read_only"])
            for m in desired["mounts"]
        ],
        port_bindings={port: (bind_address, host_port) if host_port else (bind_address,)},
        security_opt=SECURITY_OPT,
        cap_drop=CAP_DROP,
        cpu_period=docker_plan.CPU_PERIOD if resources["cpu_quota"] else None,
        cpu_quota=resources["cpu_quota"] or None,
        mem_limit=resources["memory"] or None,
        memswap_limit=-1 if resources["memory"] else None,
        device_requests=[client.DeviceRequest(count=desired["gpu"], capabilities=[["gpu"]])] if desired["gpu"]
        else None,
        restart_policy={"Name": "unless-stopped"},
        network_mode=desired["network"],
    )


class DockerWorkspace(steps.EngineSteps):
    """One workspace as a container: plan the actions, then carry them out."""

    def current(self):
        found = client.find_containers(self.api, self.model["name"])
        return self.api.inspect_container(found[0]["Id"]) if found else None

    def reconcile(self):
        """Bring the engine to the model's state; return the final container (or None)."""
        before = self.current()
        if self.model["state"] == "absent":
            self._remove(before)
            return before, None
        desired = docker_plan.desired_container(self.model)
        self._ensure_image()
        self._ensure_network(docker_plan.NETWORK, driver="bridge")
        self._ensure_storage()
        container, created = self._ensure_container(before, desired)
        started = self._ensure_run_state(container, created, before)
        after = self.current() if not self.check_mode else container
        # present leaves a stopped workspace stopped: only one that is meant to run is waited for
        meant_to_run = self.model["state"] in ("running", "restarted") or started or (
            after and after["State"].get("Running"))
        if after and self.model["wait"] and not self.check_mode and meant_to_run:
            after = self._wait_running(after)
        if after and self.model["state"] != "stopped":
            self._run_lifecycle(after, started)
        return before, after

    def _remove(self, before):
        if before:
            self._do("remove container", self.api.remove_container, before["Id"], force=True)
        self._purge_volume()

    def _ensure_container(self, before, desired):
        if before and all(before["Config"]["Labels"].get(label) == desired["labels"][label]
                          for label in (docker_plan.LABEL_SPEC_HASH, docker_plan.LABEL_CONFIG_HASH)):
            self._update_limits(before, desired["resources"])
            return before, False
        if before:
            # a new container on the same data: the volume or directory is kept
            self._do("remove container (settings changed)", self.api.remove_container, before["Id"], force=True)
        if self.model["storage"]["kind"] == "shared" and not self.check_mode:
            self._ensure_shared_directory()
        created = self._do(
            "create container",
            self.api.create_container,
            desired["image"],
            command=desired["command"],
            name=desired["name"],
            user=desired["user"],
            environment=desired["environment"],
            labels=desired["labels"],
            working_dir=desired["working_dir"],
            hostname=desired["hostname"],
            ports=[int(next(iter(desired["ports"])).split("/")[0])],
            host_config=_host_config(self.api, desired),
        )
        if created and self.model["storage"]["kind"] == "volume":
            self._own_new_container_data(created["Id"])
        container = self.api.inspect_container(created["Id"]) if created else {"Id": None, "State": {}}
        return container, True

    def _own_new_container_data(self, container_id):
        """Before its first start; a failure removes the container, so the next run creates it and tries again."""
        try:
            self._own_data_directory(container_id)
        except (WorkspaceError, client.APIError) as error:
            self.api.remove_container(container_id, force=True)
            self.actions.append("remove container (data directory not prepared)")
            if isinstance(error, client.APIError):
                raise WorkspaceError(f"preparing the data directory failed: {client.explain(error)}") from None
            raise

    def _update_limits(self, container, resources):
        host = container["HostConfig"]
        current = {"cpu_quota": host.get("CpuQuota") or 0, "memory": host.get("Memory") or 0}
        if current == resources:
            return
        self._do(
            "update limits", self.api.update_container, container["Id"],
            cpu_period=docker_plan.CPU_PERIOD if resources["cpu_quota"] else None,
            cpu_quota=resources["cpu_quota"] or None,
            mem_limit=resources["memory"] or None,
            memswap_limit=-1 if resources["memory"] else None,
        )

    def _ensure_run_state(self, container, created, before):
        """Start, stop or restart as the state asks; True when the workspace (re)starts."""
        state = self.model["state"]
        running = bool(container.get("State", {}).get("Running"))
        was_running = bool(before and before["State"].get("Running"))
        if state == "stopped":
            if running:
                self._do("stop", self.api.stop, container["Id"])
            return False
        if state == "restarted" and running:
            self._do("restart", self.api.restart, container["Id"])
            return True
        # present keeps a stopped workspace stopped, also across a re-create
        start = state in ("running", "restarted") or (created and (before is None or was_running))
        if start and not running:
            self._do("start", self.api.start, container["Id"])
            return True
        return False

    def _run_lifecycle(self, container, started):
        """After a (re)start: on_startup unless the data has seen this version of it, then post_start.

        A failure removes the container (the data stays), as Kubernetes does not let such a pod
        run, so the next run creates it again and retries.
        """
        workspace_lifecycle = self.model["lifecycle"]
        startup, post_start = workspace_lifecycle["startup"], workspace_lifecycle["post_start"]
        if not started or not (startup or post_start):
            return
        try:
            if startup and (self.check_mode or self._startup_pending(container, startup)):
                script = lifecycle.startup_script(startup, self.model["user_code_path"])
                self._run("on_startup", container, ["/bin/sh", "-c", script])
            if post_start:
                if post_start["hook"] is not None and not self.check_mode:
                    # copied at every start: a container re-created elsewhere (an env refresh) lacks it
                    self._copy_hook(container, post_start["hook"])
                self._run("post_start", container, lifecycle.post_start_command(post_start))
        except WorkspaceError:
            self._do("remove container (lifecycle command failed)", self.api.remove_container, container["Id"],
                     force=True)
            raise

    def _startup_pending(self, container, startup):
        """Whether the data directory lacks the marker of this version of on_startup (only runs cat)."""
        code, stdout, _stderr = self._exec(container, ["cat", lifecycle.startup_marker(self.model["user_code_path"])])
        return code != 0 or stdout.strip() != lifecycle.fingerprint(startup)

    def _run(self, what, container, argv):
        """Run a lifecycle command; its output goes into the result, a failure fails the task with it."""
        if self.check_mode:
            self.actions.append(f"run {what}")
            return
        code, stdout, stderr = self._exec(container, argv)
        self.actions.append(f"run {what}")
        self.extra_result[what] = {"rc": code, "stdout": stdout[-OUTPUT_LIMIT:], "stderr": stderr[-OUTPUT_LIMIT:]}
        if code != 0:
            field = "lifecycle_config.post_start" if what == "post_start" else "on_startup"
            raise WorkspaceError(f"{field}: failed in the workspace with exit status {code}; "
                                 f"stderr:\n{_tail(stderr)}\nstdout:\n{_tail(stdout)}")

    def _exec(self, container, argv):
        """(exit status, stdout, stderr) of argv run in the workspace as its user, in its data directory."""
        try:
            created = self.api.exec_create(container["Id"], argv, user=self.model["user"],
                                           workdir=self.model["user_code_path"])
            stdout, stderr = self.api.exec_start(created["Id"], demux=True)
            code = self.api.exec_inspect(created["Id"])["ExitCode"]
        except OSError as error:  # an APIError is one too
            if isinstance(error, client.APIError):
                raise WorkspaceError(f"running a lifecycle command failed: {client.explain(error)}") from None
            # any other: the read timed out (the client's timeout is the task's longest wait)
            raise WorkspaceError(f"wait_timeout: a lifecycle command did not finish within "
                                 f"{self.api.timeout}s ({error})") from None
        return code, (stdout or b"").decode(errors="replace"), (stderr or b"").decode(errors="replace")

    def _copy_hook(self, container, hook):
        try:
            # executable by any user, at its place in the container
            hook_file = archive.file_with_parents(f"{lifecycle.HOOKS_DIR}/{lifecycle.POST_START_HOOK}", hook.encode(),
                                                  lifecycle.HOOK_MODE)
            self.api.put_archive(container["Id"], "/", hook_file)
        except client.APIError as error:
            raise WorkspaceError(f"{lifecycle.HOOK_FIELD}: copying the hook into the workspace failed: "
                                 f"{client.explain(error)}") from None

    def _wait_running(self, container):
        """Wait until the container runs and keeps running for a moment; a crash is an error with its log."""
        seen = {"restarts": None, "container": container}

        def settled():
            current = seen["container"]
            state = current["State"]
            if state.get("Restarting") or state.get("Status") in ("exited", "dead"):
                logs = self.api.logs(current["Id"], tail=20).decode(errors="replace")
                raise WorkspaceError(
                    f"the workspace container stopped with exit code {state.get('ExitCode')}; last log lines:\n{logs}"
                )
            if state.get("Status") == "created":
                return current
            # one more look a moment later catches a command that exits at once
            if state.get("Running") and seen["restarts"] == current.get("RestartCount"):
                return current
            if state.get("Running"):
                seen["restarts"] = current.get("RestartCount")
            seen["container"] = self.api.inspect_container(current["Id"])
            return None

        return wait.poll(settled, self.model["wait_timeout"], SETTLE_SECONDS,
                         lambda: f"wait_timeout: the workspace was not running after {self.model['wait_timeout']}s")


def _tail(text, lines=20):
    return "\n".join(text.rstrip().splitlines()[-lines:])
