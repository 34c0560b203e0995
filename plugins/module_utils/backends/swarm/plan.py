# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired Swarm service for a workspace model (pure, no I/O).

In swarm mode a workspace is a replicated service with one replica when it
runs and none when it is stopped, built from the same container plan as a
plain container, so env, labels and mounts mean the same on both. Swarm
publishes ports on every interface of every node; the IDE port is therefore
published only when the task asks for a host port.
"""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import plan as docker_plan

NETWORK = "atelier-workspaces-swarm"
NANO = 10**9


def _mount(mount):
    return {"Type": mount["type"], "Source": mount["source"], "Target": mount["target"],
            "ReadOnly": mount["read_only"]}


def _resources(model):
    resources = model["resources"]
    limits = {}
    if resources["cpu_millis"]:
        limits["NanoCPUs"] = resources["cpu_millis"] * NANO // 1000
    if resources["memory_bytes"]:
        limits["MemoryBytes"] = resources["memory_bytes"]
    if resources["gpu"]:
        limits["GenericResources"] = [{"DiscreteResourceSpec": {"Kind": "gpu", "Value": resources["gpu"]}}]
    return {"Limits": limits} if limits else {}


def desired_service(model, replicas):
    """The service spec the engine is given, as plain data (the API's own field names)."""
    container = docker_plan.desired_container(model)
    mounts = [_mount(mount) for mount in container["mounts"]]
    if model["storage"]["kind"] == "volume":
        # the data volume was filled from the image and given to the workspace user before the service was
        # written (apply); a task's container copying the image's directory over an empty one would undo that
        mounts[0]["VolumeOptions"] = {"NoCopy": True}
    container_spec = {
        "Image": container["image"],
        "Env": container["environment"],
        "User": container["user"],
        "Dir": container["working_dir"],
        "Hostname": container["hostname"],
        "Mounts": mounts,
        "CapabilityDrop": ["ALL"],
        # the task's container carries the workspace labels too, so tools that look containers up find it
        "Labels": container["labels"],
    }
    if container["command"]:
        container_spec["Command"] = container["command"]
    spec = {
        "Name": container["name"],
        "Labels": container["labels"],
        "TaskTemplate": {
            "ContainerSpec": container_spec,
            "Resources": _resources(model),
            "RestartPolicy": {"Condition": "any", "MaxAttempts": 0},
            "Networks": [{"Target": NETWORK}],
        },
        "Mode": {"Replicated": {"Replicas": replicas}},
    }
    host_port = model["publish"]["host_port"]
    if host_port:
        spec["EndpointSpec"] = {"Ports": [
            {"Protocol": "tcp", "TargetPort": model["port"], "PublishedPort": host_port, "PublishMode": "host"}]}
    return spec


def url(model, service_name):
    """Where the IDE answers: the published port, or the service name on the workspace network."""
    if model["public_url"]:
        return model["public_url"]
    if model["publish"]["host_port"]:
        return f"http://127.0.0.1:{model['publish']['host_port']}/"
    return f"http://{service_name}:{model['port']}/"
