# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An engine-side lock per control document: a container with a fixed name.

The engine creates a container under a name it does not know yet and refuses (HTTP 409) a second one,
so exactly one run at a time holds ``atelier-control-lock-<document>``. The container is never started.
Its label carries its lease; the engine stamps its creation time, so whether a lock outlived its lease
is judged by the engine's own clock, never a controller's, and a run killed while holding one holds the
others up for one lease at most. An expired lock is removed by its id: a lock another run took since
keeps its name under a new id and is never removed by mistake.
"""

from __future__ import annotations

import random
import time

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import client
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain.idle import parse_time

PREFIX = "atelier-control-lock-"
LABEL_LEASE = "workspaces.atelier.dev/lock-lease-seconds"
# A holder reads, changes and writes one small document: seconds, even with an engine call tried again.
LEASE_SECONDS = 30
# Runs queue for a busy document; the longest one waits for its turn.
WAIT_SECONDS = 120
LONGEST_POLL = 0.5


def name(document):
    return f"{PREFIX}{document}"


def seconds_left(lock, engine_now):
    """Seconds until an inspected lock's lease runs out by the engine's clock (pure); 0 when it has."""
    created = parse_time(lock.get("Created"))
    try:
        lease = float(((lock.get("Config") or {}).get("Labels") or {}).get(LABEL_LEASE))
    except (TypeError, ValueError):
        lease = LEASE_SECONDS
    if created is None or engine_now is None:
        return lease
    return max(0.0, created + lease - engine_now)


def _engine_now(api):
    return parse_time(api.info().get("SystemTime"))


def _ignore_gone(remove):
    """Remove something that another run may have removed (or be removing) already."""
    try:
        remove()
    except client.APIError as error:
        if error.status_code not in (404, 409):
            raise


class Lock:
    """`with Lock(api, document, image):` holds the document's lock; check() before writing under it."""

    def __init__(self, api, document, image, lease=LEASE_SECONDS, wait=WAIT_SECONDS):
        self.api, self.document, self.image = api, document, image
        self.name = name(document)
        self.lease, self.wait = lease, wait
        self.id = None

    def __enter__(self):
        self.id = self._acquire()
        return self

    def __exit__(self, *_exc):
        _ignore_gone(lambda: self.api.remove_container(self.id, force=True))
        self.id = None

    def check(self):
        """Whether this run still holds the lock (a holder slower than its lease may have lost it)."""
        found = client.exists(lambda: self.api.inspect_container(self.name))
        return found is not None and found["Id"] == self.id

    def _create(self):
        labels = {naming.LABEL_MANAGED_BY: naming.MANAGED_BY, naming.LABEL_DOCUMENT: self.document,
                  LABEL_LEASE: str(self.lease)}
        try:
            return self.api.create_container(
                self.image, name=self.name, labels=labels, command=["true"], network_disabled=True,
                host_config=self.api.create_host_config(network_mode="none"))["Id"]
        except client.APIError as error:
            if error.status_code == 409:
                return None
            raise

    def _acquire(self):
        deadline = time.monotonic() + self.wait
        # when each lock seen runs out, on this controller's monotonic clock: the engine's clock is read once
        runs_out = {}
        polls = 0
        while True:
            taken = self._create()
            if taken:
                return taken
            found = client.exists(lambda: self.api.inspect_container(self.name))
            if found is not None:
                if found["Id"] not in runs_out:
                    runs_out[found["Id"]] = time.monotonic() + seconds_left(found, _engine_now(self.api))
                if time.monotonic() >= runs_out[found["Id"]]:
                    # its holder was killed (or is far slower than its lease): the lock is free
                    _ignore_gone(lambda found=found: self.api.remove_container(found["Id"], force=True))
                    continue
            if time.monotonic() > deadline:
                raise WorkspaceError(
                    f"docker_host: the control document '{self.document}' stayed locked by other runs for "
                    f"{self.wait}s (container {self.name}); run again once they are done")
            polls = min(polls + 1, 8)
            time.sleep(random.uniform(0.02, min(LONGEST_POLL, 0.02 * 2 ** polls)))
