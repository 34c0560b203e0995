# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A document kept in two halves, plain and secret, that are written together (pure).

An engine cannot write two objects (or files) in one step, so each write of a pair stamps both halves
with the same new revision. Halves whose stamps differ come from different writes: a reader waits for
the writer that is between them, and a writer that finds them so after its own write writes again.
The plain half says whether there is a pair at all: without it the secret half is a leftover.
"""

from __future__ import annotations

import uuid

# Neither an environment variable nor a policy key can be named like this.
REVISION_KEY = "atelier.revision"


def new_revision():
    return uuid.uuid4().hex


def revision(mapping):
    return (mapping or {}).get(REVISION_KEY)


def _bare(mapping):
    return {key: value for key, value in mapping.items() if key != REVISION_KEY}


def exists(plain):
    """Whether a stored plain half means there is a pair (an emptied one does not)."""
    return bool(plain)


def consistent(plain, secret):
    """Whether stored halves come from one write (no pair at all counts as one)."""
    return not exists(plain) or revision(plain) == revision(secret)


def view(plain, secret):
    """What readers and changes see of stored halves: (plain, secret) without stamps, or (None, None)."""
    if not exists(plain):
        return None, None
    return _bare(plain), _bare(secret or {})


def normalised(pair):
    """A pair a change returned, in the form view() gives: no plain half means no pair."""
    plain, secret = pair
    if not plain:
        return None, None
    return dict(plain), dict(secret or {})


def unchanged(stored, wanted):
    """Whether the stored halves already are the wanted pair, from one write (and no secret half is left over)."""
    plain, secret = stored
    if not exists(plain) and secret:
        return False
    return consistent(plain, secret) and view(plain, secret) == normalised(wanted)


def stamped(wanted, stamp):
    """The halves to store for a wanted pair: each with the revision, or (None, None) to remove both."""
    plain, secret = normalised(wanted)
    if plain is None:
        return None, None
    return {**plain, REVISION_KEY: stamp}, {**secret, REVISION_KEY: stamp}
