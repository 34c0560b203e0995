# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the workspace_reaper module does: stop the workspaces idle past their policy, and say why."""

from __future__ import annotations

import time

from ansible_collections.atelier.workspaces.plugins.module_utils.domain import idle
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import session


def judge(observed, now):
    """(to stop, to keep): each workspace with its idle seconds and the reason (pure)."""
    stop, keep = [], []
    for workspace in observed:
        seconds = idle.idle_seconds(now, workspace["started_at"], workspace["last_activity"])
        stopping, reason = idle.verdict(workspace["name"], workspace["running"], workspace["policy"], seconds,
                                        workspace["last_activity"])
        row = {"name": workspace["name"], "namespace": workspace["namespace"], "idle_seconds": seconds,
               "max_idle_seconds": (workspace["policy"] or {}).get("max_idle_seconds"), "reason": reason}
        (stop if stopping else keep).append((row, workspace))
    return stop, keep


def run(module):
    params = module.params
    with session.engine(module) as backend:
        to_stop, to_keep = judge(backend.idle_workspaces(params.get("name"), params.get("namespace")), time.time())
        for row, workspace in to_stop:
            backend.stop_idle(workspace, row["reason"], module.check_mode)
    module.exit_json(changed=bool(to_stop), stopped=[row for row, _w in to_stop], kept=[row for row, _w in to_keep])
