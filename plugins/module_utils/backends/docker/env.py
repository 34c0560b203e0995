# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The env of existing Docker workspaces: read it, and give a workspace a new one.

A container's env is fixed when it is created, so a new env means a new
container: the same configuration, mounts and host settings read back from the
engine, with the workspace's managed variables and their labels replaced. The
data volume or directory is mounted again; nothing else is touched.
"""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import engine as docker_engine
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import plan as docker_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import roles as role_docker
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import env_policy


def _names(labels, label):
    return [name for name in labels.get(label, "").split(",") if name]


def _managed_values(container):
    managed = set(_names(container["Config"]["Labels"], docker_plan.LABEL_ENV_NAMES))
    pairs = (item.partition("=") for item in container["Config"].get("Env") or [])
    return {name: value for name, _sep, value in pairs if name in managed}


def inspect_all(api, name=None):
    """The full inspection of every workspace container (or one workspace's)."""
    return [api.inspect_container(summary["Id"]) for summary in docker_engine.find_containers(api, name)]


def workspace_envs(api, containers=None):
    """Every workspace on the engine (or those inspected) with its stored env inputs, env values and config hash."""
    found = []
    for container in inspect_all(api) if containers is None else containers:
        labels = container["Config"]["Labels"]
        found.append({
            "backend": "docker",
            "namespace": None,
            "name": labels[naming.LABEL_WORKSPACE],
            "inputs": env_policy.decode_inputs(labels.get(docker_plan.LABEL_ENV_INPUTS)),
            "values": _managed_values(container),
            "config_hash": labels.get(docker_plan.LABEL_CONFIG_HASH),
            "running": bool(container["State"].get("Running")),
            "container": container,
        })
    return found


def refreshed_config(container, inputs, entries):
    """The create configuration of the replacement container (pure)."""
    config = dict(container["Config"])
    managed = set(_names(config["Labels"], docker_plan.LABEL_ENV_NAMES))
    kept = [item for item in config.get("Env") or [] if item.partition("=")[0] not in managed]
    config["Env"] = kept + [f"{e['name']}={e['value']}" for e in entries]
    config["Labels"] = {
        **config["Labels"],
        docker_plan.LABEL_CONFIG_HASH: env_policy.config_hash(entries),
        docker_plan.LABEL_ENV_NAMES: ",".join(sorted(e["name"] for e in entries)),
        docker_plan.LABEL_SECRET_NAMES: ",".join(sorted(e["name"] for e in entries if e["secret"])),
        docker_plan.LABEL_ENV_INPUTS: env_policy.encode_inputs(env_policy.with_sources(inputs, entries)),
    }
    config["HostConfig"] = container["HostConfig"]
    return config


def refresh(api, workspace, entries, dry_run):
    """Replace the container with one that has the new env; start it again if it was running."""
    if dry_run:
        return
    container = workspace["container"]
    config = refreshed_config(container, workspace["inputs"], entries)
    api.remove_container(container["Id"], force=True)
    created = api.create_container_from_config(config, container["Name"].lstrip("/"))
    role_docker.export_into(api, created["Id"], workspace["name"])
    if workspace["running"]:
        api.start(created["Id"])
