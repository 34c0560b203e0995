# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Engine-wide documents of the collection, kept on the Docker host itself.

Every controller that manages the engine must see the same documents, so they
live in a named volume on the engine's host, not on a controller. The volume
is reached through a holder container that is created but never started: the
engine copies files in and out of a stopped container's mounts. A plain
document is ``<document>.json`` (mode 0644); a secret one is
``<document>.secret.json``, mode 0600 and owned by root, so only the engine
(and root on its host) can read it. An empty document counts as no document.

A change is made under the document's engine-side lock (lock.py): the document
is read again, changed and written while no other run can write it, so changes
of parallel runs are all kept. An unchanged document costs reads only: no lock,
no write. Both halves of a pair go in one copy into the volume.
"""

from __future__ import annotations

import json

from ansible_collections.atelier.workspaces.plugins.module_utils import ports
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import client, lock
from ansible_collections.atelier.workspaces.plugins.module_utils.common import archive, document_pair, naming, wait

VOLUME = "atelier-control"
HOLDER = "atelier-control"
MOUNT = "/control"
# An image without files: the holder is never started, and importing it needs no registry.
HOLDER_REPOSITORY, HOLDER_TAG = "atelier/control-holder", "empty"
HOLDER_IMAGE = f"{HOLDER_REPOSITORY}:{HOLDER_TAG}"


def file_name(document, secret=False):
    return f"{document}.secret.json" if secret else f"{document}.json"


def _documents_archive(documents):
    """A tar stream of {(document, secret): mapping}, each file with the mode its kind calls for."""
    return archive.pack([
        {"path": file_name(document, secret), "mode": 0o600 if secret else 0o644,
         "data": json.dumps(mapping, sort_keys=True, indent=1).encode()}
        for (document, secret), mapping in documents.items()
    ])


class DockerStore(ports.Store):
    """Documents in the control volume, through a docker.APIClient.

    `lease` is how long a lock this store takes holds the others up if the run is killed while it holds it.
    """

    def __init__(self, api, lease=lock.LEASE_SECONDS):
        self.api = api
        self.lease = lease
        self._holder = None

    def _find_holder(self):
        if self._holder is None:
            found = client.exists(lambda: self.api.inspect_container(HOLDER))
            self._holder = found["Id"] if found else None
        return self._holder

    def read(self, document, secret=False):
        """The document's mapping, or None when it was never written."""
        holder = self._find_holder()
        if holder is None:
            return None
        try:
            stream, _stat = self.api.get_archive(holder, f"{MOUNT}/{file_name(document, secret)}")
        except client.NotFound:
            return None
        return archive.first_json(stream)

    def update(self, document, change, secret=False, dry_run=False):
        """Store change(current) as the document under its lock; True when it differed."""

        def files(current):
            wanted = change(current)
            # emptied is how the engine forgets a file of a stopped container
            return None if (wanted or {}) == (current or {}) else {(document, secret): wanted or {}}

        return self._change(document, lambda: self.read(document, secret), files, dry_run)

    def update_pair(self, document, change, dry_run=False):
        """Store both halves of change((plain, secret)) in one copy under the document's lock."""

        def files(stored):
            wanted = change(document_pair.view(*stored))
            if document_pair.unchanged(stored, wanted):
                return None
            plain, secret = document_pair.stamped(wanted, document_pair.new_revision())
            return {(document, True): secret or {}, (document, False): plain or {}}

        return self._change(document, lambda: (self.read(document), self.read(document, secret=True)), files,
                            dry_run)

    def _change(self, document, read, files, dry_run):
        """Write files(read()) under the document's lock; files() says None when nothing is to change.

        Read once without the lock first: a run that changes nothing takes no lock and writes nothing.
        """
        if files(read()) is None:
            return False
        if dry_run:
            return True
        holder = self._ensure_holder()

        def attempt():
            with lock.Lock(self.api, document, HOLDER_IMAGE, self.lease) as held:
                found = files(read())
                if found is None:
                    return False  # another run made the same change first
                if not held.check():
                    return wait.CONFLICT  # slower than the lease: another run may have taken the lock
                self.api.put_archive(holder, MOUNT, _documents_archive(found))
            return True

        return wait.retry_on_conflict(attempt, f"the control document {document}")

    def _ensure_holder(self):
        if self._find_holder() is None:
            labels = {naming.LABEL_MANAGED_BY: naming.MANAGED_BY}
            if not self.api.volumes(filters={"name": VOLUME}).get("Volumes"):
                self.api.create_volume(VOLUME, labels=labels)  # the engine returns the one a parallel run made
            if not self.api.images(name=HOLDER_IMAGE, quiet=True):
                self.api.import_image_from_data(archive.pack([]), repository=HOLDER_REPOSITORY, tag=HOLDER_TAG)
            host_config = self.api.create_host_config(binds={VOLUME: {"bind": MOUNT, "mode": "rw"}},
                                                      network_mode="none")
            try:
                self._holder = self.api.create_container(
                    HOLDER_IMAGE, name=HOLDER, labels=labels, host_config=host_config,
                    command=["true"], network_disabled=True)["Id"]
            except client.APIError as error:
                if error.status_code != 409:
                    raise
                self._holder = self.api.inspect_container(HOLDER)["Id"]  # a parallel run created it first
        return self._holder
