# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for an engine: polling until a deadline, and retrying a guarded write on conflict."""

from __future__ import annotations

import random
import time

from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError

CONFLICT_RETRIES = 20
CONFLICT_PAUSE = 0.05
# What an attempt returns when somebody else changed the object first.
CONFLICT = object()


def poll(check, timeout, interval, timed_out):
    """Call check() until it returns something other than None; WorkspaceError(timed_out()) after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise WorkspaceError(timed_out())
        time.sleep(interval)


def retry_on_conflict(attempt, gave_up, attempts=CONFLICT_RETRIES):
    """Run attempt() again while it returns CONFLICT (it re-reads first); WorkspaceError(gave_up) when it never ends."""
    for _attempt in range(attempts):
        result = attempt()
        if result is not CONFLICT:
            return result
        # jittered: runs that lost to the same write do not all come back at the same moment
        time.sleep(CONFLICT_PAUSE * (0.5 + random.random()))
    raise WorkspaceError(f"{gave_up} kept changing under {attempts} attempts; run again")
