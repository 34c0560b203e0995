"""Who owns a workspace's data directory on Docker: the pure parts (the engine's part is integration-tested)."""

import pytest

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import datadir
from ansible_collections.atelier.workspaces.plugins.module_utils.common import archive

PASSWD = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/data:/bin/sh\nbroken:x\n"
GROUP = "root:x:0:\nstaff:x:50:user\n"


def _tar(*entries):
    return archive.pack([{"mode": 0o755, **entry} for entry in entries])


def test_the_head_of_an_archive_describes_the_directory_and_whether_it_is_empty():
    empty = _tar({"path": "code", "uid": 1000, "gid": 0, "mode": 0o2775, "mtime": 1700000000})
    assert archive.head(empty, complete=True) == {
        "uid": 1000, "gid": 0, "mode": 0o2775, "mtime": 1700000000, "type": "directory", "empty": True}
    full = _tar({"path": "code"}, {"path": "code/a.py", "mode": 0o644, "data": b"x" * 4000})
    assert archive.head(full, complete=True)["empty"] is False
    assert archive.head(full[:512], complete=False)["empty"] is False, "a cut archive is never called empty"
    assert archive.head(empty[:1024], complete=False)["empty"] is False
    assert archive.head(_tar({"path": "f", "mode": 0o644, "data": b"1"}), complete=True)["type"] == "other"
    assert archive.head(b"", complete=True) is None
    assert archive.head(b"not a tar" * 100, complete=True) is None


@pytest.mark.parametrize(("user", "expected"), [
    ("1000", ("1000", None)), ("1000:0", ("1000", "0")), ("dev:staff", ("dev", "staff")), ("1234:", ("1234", None)),
])
def test_split_user(user, expected):
    assert datadir.split_user(user) == expected


def test_lookup_finds_names_and_ids():
    assert datadir.lookup(PASSWD, "user") == (1000, 1000)
    assert datadir.lookup(PASSWD, "1000", by_id=True) == (1000, 1000)
    assert datadir.lookup(PASSWD, "nobody") is None
    assert datadir.lookup(PASSWD, "broken") is None
    assert datadir.lookup(GROUP, "staff") == (50, None)
    assert datadir.lookup("", "root") is None


def _dir(uid, gid, mode):
    return {"uid": uid, "gid": gid, "mode": mode}


@pytest.mark.parametrize(("found", "who", "expected"), [
    (_dir(0, 0, 0o755), {"uid": 1000, "process_gid": 1000}, False),  # what an image without the path gives
    (_dir(0, 0, 0o755), {"uid": 0, "process_gid": 0}, True),
    (_dir(1000, 0, 0o755), {"uid": 1000, "process_gid": 1000}, True),
    (_dir(1000, 0, 0o555), {"uid": 1000, "process_gid": 1000}, False),
    (_dir(1000, 0, 0o775), {"uid": 1234, "process_gid": 0}, True),  # the default image's group-0 way
    (_dir(1000, 0, 0o775), {"uid": 1234, "process_gid": 1234}, False),
    (_dir(0, 0, 0o1777), {"uid": 1234, "process_gid": 1234}, True),
])
def test_writable(found, who, expected):
    assert datadir.writable(found, who) is expected


class _Image:
    """Just enough of the engine's API to read files of an image."""

    def __init__(self, files):
        self.files, self.read = files, []

    def get_archive(self, _container, path):
        self.read.append(path)
        if path not in self.files:
            raise datadir.client.NotFound(path)
        name = path.rsplit("/", 1)[-1]
        return [archive.pack([{"path": name, "mode": 0o644, "data": self.files[path].encode()}])], {}


@pytest.mark.parametrize(("user", "expected"), [
    ("1000", {"uid": 1000, "gid": 0, "process_gid": 1000}),  # the process gets the passwd group
    ("1234", {"uid": 1234, "gid": 0, "process_gid": 0}),
    ("user", {"uid": 1000, "gid": 0, "process_gid": 1000}),
    ("1234:50", {"uid": 1234, "gid": 50, "process_gid": 50}),
    ("user:staff", {"uid": 1000, "gid": 50, "process_gid": 50}),
])
def test_identity_reads_names_from_the_image(user, expected):
    assert datadir.identity(_Image({"/etc/passwd": PASSWD, "/etc/group": GROUP}), "c", user) == expected


def test_identity_needs_no_file_for_numbers_and_names_what_is_missing():
    image = _Image({})
    assert datadir.identity(image, "c", "1234:5") == {"uid": 1234, "gid": 5, "process_gid": 5}
    assert image.read == []
    assert datadir.identity(image, "c", "1234") == {"uid": 1234, "gid": 0, "process_gid": 0}
    with pytest.raises(datadir.WorkspaceError, match=r"^user: 'dev' is not in the image's /etc/passwd"):
        datadir.identity(image, "c", "dev")
    with pytest.raises(datadir.WorkspaceError, match=r"^user: the group 'staff' is not in the image's /etc/group"):
        datadir.identity(image, "c", "1000:staff")
