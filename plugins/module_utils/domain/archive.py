# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Archived workspaces (pure, no I/O).

``state: archived`` stops a workspace and marks it archived; its data and
roles stay. An archived workspace is hidden from lists unless asked for and
cannot be started until ``state: unarchived`` brings it back, stopped. The
mark is the time of archiving, kept in the workspace's configuration record,
so it survives every re-create and every engine reads it the same way.
"""

from __future__ import annotations

import time

MARK = "_archived_at"
STATES = ("archived", "unarchived")
# what the engine is asked for under each archive state
ENGINE_STATE = {"archived": "stopped", "unarchived": "stopped"}
STARTING = ("running", "restarted")


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def marked(params, stored, moment):
    """The params with the archive mark the task's state asks for (pure but for the given moment).

    (params, error): starting an archived workspace is refused with a message naming the fix.
    """
    state = params.get("state") or "present"
    archived_at = (stored or {}).get(MARK)
    params = {key: value for key, value in params.items() if key != MARK}
    if state == "archived":
        params[MARK] = archived_at or moment
    elif state != "unarchived" and archived_at:
        if state in STARTING:
            return params, (f"state: workspace '{params.get('name')}' is archived (since {archived_at}); bring it "
                            f"back with state: unarchived, then start it")
        params[MARK] = archived_at
    return params, None


def engine_state(state):
    return ENGINE_STATE.get(state, state)


def fields(stored):
    """What views show of the mark."""
    archived_at = (stored or {}).get(MARK)
    return {"archived": bool(archived_at), "archived_at": archived_at}
