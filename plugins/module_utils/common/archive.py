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
    """A tar stream of entries {path, mode, data}; an entry without data is a directory.

    Owned by root and stamped now, unless an entry gives its own uid, gid or mtime.
    """
    buffer = io.BytesIO()
    now = int(time.time())
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for entry in entries:
            info = tarfile.TarInfo(entry["path"].lstrip("/"))
            info.mode, info.mtime = entry["mode"], int(entry.get("mtime") or now)
            info.uid, info.gid = entry.get("uid", 0), entry.get("gid", 0)
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


def head(prefix, complete):
    """What the first bytes of the engine's archive of a path say of the path itself (pure).

    {uid, gid, mode, mtime, type, empty}, or None for bytes that hold no entry. `complete` says the
    bytes are the whole archive; `empty` is True only then, and when no second entry follows the first.
    """
    try:
        with tarfile.open(fileobj=io.BytesIO(prefix), mode="r|") as archive:
            first = archive.next()
            if first is None:
                return None
            try:
                empty = complete and archive.next() is None
            except tarfile.TarError:  # the bytes stop inside the next entry's header
                empty = False
    except tarfile.TarError:
        return None
    return {"uid": first.uid, "gid": first.gid, "mode": first.mode, "mtime": first.mtime,
            "type": "directory" if first.isdir() else "other", "empty": empty}


def first_text(stream):
    """The text of the first file in a tar stream the engine sent."""
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
        member = archive.next()
        found = archive.extractfile(member) if member and member.isfile() else None
        return found.read().decode(errors="replace") if found else ""


def first_json(stream):
    """The JSON value of the first file in a tar stream the engine sent."""
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
        return json.loads(archive.extractfile(archive.next()).read().decode())
