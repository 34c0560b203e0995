# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads and changes workspaces on a Docker engine.

Only this file talks to the engine. It reads what exists (found by label),
compares it with the desired plan and applies the difference; in check mode
it only reports the actions it would take.
"""

from __future__ import annotations

import os
import time

from ansible_collections.atelier.workspaces.plugins.module_utils import docker_plan, naming
from ansible_collections.atelier.workspaces.plugins.module_utils.errors import WorkspaceError

try:
    import docker
    from docker.errors import APIError, DockerException, NotFound
    from docker.types import DeviceRequest, Mount

    HAS_DOCKER = True
    DOCKER_IMPORT_ERROR = None
except ImportError as import_error:  # reported by the module with missing_required_lib
    HAS_DOCKER = False
    DOCKER_IMPORT_ERROR = import_error
    DockerException = APIError = NotFound = Exception

SECURITY_OPT = ["no-new-privileges"]
CAP_DROP = ["ALL"]
SETTLE_SECONDS = 0.5


def connect(params):
    """A low-level API client for the engine named by the connection options."""
    base_url = params.get("docker_host") or "unix:///var/run/docker.sock"
    tls = False
    if params.get("tls_verify") or params.get("cert_path"):
        cert_path = params.get("cert_path") or os.path.expanduser("~/.docker")
        files = {name: os.path.join(cert_path, name) for name in ("ca.pem", "cert.pem", "key.pem")}
        unreadable = [path for path in files.values() if not os.access(path, os.R_OK)]
        if unreadable:
            raise WorkspaceError(
                f"cert_path: cannot read {', '.join(unreadable)}; point cert_path (DOCKER_CERT_PATH) "
                f"at a directory with ca.pem, cert.pem and key.pem"
            )
        tls = docker.tls.TLSConfig(
            client_cert=(files["cert.pem"], files["key.pem"]),
            ca_cert=files["ca.pem"],
            verify=bool(params.get("tls_verify")),
        )
        base_url = base_url.replace("tcp://", "https://")
    try:
        client = docker.APIClient(base_url=base_url, tls=tls, version="auto", timeout=60)
    except DockerException as error:
        raise WorkspaceError(
            f"docker_host: cannot reach the Docker engine at {base_url} ({error}); start the engine "
            f"or set docker_host (DOCKER_HOST), tls_verify and cert_path"
        ) from None
    return client


def find_containers(api, workspace=None):
    """Container summaries of one workspace, or of every workspace."""
    selector = naming.label_selector(workspace).split(",")
    if workspace is None:
        selector.append(naming.LABEL_WORKSPACE)  # not the collection's other containers, such as the control holder
    return api.containers(all=True, filters={"label": selector})


def _exists(read):
    try:
        return read()
    except NotFound:
        return None


def _host_config(api, desired):
    resources = desired["resources"]
    port = next(iter(desired["ports"]))
    bind_address, host_port = desired["ports"][port]
    return api.create_host_config(
        mounts=[
            Mount(target=m["target"], source=m["source"], type=m["type"], read_only=m["read_only"])
            for m in desired["mounts"]
        ],
        port_bindings={port: (bind_address, host_port) if host_port else (bind_address,)},
        security_opt=SECURITY_OPT,
        cap_drop=CAP_DROP,
        cpu_period=docker_plan.CPU_PERIOD if resources["cpu_quota"] else None,
        cpu_quota=resources["cpu_quota"] or None,
        mem_limit=resources["memory"] or None,
        memswap_limit=-1 if resources["memory"] else None,
        device_requests=[DeviceRequest(count=desired["gpu"], capabilities=[["gpu"]])] if desired["gpu"] else None,
        restart_policy={"Name": "unless-stopped"},
        network_mode=desired["network"],
    )


class DockerWorkspace:
    """One workspace on one engine: plan the actions, then carry them out."""

    def __init__(self, api, model, check_mode, ready=None):
        self.api = api
        self.model = model
        self.check_mode = check_mode
        self.actions = []
        self.warnings = []
        # images and networks already known to be there, shared by the workspaces of one task
        self.ready = ready if ready is not None else set()

    def _do(self, action, call, *args, **kwargs):
        """Record an action; carry it out unless in check mode. Only done actions are recorded."""
        if self.check_mode:
            self.actions.append(action)
            return None
        try:
            result = call(*args, **kwargs)
        except APIError as error:
            raise WorkspaceError(f"{action} failed: {error.explanation or error}") from None
        self.actions.append(action)
        return result

    def current(self):
        found = find_containers(self.api, self.model["name"])
        return self.api.inspect_container(found[0]["Id"]) if found else None

    def reconcile(self):
        """Bring the engine to the model's state; return the final container (or None)."""
        before = self.current()
        if self.model["state"] == "absent":
            self._remove(before)
            return before, None
        desired = docker_plan.desired_container(self.model)
        self._ensure_image()
        self._ensure_network()
        self._ensure_storage()
        container, created = self._ensure_container(before, desired)
        self._ensure_run_state(container, created, before)
        after = self.current() if not self.check_mode else container
        if after and self.model["wait"] and not self.check_mode and self.model["state"] != "stopped":
            after = self._wait_running(after)
        return before, after

    def _remove(self, before):
        if before:
            self._do("remove container", self.api.remove_container, before["Id"], force=True)
        if not self.model["purge"]:
            return
        if self.model["storage"]["kind"] == "shared":
            self.warnings.append(
                "purge: the workspace uses shared storage; its sub-directory "
                f"{self.model['storage']['subpath']} on the host was left in place"
            )
            return
        volume = docker_plan.volume_name(self.model["name"])
        if _exists(lambda: self.api.inspect_volume(volume)):
            self._do("remove volume (purge)", self.api.remove_volume, volume)

    def _ensure_image(self):
        image = self.model["image"]
        if ("image", image) in self.ready or _exists(lambda: self.api.inspect_image(image)):
            self.ready.add(("image", image))
            return
        try:
            self._do("pull image", self.api.pull, image)
        except WorkspaceError as error:
            raise WorkspaceError(
                f"image: '{image}' is not on the engine and could not be pulled ({error}); build it locally "
                f"(make image) or give an image the engine can pull"
            ) from None

    def _ensure_network(self):
        if ("network", docker_plan.NETWORK) in self.ready:
            return
        if not self.api.networks(names=[docker_plan.NETWORK]):
            self._do(
                "create network", self.api.create_network, docker_plan.NETWORK,
                driver="bridge", labels={naming.LABEL_MANAGED_BY: naming.MANAGED_BY},
            )
        if not self.check_mode:
            self.ready.add(("network", docker_plan.NETWORK))

    def _ensure_storage(self):
        if self.model["storage"]["kind"] != "volume":
            return
        name = docker_plan.volume_name(self.model["name"])
        if not _exists(lambda: self.api.inspect_volume(name)):
            self._do("create volume", self.api.create_volume, name, labels=naming.owned_labels(self.model["name"]))

    def _ensure_container(self, before, desired):
        if before and all(before["Config"]["Labels"].get(label) == desired["labels"][label]
                          for label in (docker_plan.LABEL_SPEC_HASH, docker_plan.LABEL_CONFIG_HASH)):
            self._update_limits(before, desired["resources"])
            return before, False
        if before:
            # a new container on the same data: the volume or directory is kept
            self._do("remove container (settings changed)", self.api.remove_container, before["Id"], force=True)
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
        container = self.api.inspect_container(created["Id"]) if created else {"Id": None, "State": {}}
        return container, True

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
        state = self.model["state"]
        running = bool(container.get("State", {}).get("Running"))
        was_running = bool(before and before["State"].get("Running"))
        if state == "stopped":
            if running:
                self._do("stop", self.api.stop, container["Id"])
            return
        if state == "restarted" and running:
            self._do("restart", self.api.restart, container["Id"])
            return
        # present keeps a stopped workspace stopped, also across a re-create
        start = state in ("running", "restarted") or (created and (before is None or was_running))
        if start and not running:
            self._do("start", self.api.start, container["Id"])

    def _wait_running(self, container):
        """Wait until the container runs and keeps running for a moment; a crash is an error with its log."""
        deadline = time.monotonic() + self.model["wait_timeout"]
        seen_running = None
        while True:
            state = container["State"]
            if state.get("Restarting") or state.get("Status") in ("exited", "dead"):
                logs = self.api.logs(container["Id"], tail=20).decode(errors="replace")
                raise WorkspaceError(
                    f"the workspace container stopped with exit code {state.get('ExitCode')}; last log lines:\n{logs}"
                )
            if state.get("Running"):
                # one more look a moment later catches a command that exits at once
                if seen_running == container.get("RestartCount"):
                    return container
                seen_running = container.get("RestartCount")
            elif state.get("Status") == "created":
                return container
            if time.monotonic() > deadline:
                raise WorkspaceError(f"wait_timeout: the workspace was not running after {self.model['wait_timeout']}s")
            time.sleep(SETTLE_SECONDS)
            container = self.api.inspect_container(container["Id"])


def describe(container):
    """The user-facing view of a workspace container (no secret values)."""
    if not container or not container.get("Id"):
        return None
    labels = container["Config"]["Labels"]
    port = labels.get(docker_plan.LABEL_PORT, "")
    bindings = (container.get("NetworkSettings", {}).get("Ports") or {}).get(f"{port}/tcp") or []
    url = labels.get(docker_plan.LABEL_PUBLIC_URL)
    if not url and bindings:
        url = f"http://{bindings[0]['HostIp'] or '127.0.0.1'}:{bindings[0]['HostPort']}/"
    state = container["State"]
    host = container["HostConfig"]
    mounts = container.get("Mounts") or []
    data = next((m for m in mounts if m.get("Destination") == container["Config"].get("WorkingDir")), {})
    return {
        "name": labels.get(naming.LABEL_WORKSPACE),
        "backend": "docker",
        "status": _status(state),
        "url": url,
        "image": container["Config"]["Image"],
        "container": container["Name"].lstrip("/"),
        "container_id": container["Id"],
        "storage": {"type": data.get("Type"), "source": data.get("Name") or data.get("Source"),
                    "path": data.get("Destination")},
        "resources": {
            "cpu_millis": (host.get("CpuQuota") or 0) * 1000 // docker_plan.CPU_PERIOD or None,
            "memory_bytes": host.get("Memory") or None,
        },
        "config_hash": labels.get(docker_plan.LABEL_CONFIG_HASH),
        "started_at": state.get("StartedAt"),
        "exit_code": state.get("ExitCode"),
    }


def _status(state):
    if state.get("Restarting"):
        # the engine restarts it after every exit: a crash loop
        return "Failed" if state.get("ExitCode") else "Starting"
    if state.get("Running"):
        return "Running"
    if state.get("Status") == "created":
        return "Stopped"
    if state.get("Status") == "exited":
        # 137 and 143 are SIGKILL and SIGTERM: what a stop sends
        failed = state.get("OOMKilled") or state.get("ExitCode") not in (0, 137, 143)
        return "Failed" if failed else "Stopped"
    return state.get("Status", "Unknown").capitalize()
