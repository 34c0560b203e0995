# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads and changes workspaces on a Docker engine.

Only this file talks to the engine. It reads what exists (found by label),
compares it with the desired plan and applies the difference; in check mode
it only reports the actions it would take.
"""

from __future__ import annotations

import io
import os
import tarfile
import time

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import plan as docker_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import lifecycle

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
API_TIMEOUT = 60
OUTPUT_LIMIT = 64 * 1024  # of each stream of a lifecycle command kept in the result


def _read_timeout(params):
    """A minute, or the longest wait_timeout of the task: lifecycle commands run within one API call."""
    entries = params.get("workspaces") if isinstance(params.get("workspaces"), list) else []
    waits = [params.get("wait_timeout"), *(entry.get("wait_timeout") for entry in entries if isinstance(entry, dict))]
    return max([API_TIMEOUT, *(wait for wait in waits if isinstance(wait, int))])


if HAS_DOCKER:

    class _EngineClient(docker.APIClient):
        """docker.APIClient that keeps the CA it was given (cert_path/ca.pem).

        requests lets REQUESTS_CA_BUNDLE and CURL_CA_BUNDLE replace a session's CA on every
        request (psf/requests#3829), which breaks tls_verify wherever those are set.
        """

        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            settings["verify"] = self.verify if verify is None else verify
            return settings


def _connection_error(where, cert_path, error):
    """Which option to fix, from the reason the engine could not be reached."""
    text = str(error)
    if "Client sent an HTTP request to an HTTPS server" in text:
        return (
            f"tls_verify: the Docker engine at {where} only accepts TLS clients; set tls_verify: true and "
            f"cert_path (DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH) to a directory with ca.pem, cert.pem and key.pem"
        )
    if "mismatch" in text and "CERTIFICATE_VERIFY_FAILED" in text:
        return (
            f"docker_host: the certificate of the Docker engine is not valid for the address in {where} ({text}); "
            f"use a host name or address its certificate names"
        )
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return (
            f"cert_path: {cert_path}/ca.pem did not sign the certificate of the Docker engine at {where} ({text}); "
            f"put the CA that signed the engine's --tlscert there as ca.pem"
        )
    if any(alert in text for alert in ("ALERT_BAD_CERTIFICATE", "ALERT_UNKNOWN_CA", "ALERT_CERTIFICATE_REQUIRED")):
        return (
            f"cert_path: the Docker engine at {where} refused the client certificate {cert_path}/cert.pem ({text}); "
            f"use a client certificate signed by the CA the engine trusts (its --tlscacert)"
        )
    return (
        f"docker_host: cannot reach the Docker engine at {where} ({error}); start the engine "
        f"or set docker_host (DOCKER_HOST), tls_verify and cert_path"
    )


def connect(params):
    """A low-level API client for the engine named by the connection options."""
    base_url = params.get("docker_host") or "unix:///var/run/docker.sock"
    where = base_url
    tls = False
    cert_path = params.get("cert_path") or os.path.expanduser("~/.docker")
    if params.get("tls_verify") or params.get("cert_path"):
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
        client = _EngineClient(base_url=base_url, tls=tls, version="auto", timeout=_read_timeout(params))
    except DockerException as error:
        raise WorkspaceError(_connection_error(where, cert_path, error)) from None
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
        # what the lifecycle commands printed, for the task result
        self.extra_result = {}
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
        container = self.api.inspect_container(created["Id"]) if created else {"Id": None, "State": {}}
        return container, True

    def _ensure_shared_directory(self):
        """Create <shared_path>/<prefix>/<name> on the engine's host, owned by the workspace user.

        The engine may be on another host, so a short-lived root container of the workspace image
        does it, with only shared_path mounted. An existing directory is left as it is.
        """
        storage = self.model["storage"]
        root = storage["shared_path"].rstrip("/") or "/"
        target = f"/shared/{storage['subpath']}"
        script = '[ -d "$1" ] && exit 0; mkdir -p "$1" && chown "$2" "$1" && chmod 2775 "$1" && echo created'
        try:
            helper = self.api.create_container(
                self.model["image"],
                entrypoint=["/bin/sh", "-c", script, "sh"],
                command=[target, self.model["user"]],
                user="0",
                labels={naming.LABEL_MANAGED_BY: naming.MANAGED_BY},
                host_config=self.api.create_host_config(
                    mounts=[Mount(target="/shared", source=root, type="bind")],
                    network_mode="none",
                    cap_drop=CAP_DROP,
                    cap_add=["CHOWN", "DAC_OVERRIDE", "FOWNER"],
                    security_opt=SECURITY_OPT,
                ),
            )
        except APIError as error:
            raise WorkspaceError(
                f"storage.shared_path: cannot use {root} on the engine host ({error.explanation or error}); "
                f"create that directory there first"
            ) from None
        try:
            self.api.start(helper["Id"])
            code = self.api.wait(helper["Id"], timeout=60)["StatusCode"]
            output = self.api.logs(helper["Id"]).decode(errors="replace").strip()
        finally:
            self.api.remove_container(helper["Id"], force=True)
        if code:
            raise WorkspaceError(
                f"storage.shared_path: could not create {root}/{storage['subpath']} for user "
                f"{self.model['user']} on the engine host: {output}"
            )
        if output.endswith("created"):
            self.actions.append(f"create directory {storage['subpath']}")

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
            if isinstance(error, APIError):
                raise WorkspaceError(f"running a lifecycle command failed: {error.explanation or error}") from None
            # any other: the read timed out (see _read_timeout)
            raise WorkspaceError(f"wait_timeout: a lifecycle command did not finish within "
                                 f"{self.api.timeout}s ({error})") from None
        return code, (stdout or b"").decode(errors="replace"), (stderr or b"").decode(errors="replace")

    def _copy_hook(self, container, hook):
        try:
            self.api.put_archive(container["Id"], "/", _hook_archive(hook))
        except APIError as error:
            raise WorkspaceError(f"{lifecycle.HOOK_FIELD}: copying the hook into the workspace failed: "
                                 f"{error.explanation or error}") from None

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


def _tail(text, lines=20):
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _hook_archive(hook):
    """A tar stream with the post-start hook at its place in the container, executable by any user."""
    data = hook.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        parts = lifecycle.HOOKS_DIR.strip("/").split("/")
        for depth in range(1, len(parts) + 1):
            folder = tarfile.TarInfo("/".join(parts[:depth]))
            folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o755, int(time.time())
            archive.addfile(folder)
        member = tarfile.TarInfo(f"{'/'.join(parts)}/{lifecycle.POST_START_HOOK}")
        member.size, member.mode, member.mtime = len(data), lifecycle.HOOK_MODE, int(time.time())
        archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


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
