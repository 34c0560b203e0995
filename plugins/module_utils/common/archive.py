# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tar streams, the form in which the Docker engine takes files into and gives them out of a container (pure)."""

from __future__ import annotations

import io
import json
import tarfile
import time


def directories(path, mode=0o755):
    """Entries for every directory above a file, outermost first."""
    parts = path.strip("/").split("/")[:-1]
    return [{"path": "/".join(parts[:depth]), "mode": mode} for depth in range(1, len(parts) + 1)]


def pack(entries):
    """A tar stream of entries {path, mode, data}; an entry without data is a directory. Owned by root."""
    buffer = io.BytesIO()
    now = int(time.time())
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for entry in entries:
            info = tarfile.TarInfo(entry["path"].lstrip("/"))
            info.mode, info.mtime, info.uid, info.gid = entry["mode"], now, 0, 0
            data = entry.get("data")
            if data is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def file_with_parents(path, data, mode):
    """A tar stream with one file and the directories that lead to it."""
    return pack([*directories(path), {"path": path, "mode": mode, "data": data}])


def first_json(stream):
    """The JSON value of the first file in a tar stream the engine sent."""
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
        return json.loads(archive.extractfile(archive.next()).read().decode())
