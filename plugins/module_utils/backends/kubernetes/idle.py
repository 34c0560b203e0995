# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Idle Kubernetes workspaces: observed from the StatefulSet and its pod, stopped by scaling to zero.

The stop is written under a field manager of its own with the reason as an
annotation, so the workspace module's next run keeps the workspace stopped
(``state: present`` keeps the replica count) and workspace_info can say why.
"""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import idle

REAPER_FIELD_MANAGER = "atelier.workspaces-reaper"


def observe(cluster, namespace=None, name=None):
    """Every workspace (or one) with what its idle time is computed from."""
    found = cluster.list("StatefulSet", namespace, naming.label_selector(name))
    observed = []
    for statefulset in found:
        meta = statefulset["metadata"]
        workspace = meta["labels"][naming.LABEL_WORKSPACE]
        running = statefulset["spec"].get("replicas", 1) > 0
        pod = cluster.get("Pod", meta["namespace"], f"{workspace}-0") if running else None
        annotations = meta.get("annotations") or {}
        observed.append({
            "name": workspace,
            "namespace": meta["namespace"],
            "running": running and pod is not None,
            "policy": idle.termination_policy(annotations),
            "started_at": idle.parse_time(((pod or {}).get("status") or {}).get("startTime")),
            "last_activity": idle.parse_time(annotations.get(idle.ANNOTATION_LAST_ACTIVITY)),
            "stopped_reason": annotations.get(idle.ANNOTATION_STOPPED_REASON),
        })
    return observed


def stop(cluster, workspace, reason, dry_run):
    namespace, name = workspace["namespace"], workspace["name"]
    cluster.apply({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": namespace, "annotations": {idle.ANNOTATION_STOPPED_REASON: reason}},
        "spec": {"replicas": 0},
    }, dry_run, manager=REAPER_FIELD_MANAGER)
