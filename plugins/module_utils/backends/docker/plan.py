# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired Docker objects for a workspace model (pure, no I/O).

Container settings fall in two classes, as on the engine itself: the ones a
running container can take in place (CPU and memory limits) and the ones that
need a new container (everything else). The second class is fingerprinted into
a label, so a re-run compares one label instead of re-deriving engine state.
"""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.common import hashing, naming
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import configuration, env_policy, lifecycle

NETWORK = "atelier-workspaces"
CONTAINER_PREFIX = "atelier-"
LABEL_SPEC_HASH = "workspaces.atelier.dev/spec-hash"
LABEL_CONFIG_HASH = "workspaces.atelier.dev/config-hash"
LABEL_ENV_NAMES = "workspaces.atelier.dev/env-names"
LABEL_SECRET_NAMES = "workspaces.atelier.dev/secret-env-names"
LABEL_ENV_INPUTS = "workspaces.atelier.dev/env-inputs"
LABEL_PORT = "workspaces.atelier.dev/ide-port"
LABEL_PUBLIC_URL = "workspaces.atelier.dev/public-url"
# the options as the tasks gave them (see domain/configuration)
LABEL_CONFIGURATION = "workspaces.atelier.dev/configuration"
CPU_PERIOD = 100000  # the CFS period Docker uses for --cpus


def container_name(workspace):
    return f"{CONTAINER_PREFIX}{workspace}"


def volume_name(workspace):
    return f"{CONTAINER_PREFIX}{naming.object_name(workspace, 'data')}"


def _mounts(model):
    storage = model["storage"]
    if storage["kind"] == "shared":
        data = {"type": "bind", "source": f"{storage['shared_path'].rstrip('/')}/{storage['subpath']}"}
    else:
        data = {"type": "volume", "source": volume_name(model["name"])}
    data.update({"target": model["user_code_path"], "read_only": False})
    extra = [
        {"type": "bind" if v["source"].startswith("/") else "volume", **v}
        for v in model["extra_volumes"]
    ]
    return [data, *extra]


def live_resources(model):
    """Limits the engine can change on a running container."""
    resources = model["resources"]
    cpu = resources["cpu_millis"]
    return {
        "cpu_quota": cpu * CPU_PERIOD // 1000 if cpu else 0,
        "memory": resources["memory_bytes"] or 0,
    }


def _lifecycle_settings(model):
    """The lifecycle settings that need a new container.

    Labels (the idle policy) cannot change on a container, and changed startup commands or
    hooks restart the workspace deliberately, as a new pod template does on Kubernetes.
    Empty for a workspace without them, so its spec hash stays what it was.
    """
    workspace_lifecycle = model["lifecycle"]
    settings = {}
    if workspace_lifecycle["termination"]:
        settings["termination"] = workspace_lifecycle["termination"]
    if workspace_lifecycle["startup"]:
        settings["startup"] = hashing.fingerprint(workspace_lifecycle["startup"])
    if workspace_lifecycle["post_start"]:
        settings["post_start"] = {"command": workspace_lifecycle["post_start"]["command"],
                                  "hook": lifecycle.hook_fingerprint(workspace_lifecycle["post_start"])}
    return settings


def desired_container(model):
    """Everything needed to create the workspace container, as plain data."""
    env = {entry["name"]: entry["value"] for entry in model["env"]}
    recreate = {
        "image": model["image"],
        "command": model["command"],
        "user": model["user"],
        # env is left out: the config-hash label covers it, so a policy refresh can rewrite it alone
        "mounts": _mounts(model),
        "working_dir": model["user_code_path"],
        "port": model["port"],
        "publish": model["publish"],
        "gpu": model["resources"]["gpu"],
        "labels": model["labels"],
        # removing a limit is not something the engine does in place
        "limited": {key: bool(value) for key, value in live_resources(model).items()},
    }
    recreate.update(_lifecycle_settings(model))
    # a container's labels cannot change, so a new record needs a new container; limits change in place
    recreate["configuration"] = configuration.record_without_limits(model["configuration"])
    labels = dict(model["labels"])
    labels.update(naming.owned_labels(model["name"]))
    labels.update({
        LABEL_SPEC_HASH: hashing.fingerprint(recreate),
        LABEL_CONFIG_HASH: env_policy.config_hash(model["env"]),
        LABEL_ENV_NAMES: ",".join(sorted(env)),
        LABEL_SECRET_NAMES: ",".join(sorted(e["name"] for e in model["env"] if e["secret"])),
        LABEL_PORT: str(model["port"]),
        LABEL_ENV_INPUTS: env_policy.encode_inputs(model["env_inputs"]),
    })
    labels.update(lifecycle.termination_metadata(model["lifecycle"]["termination"]))
    labels[LABEL_CONFIGURATION] = configuration.encode(model["configuration"])
    if model["public_url"]:
        labels[LABEL_PUBLIC_URL] = model["public_url"]
    return {
        "name": container_name(model["name"]),
        "image": model["image"],
        "command": model["command"],
        "user": model["user"],
        "environment": [f"{name}={value}" for name, value in sorted(env.items())],
        "labels": labels,
        "working_dir": model["user_code_path"],
        "hostname": model["name"],
        "mounts": _mounts(model),
        "ports": {f"{model['port']}/tcp": (model["publish"]["bind_address"], model["publish"]["host_port"])},
        "gpu": model["resources"]["gpu"],
        "resources": live_resources(model),
        "network": NETWORK,
    }


def summary(model):
    """What diff mode shows of a workspace: settings a user wrote, secrets redacted."""
    return {
        "image": model["image"],
        "command": model["command"],
        "user": model["user"],
        "env": {e["name"]: e["value"] for e in env_policy.redact(model["env"])},
        "cpu_millis": model["resources"]["cpu_millis"],
        "memory_bytes": model["resources"]["memory_bytes"],
        "gpu": model["resources"]["gpu"],
        "mounts": _mounts(model),
        "port": model["port"],
        "publish": model["publish"],
        "labels": model["labels"],
    }
