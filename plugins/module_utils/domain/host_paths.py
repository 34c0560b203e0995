# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which host directories a workspace may have mounted (pure, no I/O).

A bind mount of a host directory is allowed only under a directory the
administrator lists in the cluster setting ``WORKSPACE_ALLOWED_HOST_PATHS``;
with none listed, no host directory is mounted at all (named volumes always
are). Whatever the list says, the directories that hand over the host - its
root, ``/etc``, ``/proc``, ``/sys``, ``/dev``, ``/run``, the engine's own
state, every ``*.sock`` - are never mounted, nor a directory that holds one of
them.

Paths are judged lexically, on the controller: ``.``, ``//`` and a trailing
``/`` are normalised away and a ``..`` component is refused. Symbolic links on
the host are resolved by the engine when it mounts the path, so a listed
directory must not hold links that lead out of it.
"""

from __future__ import annotations

import posixpath
import re

SETTING = "WORKSPACE_ALLOWED_HOST_PATHS"
# where the setting comes from on a Docker host (roles/docker_host)
ROLE_VARIABLE = "docker_host_allowed_host_paths"
# the setting's directories, separated as in PATH: a bind source cannot hold a ':' anyway
SEPARATOR = ":"
# the parsed setting, as cluster_settings.apply hands it to the workspace model
PARAM = "_allowed_host_paths"
# The host's configuration, kernel and devices, its daemons' sockets, the engines' own state, root's home and
# the boot files; the host's root is refused too, as it holds all of these.
NEVER_MOUNTED = (
    "/etc", "/proc", "/sys", "/dev", "/var/lib/docker", "/var/lib/containerd", "/var/lib/kubelet", "/run",
    "/var/run", "/root", "/boot",
)
SOCKET_SUFFIX = ".sock"
# what the Docker engine accepts as the name of a local volume
VOLUME_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]+$")
NEVER = "is never mounted into a workspace (it would hand over the host)"
VOLUME_FIX = f"mount a named volume, or a directory under one of {SETTING}"


def normalised(path):
    """An absolute path without '.', repeated and trailing '/'; None when it has a '..' component."""
    if ".." in path.split("/"):
        return None
    # normpath keeps a leading '//' (POSIX leaves its meaning to the system); the engine does not
    return "/" + posixpath.normpath(path).lstrip("/")


def is_under(path, directory):
    """Whether a normalised path is the directory or inside it."""
    return path == directory or directory == "/" or path.startswith(directory.rstrip("/") + "/")


def never_mounted(path):
    """Why a normalised absolute host path is never mounted into a workspace, or None."""
    if path.rsplit("/", 1)[-1].endswith(SOCKET_SUFFIX):
        return (f"is a socket (*{SOCKET_SUFFIX}): a daemon's socket, such as the Docker socket, gives the workspace "
                f"root on the host, so it {NEVER}")
    if path == "/":
        return NEVER
    for refused in NEVER_MOUNTED:
        if path == refused:
            return NEVER
        if is_under(path, refused):
            return f"is under {refused}, which {NEVER}"
        if is_under(refused, path):
            return f"holds {refused}, which {NEVER}"
    return None


def allowed_directories(value):
    """The setting's value -> (normalised directories, errors without the setting's name)."""
    if value in (None, ""):
        return [], []
    if not isinstance(value, str):
        return [], [f"write absolute directories separated by '{SEPARATOR}', for example '/srv/data:/opt/datasets'"]
    directories, errors = [], []
    for entry in (part.strip() for part in value.split(SEPARATOR)):
        if not entry:
            continue
        path = normalised(entry) if entry.startswith("/") else None
        if not entry.startswith("/"):
            errors.append(f"'{entry}' is not an absolute directory; write it from '/', for example '/srv/data'")
        elif path is None:
            errors.append(f"'{entry}' has a '..' component; write the directory itself")
        elif path == "/" or any(is_under(path, refused) for refused in NEVER_MOUNTED):
            errors.append(f"'{entry}' {never_mounted(path)}; list directories meant for workspace data, "
                          f"such as /srv/workspace-data")
        else:
            directories.append(path)
    return directories, errors


def _listed(allowed):
    return ", ".join(allowed) if allowed else "none set"


def volume_source_error(source, allowed, field):
    """Why the source of a container_config volume may not be mounted, or None.

    `allowed` is the list of allowed host directories (normalised); None skips the host path rules
    (a workspace being removed mounts nothing).
    """
    if not source.startswith("/"):
        if VOLUME_NAME.match(source):
            return None
        return (f"{field}: '{source}' is neither an absolute host path nor a volume name; write a volume name "
                f"(letters, digits, '_', '.', '-') or an absolute path, for example 'cache:/cache'")
    if allowed is None:
        return None
    path = normalised(source)
    if path is None:
        return (f"{field}: host path '{source}' has a '..' component; write the directory itself, without '..', "
                f"for example '/srv/data/project'")
    reason = never_mounted(path)
    if reason:
        return f"{field}: host path '{source}' {reason}; {VOLUME_FIX}"
    if not any(is_under(path, directory) for directory in allowed):
        return (f"{field}: host path '{source}' is not under the cluster setting {SETTING} ({_listed(allowed)}); "
                f"ask the administrator to add its directory (docker_host role variable {ROLE_VARIABLE})")
    return None


def shared_path_error(shared_path, subpath, field):
    """Why a shared host directory (and the workspace's sub-directory of it) may not be used, or None.

    The shared directory is an administrator's choice (the setting WORKSPACE_SHARED_PATH), so it need not
    be listed in WORKSPACE_ALLOWED_HOST_PATHS; what hands over the host is refused all the same.
    """
    path = normalised(shared_path) if shared_path.startswith("/") else None
    if path is None:
        return (f"{field}: '{shared_path}' must be an absolute host directory without '..', "
                f"for example '/srv/workspaces'")
    for candidate in (path, normalised(f"{path}/{subpath}")):
        reason = candidate and never_mounted(candidate)
        if reason:
            return (f"{field}: host path '{candidate}' {reason}; choose a directory of its own for the workspaces' "
                    f"data, for example '/srv/workspaces'")
    return None
