# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Both halves of a pair on a store that writes one object at a time (Kubernetes, memory).

Each half is written only over exactly what this run read (the store's own guard checks that it still is
when it writes): the secret half first, the plain half last, as the plain half says a pair is there, and
the other way round to remove one. A run that finds its second half written by another run since puts
its first half back, so halves of two writes are stored together only while a run is between them:
other runs wait for it, and after SETTLE_SECONDS take the pair as a killed run left it and write it
whole again.
"""

from __future__ import annotations

import time

from ansible_collections.atelier.workspaces.plugins.module_utils.common import document_pair, wait

# How long a run between its halves may keep the others waiting.
SETTLE_SECONDS = 5


class _Moved(Exception):
    """A half is no longer what this run read: another run wrote it."""


def _over(seen, mapping):
    """A change that stores `mapping` only over exactly `seen` (an empty half is as good as none)."""

    def change(current):
        if (current or {}) != (seen or {}):
            raise _Moved
        return mapping

    return change


def _swap(store, document, secret, seen, mapping):
    """Write one half over what this run read; False when another run wrote it since."""
    try:
        store.update(document, _over(seen, mapping), secret=secret)
    except _Moved:
        return False
    return True


def read(store, document):
    """(plain, secret) of one write, or (None, None); waits for a run between its halves."""

    def settled():
        plain = store.read(document)
        secret = store.read(document, secret=True) if document_pair.exists(plain) else None
        return document_pair.view(plain, secret) if document_pair.consistent(plain, secret) else None

    return wait.poll(settled, SETTLE_SECONDS, 0.1, lambda: (
        f"the plain and secret halves of the document {document} come from different writes (a run stopped "
        f"between them); write it again"))


def update(store, document, change, dry_run=False):
    """Store change((plain, secret)) -> (plain, secret) half by half; True when the pair differed."""
    mixed_since = []

    def attempt():
        stored = (store.read(document), store.read(document, secret=True))
        if not document_pair.consistent(*stored):
            if not mixed_since:
                mixed_since.append(time.monotonic())
            if time.monotonic() - mixed_since[0] < SETTLE_SECONDS:
                return wait.CONFLICT  # another run is between its halves
        wanted = change(document_pair.view(*stored))
        if document_pair.unchanged(stored, wanted):
            return False
        if dry_run:
            return True
        plain, secret = document_pair.stamped(wanted, document_pair.new_revision())
        halves = [(True, stored[1], secret), (False, stored[0], plain)]
        if plain is None:
            halves.reverse()
        (first_secret, first_seen, first), (second_secret, second_seen, second) = halves
        if not _swap(store, document, first_secret, first_seen, first):
            return wait.CONFLICT
        if not _swap(store, document, second_secret, second_seen, second):
            _swap(store, document, first_secret, first, first_seen)  # nobody is to wait for a pair never made
            return wait.CONFLICT
        return True

    # enough attempts to outwait a run killed between its halves
    attempts = wait.CONFLICT_RETRIES + int(2 * SETTLE_SECONDS / wait.CONFLICT_PAUSE)
    return wait.retry_on_conflict(attempt, f"the document {document}", attempts=attempts)
