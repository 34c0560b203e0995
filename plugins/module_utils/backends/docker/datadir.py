# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workspace user's data directory on an engine: owned by that user, whatever the image holds.

When the engine creates a container on an empty volume it copies the image's directory at the mount
point into it, ownership included; an image without that directory gives the volume's top directory to
root, which the workspace user cannot write. So the collection gives a directory it made to the workspace
user itself, through the engine's archive API on a container that is created and never started: that
needs no shell, mkdir or chown in the image and no image but the workspace's own, and works on a remote
engine too. Only the top directory changes, and only one the collection made or found empty.
"""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import client
from ansible_collections.atelier.workspaces.plugins.module_utils.common import archive, naming
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError

# the mode a directory given to the workspace user gets at least: its user and group may write it, and
# what is made in it keeps the directory's group (as Kubernetes makes a volume of a pod's fsGroup)
WRITABLE_BITS = 0o2770
SHARED_MODE = 0o2775
# what is read of an archive to learn of the directory itself: its own entry and whether another follows
HEAD_BYTES = 16 * 1024
# the engine creates a container only with a command; these helpers are never started
NEVER_RUN = ["/nonexistent/never-started"]


def split_user(user):
    """('1000', None) for '1000', ('name', 'group') for 'name:group' (pure)."""
    name, _sep, group = str(user).partition(":")
    return name, group or None


def lookup(table, name, by_id=False):
    """(id, primary group id) of a name in /etc/passwd or /etc/group text, or of an id with by_id; None
    when it is not there (pure). A group line has no primary group: its second value is None."""
    for line in table.splitlines():
        fields = line.split(":")
        if len(fields) < 3 or not fields[2].isdigit() or fields[(2 if by_id else 0)] != name:
            continue
        return int(fields[2]), int(fields[3]) if len(fields) > 3 and fields[3].isdigit() else None
    return None


def writable(found, identity):
    """Whether the workspace process may create files in a directory of this owner and mode (pure).

    `identity` is what identity() says; groups the image's /etc/group adds are left out.
    """
    mode, uid = found["mode"], identity["uid"]
    return (uid == 0 or (found["uid"] == uid and mode & 0o300 == 0o300)
            or (found["gid"] == identity["process_gid"] and mode & 0o030 == 0o030) or mode & 0o003 == 0o003)


def read_head(api, container_id, path):
    """What the engine's archive of a path in a container says of the path itself, or None when it is missing.

    Only the first bytes are read and the response is closed, so a directory full of data costs no more.
    """
    url = f"{api.base_url}/v{api.api_version}/containers/{container_id}/archive"
    with api.get(url, params={"path": path}, stream=True, timeout=api.timeout,
                 headers={"Accept-Encoding": "identity"}) as response:
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise WorkspaceError(f"reading {path} in a container failed: {_message(response)}")
        prefix = b""
        while len(prefix) < HEAD_BYTES:
            chunk = response.raw.read(HEAD_BYTES - len(prefix))
            if not chunk:
                break
            prefix += chunk
    found = archive.head(prefix, complete=len(prefix) < HEAD_BYTES)
    if found is None:
        raise WorkspaceError(f"reading {path} in a container failed: the engine sent no archive of it")
    return found


def _message(response):
    try:
        return response.json().get("message") or response.reason
    except ValueError:
        return response.reason


def _read_file(api, container_id, path):
    """The text of a small file in a container, or '' when it is missing."""
    try:
        stream, _stat = api.get_archive(container_id, path)
    except client.NotFound:
        return ""
    return archive.first_text(stream)


def identity(api, container_id, user):
    """Who the workspace runs as, from `user` ('uid[:gid]', names as the image's /etc/passwd and /etc/group
    have them): {uid, gid, process_gid}.

    `gid` is the group a directory made for it gets: 0 unless the user names one, as on Kubernetes.
    `process_gid` is the group its process has, as the engine picks it: the named one, else the user's
    primary group in /etc/passwd, else 0.
    """
    name, group = split_user(user)
    passwd = _read_file(api, container_id, "/etc/passwd") if not (name.isdigit() and group) else ""
    entry = lookup(passwd, name, by_id=name.isdigit())
    if not name.isdigit() and entry is None:
        raise WorkspaceError(f"user: '{name}' is not in the image's /etc/passwd; give a numeric uid[:gid]")
    uid = int(name) if name.isdigit() else entry[0]
    if group is None:
        return {"uid": uid, "gid": 0, "process_gid": entry[1] if entry and entry[1] is not None else 0}
    if group.isdigit():
        return {"uid": uid, "gid": int(group), "process_gid": int(group)}
    found = lookup(_read_file(api, container_id, "/etc/group"), group)
    if found is None:
        raise WorkspaceError(f"user: the group '{group}' is not in the image's /etc/group; give a numeric uid[:gid]")
    return {"uid": uid, "gid": found[0], "process_gid": found[0]}


def give(api, container_id, directory, relative, uid, gid, mode, mtime=None):
    """Make the directory at directory/relative (in a container) owned by uid:gid with mode.

    The engine applies an archive's directory entry to a directory that is there, and makes a missing
    one, and its missing parents below `directory` owned by root with mode 0755, as mkdir -p would.
    """
    entry = {"path": relative, "mode": mode, "uid": uid, "gid": gid, "mtime": mtime}
    api.put_archive(container_id, directory, archive.pack([entry]))


def create_helper(api, image, mounts, working_dir=None):
    """The id of a container of the workspace's image with these mounts, created and never started.

    It only lends its mounts to the archive API; whoever creates it removes it.
    """
    created = api.create_container(
        image, entrypoint=NEVER_RUN, command=[], working_dir=working_dir, network_disabled=True,
        labels={naming.LABEL_MANAGED_BY: naming.MANAGED_BY},
        host_config=api.create_host_config(mounts=mounts, network_mode="none"),
    )
    return created["Id"]
