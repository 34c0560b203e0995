# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the workspace_reaper module does: stop the workspaces idle past their policy, and say why."""

from __future__ import annotations

import copy
import time

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import idle as idle_docker
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import engine as k8s_engine
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import idle as idle_k8s
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import idle
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import workspace_spec as spec
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import workspace as workspace_task


def argument_spec():
    return {
        "name": {"type": "str"},
        "backend": copy.deepcopy(spec.WORKSPACE_SPEC["backend"]),
        "namespace": {"type": "str"},
        **copy.deepcopy(spec.CONNECTION_SPEC),
        **copy.deepcopy(spec.KUBERNETES_CONNECTION_SPEC),
    }


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


def _engine(module):
    params = module.params
    if params["backend"] == "docker":
        api = workspace_task.connect_or_fail(module)
        return (lambda: idle_docker.observe(api, params.get("name")),
                lambda workspace, reason: idle_docker.stop(api, workspace, reason, module.check_mode), api.close)
    api = workspace_task.connect_kubernetes_or_fail(module)
    cluster = k8s_engine.Cluster(api)
    return (lambda: idle_k8s.observe(cluster, params.get("namespace"), params.get("name")),
            lambda workspace, reason: idle_k8s.stop(cluster, workspace, reason, module.check_mode), api.close)


def run(module):
    observe, stop, close = _engine(module)
    try:
        to_stop, to_keep = judge(observe(), time.time())
        for row, workspace in to_stop:
            stop(workspace, row["reason"])
    except WorkspaceError as error:
        module.fail_json(msg=str(error), changed=False)
    finally:
        close()
    module.exit_json(changed=bool(to_stop), stopped=[row for row, _w in to_stop], kept=[row for row, _w in to_keep])
