# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Docker workspace looks like to the user, read from its inspected container (pure)."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import plan as docker_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import archive, configuration, env_policy


def label_names(labels, label):
    """The names a comma-separated label lists."""
    return [name for name in (labels or {}).get(label, "").split(",") if name]


def managed_env(labels, env_items, redacted=False):
    """The variables the collection manages, from a container's env list; secret values hidden if asked."""
    managed = set(label_names(labels, docker_plan.LABEL_ENV_NAMES))
    secret = set(label_names(labels, docker_plan.LABEL_SECRET_NAMES)) if redacted else set()
    pairs = (item.partition("=") for item in env_items or [])
    return {name: env_policy.REDACTED if name in secret else value
            for name, _sep, value in pairs if name in managed}


def recorded_configuration(container):
    """The options the workspace was given, with the limits the container has now (they change in place)."""
    stored = configuration.decode(container["Config"]["Labels"].get(docker_plan.LABEL_CONFIGURATION))
    if stored is None:
        return None
    host = container["HostConfig"]
    return configuration.with_limits(stored, (host.get("CpuQuota") or 0) * 1000 // docker_plan.CPU_PERIOD or None,
                                     host.get("Memory") or None)


def summary(container):
    """The diff's 'before' side, read back from the engine's container."""
    if not container:
        return None
    config = container["Config"]
    found = view(container)
    return {
        "image": config["Image"],
        "command": config.get("Cmd"),
        "user": config.get("User"),
        "env": managed_env(config["Labels"], config.get("Env"), redacted=True),
        "cpu_millis": found["resources"]["cpu_millis"],
        "memory_bytes": found["resources"]["memory_bytes"],
        "status": found["status"],
    }


def view(container):
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
        "configuration": configuration.shown(recorded_configuration(container)),
        **archive.fields(recorded_configuration(container)),
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
