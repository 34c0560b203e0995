# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The env of existing Docker workspaces: read it, and give a workspace a new one.

A container's env is fixed when it is created, so a new env means a new
container: the same configuration, mounts and host settings read back from the
engine, with the workspace's managed variables and their labels replaced. The
data volume or directory is mounted again; nothing else is touched.
"""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import client, observe
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import plan as docker_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import roles as role_docker
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import env_policy


def workspace_envs(api, containers=None):
    """Every workspace on the engine (or those inspected) with its stored env inputs, env values and config hash."""
    found = []
    for container in client.inspect_all(api) if containers is None else containers:
        found.append(workspace_env(container["Config"]["Labels"], container["Config"].get("Env"),
                                   bool(container["State"].get("Running")), container))
    return found


def env_labels(inputs, entries):
    """The labels that record a workspace's env: names, secret names, inputs and their hash (pure)."""
    return {
        docker_plan.LABEL_CONFIG_HASH: env_policy.config_hash(entries),
        docker_plan.LABEL_ENV_NAMES: ",".join(sorted(e["name"] for e in entries)),
        docker_plan.LABEL_SECRET_NAMES: ",".join(sorted(e["name"] for e in entries if e["secret"])),
        docker_plan.LABEL_ENV_INPUTS: env_policy.encode_inputs(env_policy.with_sources(inputs, entries)),
    }


def replaced_env(env_items, labels, entries):
    """An env list with the managed variables replaced by the entries; the image's own kept (pure)."""
    managed = set(observe.label_names(labels, docker_plan.LABEL_ENV_NAMES))
    kept = [item for item in env_items or [] if item.partition("=")[0] not in managed]
    return kept + [f"{e['name']}={e['value']}" for e in entries]


def workspace_env(labels, env_items, running, backend_object):
    """One workspace's recorded env, as the env policy task reads it (pure)."""
    return {
        "backend": "docker",
        "namespace": None,
        "name": labels[naming.LABEL_WORKSPACE],
        "inputs": env_policy.decode_inputs(labels.get(docker_plan.LABEL_ENV_INPUTS)),
        "values": observe.managed_env(labels, env_items),
        "config_hash": labels.get(docker_plan.LABEL_CONFIG_HASH),
        "running": running,
        "object": backend_object,
    }


def refreshed_config(container, inputs, entries):
    """The create configuration of the replacement container (pure)."""
    config = dict(container["Config"])
    config["Env"] = replaced_env(config.get("Env"), config["Labels"], entries)
    config["Labels"] = {**config["Labels"], **env_labels(inputs, entries)}
    config["HostConfig"] = container["HostConfig"]
    return config


def refresh(api, workspace, entries, dry_run):
    """Replace the container with one that has the new env; start it again if it was running."""
    if dry_run:
        return
    container = workspace["object"]
    config = refreshed_config(container, workspace["inputs"], entries)
    api.remove_container(container["Id"], force=True)
    created = api.create_container_from_config(config, container["Name"].lstrip("/"))
    role_docker.export_into(api, created["Id"], workspace["name"])
    if workspace["running"]:
        api.start(created["Id"])
