# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Engine-wide documents of the collection, kept on the Docker host itself.

Every controller that manages the engine must see the same documents, so they
live in a named volume on the engine's host, not on a controller. The volume
is reached through a holder container that is created but never started: the
engine copies files in and out of a stopped container's mounts. A plain
document is ``<document>.json`` (mode 0644); a secret one is
``<document>.secret.json``, mode 0600 and owned by root, so only the engine
(and root on its host) can read it. Writing an unchanged document sends nothing.
An empty document counts as no document.
"""

from __future__ import annotations

import json

from ansible_collections.atelier.workspaces.plugins.module_utils.common import archive, naming

try:
    from docker.errors import NotFound
except ImportError:  # the modules report the missing library before any store is used
    NotFound = Exception

VOLUME = "atelier-control"
HOLDER = "atelier-control"
MOUNT = "/control"
# An image without files: the holder is never started, and importing it needs no registry.
HOLDER_REPOSITORY, HOLDER_TAG = "atelier/control-holder", "empty"
HOLDER_IMAGE = f"{HOLDER_REPOSITORY}:{HOLDER_TAG}"


def file_name(document, secret=False):
    return f"{document}.secret.json" if secret else f"{document}.json"


def _document_archive(document, mapping, secret):
    payload = json.dumps(mapping, sort_keys=True, indent=1).encode()
    return archive.pack([{"path": file_name(document, secret), "mode": 0o600 if secret else 0o644, "data": payload}])


class DockerStore:
    """Documents in the control volume, through a docker.APIClient."""

    def __init__(self, api):
        self.api = api
        self._holder = None

    def _find_holder(self):
        if self._holder is None:
            try:
                self._holder = self.api.inspect_container(HOLDER)["Id"]
            except NotFound:
                return None
        return self._holder

    def read(self, document, secret=False):
        """The document's mapping, or None when it was never written."""
        holder = self._find_holder()
        if holder is None:
            return None
        try:
            stream, _stat = self.api.get_archive(holder, f"{MOUNT}/{file_name(document, secret)}")
        except NotFound:
            return None
        return archive.first_json(stream)

    def write(self, document, mapping, secret=False, dry_run=False):
        """Store the mapping as the whole document; True when it differed (and was written unless dry_run)."""
        if self.read(document, secret) == mapping:
            return False
        if not dry_run:
            self.api.put_archive(self._ensure_holder(), MOUNT, _document_archive(document, mapping, secret))
        return True

    def remove(self, document, secret=False, dry_run=False):
        """Empty the document (the engine cannot delete a file of a stopped container); True when it held data."""
        if not self.read(document, secret):
            return False
        return self.write(document, {}, secret=secret, dry_run=dry_run)

    def _ensure_holder(self):
        if self._find_holder() is None:
            labels = {naming.LABEL_MANAGED_BY: naming.MANAGED_BY}
            if not self.api.volumes(filters={"name": VOLUME}).get("Volumes"):
                self.api.create_volume(VOLUME, labels=labels)
            if not self.api.images(name=HOLDER_IMAGE, quiet=True):
                self.api.import_image_from_data(archive.pack([]), repository=HOLDER_REPOSITORY, tag=HOLDER_TAG)
            host_config = self.api.create_host_config(binds={VOLUME: {"bind": MOUNT, "mode": "rw"}},
                                                      network_mode="none")
            self._holder = self.api.create_container(
                HOLDER_IMAGE, name=HOLDER, labels=labels, host_config=host_config,
                command=["true"], network_disabled=True)["Id"]
        return self._holder
