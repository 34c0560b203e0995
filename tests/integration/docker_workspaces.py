"""Helpers the Docker integration tests share: find, enter and remove workspace containers, and keep the
engine-wide documents as they were."""

import contextlib
import io
import os
import tarfile

import docker
from ansible_runner import run_module

NAME_LABEL = "workspaces.atelier.dev/name"


def container(client, name):
    """The one container of a workspace, or None."""
    found = client.containers.list(all=True, filters={"label": f"{NAME_LABEL}={name}"})
    assert len(found) <= 1
    return found[0] if found else None


def exec_as_user(workspace_container, command):
    """Output of a shell command run as the workspace user; it must succeed."""
    code, output = workspace_container.exec_run(["sh", "-c", command], user="1000")
    assert code == 0, output.decode(errors="replace")
    return output.decode().strip()


def converge_twice(args):
    """Run the workspace module twice; the second run must change nothing."""
    first = run_module("atelier.workspaces.workspace", args)
    second = run_module("atelier.workspaces.workspace", args)
    assert second["changed"] is False, second["actions"]
    assert second["actions"] == []
    return first


def remove_workspaces(client, prefix):
    """Containers, Swarm services and volumes of every workspace whose name starts with prefix."""
    def ours(labels):
        return (labels or {}).get(NAME_LABEL, "").startswith(prefix)

    for found in client.containers.list(all=True, filters={"label": NAME_LABEL}):
        if ours(found.labels):
            found.remove(force=True)
    for volume in client.volumes.list(filters={"label": NAME_LABEL}):
        if ours(volume.attrs["Labels"]):
            volume.remove(force=True)


CONTROL_VOLUME, CONTROL_HOLDER, CONTROL_MOUNT = "atelier-control", "atelier-control", "/control"
HELPER_IMAGE = "atelier/busybox:local"
# atelier/busybox:local without a shell, mkdir, chown or chmod and without /home: an image that can only
# sleep, whose user_code_path the collection must make writable all by itself
TOOLLESS_DOCKERFILE = """FROM atelier/busybox:local
RUN ["/bin/busybox", "rm", "-f", "/bin/sh", "/bin/ash", "/bin/mkdir", "/bin/chown", "/bin/chgrp", "/bin/chmod"]
"""


def build_toolless_image(client, tag):
    """Build the image without tools under `tag` (locally: no registry is involved)."""
    client.images.build(fileobj=io.BytesIO(TOOLLESS_DOCKERFILE.encode()), tag=tag, rm=True, forcerm=True)
    return tag


def in_volume(client, volume):
    """The directory of a local engine's volume on this host."""
    return client.volumes.get(volume).attrs["Mountpoint"]


def control_files(client):
    """name -> (tar member, content) of every file of the engine's control documents; {} before the first."""
    try:
        stream, _stat = client.api.get_archive(CONTROL_HOLDER, f"{CONTROL_MOUNT}/.")
    except docker.errors.NotFound:
        return {}
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
        return {os.path.basename(member.name): (member, archive.extractfile(member).read())
                for member in archive.getmembers() if member.isfile()}


@contextlib.contextmanager
def kept_control_documents(client):
    """The engine-wide documents (env policy, roles, settings, ...) as they were before, whatever the body did.

    An engine may hold its user's own policy and roles; a test changes them only for its own time.
    """
    before = control_files(client)
    try:
        yield before
    finally:
        after = control_files(client)
        added = sorted(set(after) - set(before))
        if added:
            # the engine cannot delete a file of a stopped container: a throwaway one mounting the volume does
            client.containers.run(HELPER_IMAGE, ["rm", "-f", *(f"{CONTROL_MOUNT}/{name}" for name in added)],
                                  remove=True, network_disabled=True,
                                  volumes={CONTROL_VOLUME: {"bind": CONTROL_MOUNT, "mode": "rw"}})
        changed = [name for name in before if after.get(name, (None, None))[1] != before[name][1]]
        if changed:
            buffer = io.BytesIO()
            with tarfile.open(fileobj=buffer, mode="w") as archive:
                for name in changed:
                    member, content = before[name]
                    member.name = name
                    archive.addfile(member, io.BytesIO(content))
            client.api.put_archive(CONTROL_HOLDER, CONTROL_MOUNT, buffer.getvalue())


@contextlib.contextmanager
def allowed_host_paths(client, *directories):
    """The engine's cluster setting WORKSPACE_ALLOWED_HOST_PATHS listing the directories, for the body's time only;
    the other settings and documents stay as they were."""
    from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import store
    from ansible_collections.atelier.workspaces.plugins.module_utils.domain import cluster_settings, host_paths

    with kept_control_documents(client):
        store.DockerStore(client.api).update(cluster_settings.DOCUMENT, lambda current: {
            **(current or {}), host_paths.SETTING: host_paths.SEPARATOR.join(map(str, directories))})
        yield
