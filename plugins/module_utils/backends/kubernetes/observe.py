# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Kubernetes workspace looks like to the user, computed once from its StatefulSet and pod.

The workspace module, workspace_info, the inventory and the reaper all read
this one view, so they report the same status and URL for a workspace.
"""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import plan as k8s_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import archive, configuration, idle

# Container waiting reasons that mean the workspace will not come up by itself.
FAILING_REASONS = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
                   "InvalidImageName", "RunContainerError")


def pod_ready(pod):
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def pod_status(replicas, pod):
    """Creating, Starting, Running, Stopping, Stopped or Failed, from the replica count and the pod."""
    if replicas == 0:
        return "Stopping" if pod else "Stopped"
    if pod is None:
        return "Creating"
    status = pod.get("status") or {}
    if status.get("phase") == "Failed":
        return "Failed"
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "Unschedulable":
            return "Failed"
    for container in status.get("containerStatuses") or []:
        if (container.get("state") or {}).get("waiting", {}).get("reason") in FAILING_REASONS:
            return "Failed"
    return "Running" if pod_ready(pod) else "Starting"


def pod_name(workspace):
    return f"{workspace}-0"


def recorded_configuration(statefulset):
    """The options the workspace was given, from its StatefulSet."""
    annotations = statefulset["metadata"].get("annotations") or {}
    return configuration.decode(annotations.get(k8s_plan.ANNOTATION_CONFIGURATION))


def view(statefulset, pod):
    """The user-facing view of one workspace (no secret values)."""
    meta = statefulset["metadata"]
    namespace, workspace = meta["namespace"], meta["labels"][naming.LABEL_WORKSPACE]
    template = statefulset["spec"]["template"]
    container = template["spec"]["containers"][0]
    port = container["ports"][0]["containerPort"]
    volume = next((v for v in template["spec"].get("volumes", []) if v["name"] == k8s_plan.DATA_VOLUME), {})
    data = next((m for m in container.get("volumeMounts", []) if m["name"] == k8s_plan.DATA_VOLUME), {})
    return {
        "name": workspace,
        "backend": "kubernetes",
        "namespace": namespace,
        "status": pod_status(statefulset["spec"].get("replicas", 1), pod),
        # what the plan recorded: the route, else public_url, else the Service
        "url": (meta.get("annotations") or {}).get(k8s_plan.ANNOTATION_URL) or k8s_plan.service_url(
            workspace, namespace, port),
        "image": container["image"],
        "pod": pod_name(workspace),
        "node": ((pod or {}).get("spec") or {}).get("nodeName"),
        "storage": {"claim": volume.get("persistentVolumeClaim", {}).get("claimName"),
                    "path": data.get("mountPath")},
        "resources": container.get("resources", {}),
        "config_hash": (template["metadata"].get("annotations") or {}).get(k8s_plan.ANNOTATION_CONFIG_HASH),
        "configuration": configuration.shown(recorded_configuration(statefulset)),
        **archive.fields(recorded_configuration(statefulset)),
    }


def refusals(cluster, namespace, workspace, since=None):
    """Why the StatefulSet controller could not create the pod (admission, quota), latest last."""
    events = cluster.list("Event", namespace, fields=f"involvedObject.kind=StatefulSet,involvedObject.name={workspace}")
    refused = [e for e in events if e.get("reason") == "FailedCreate"
               and (since is None or (idle.parse_time(e.get("lastTimestamp") or e.get("eventTime")) or 0) >= since)]
    return sorted(refused, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")


def refusal_message(event):
    return f"the pod was refused: {event.get('message')}"


def with_events(cluster, found):
    """A failed workspace's view gets its pod's events: why it does not run, without opening the cluster.

    A workspace whose pod was never created is Failed too when the controller was refused it, with the reason.
    """
    if found["status"] == "Creating":
        refused = refusals(cluster, found["namespace"], found["name"])
        if refused:
            found.update(status="Failed", reason=refusal_message(refused[-1]),
                         events=[{"type": e.get("type"), "reason": e.get("reason"), "message": e.get("message")}
                                 for e in refused])
            return found
    if found["status"] == "Failed":
        events = cluster.list("Event", found["namespace"], fields=f"involvedObject.name={found['pod']}")
        found["events"] = [{"type": e.get("type"), "reason": e.get("reason"), "message": e.get("message")}
                           for e in events]
    return found


def views(cluster, namespace=None, name=None, labels=None):
    """Every workspace (in one namespace or all, or one, or those with these labels), from one list of
    StatefulSets and one of pods."""
    selector = naming.label_selector(name)
    pods = {(pod["metadata"]["namespace"], pod["metadata"]["name"]): pod
            for pod in cluster.list("Pod", namespace, selector)}
    found = []
    wanted = "".join(f",{key}={value}" for key, value in sorted((labels or {}).items()))
    for statefulset in cluster.list("StatefulSet", namespace, selector + wanted):
        meta = statefulset["metadata"]
        pod = pods.get((meta["namespace"], pod_name(meta["labels"][naming.LABEL_WORKSPACE])))
        found.append(with_events(cluster, view(statefulset, pod)))
    return found
