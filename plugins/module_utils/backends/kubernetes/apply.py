# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A workspace as Kubernetes objects: found by label, compared with the plan, and only what differs is
sent, by server-side apply; check mode sends the same request as a server-side dry run. An unchanged
workspace therefore costs reads only."""

from __future__ import annotations

import time

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import compare, observe
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import plan as k8s_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming, wait
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError

# every kind a workspace owns
OWNED_KINDS = ("Secret", "ConfigMap", "ServiceAccount", "PersistentVolumeClaim", "Service", "StatefulSet", "Ingress",
               "VirtualService")
POLL_SECONDS = 0.5
REMOVE_ORDER = ("Ingress", "VirtualService", "StatefulSet", "Service", "ConfigMap", "Secret", "ServiceAccount",
                "PersistentVolumeClaim")
# Owned kinds a workspace may stop needing (a post-start hook or its own route taken out): removed when no
# longer planned.
PRUNED_KINDS = ("ConfigMap", "Ingress", "VirtualService")
ROUTE_KINDS = ("Ingress", "VirtualService")


class Snapshot:
    """What the cluster holds of the workspaces, read once per namespace and kind.

    A bulk task of many workspaces thus costs four list requests per namespace
    instead of four per workspace; a single workspace lists only its own objects.
    """

    def __init__(self, cluster, single=None):
        self.cluster = cluster
        self.single = single
        self._objects = {}
        self._namespaces = {}
        self._shared = {}

    def objects(self, namespace, workspace):
        if namespace not in self._objects:
            found = {}
            for kind in OWNED_KINDS:
                for item in self.cluster.list_owned(kind, namespace, self.single):
                    owner = item["metadata"]["labels"].get(naming.LABEL_WORKSPACE)
                    if owner:  # shared routes and control documents are managed too, but owned by no workspace
                        found.setdefault(owner, {})[(kind, item["metadata"]["name"])] = item
            self._objects[namespace] = found
        return self._objects[namespace].get(workspace, {})

    def shared_routes(self, namespace, workspace):
        """(kind, name) of the shared routes of a namespace that hold an entry of the workspace, read once."""
        if namespace not in self._shared:
            self._shared[namespace] = [
                item for kind in ROUTE_KINDS for item in self.cluster.list(kind, namespace, naming.label_selector())
                if naming.LABEL_WORKSPACE not in item["metadata"].get("labels", {})]
        return [(item["kind"], item["metadata"]["name"]) for item in self._shared[namespace]
                if k8s_plan.routes_to(item, workspace)]

    def namespace_exists(self, namespace):
        if namespace not in self._namespaces:
            self._namespaces[namespace] = self.cluster.get("Namespace", None, namespace) is not None
        return self._namespaces[namespace]

    def namespace_created(self, namespace):
        self._namespaces[namespace] = True
        self._objects.setdefault(namespace, {})


def _first_change(obj, current):
    """The field to name in the action: a spec change first, since that is what restarts or reschedules."""
    in_spec = compare.first_difference({"spec": obj["spec"]}, current) if "spec" in obj else None
    return in_spec or compare.first_difference(obj, current) or compare.dropped_annotation(obj, current)


class K8sWorkspace:
    """One workspace in one namespace: compare with the snapshot, apply the difference, wait."""

    def __init__(self, cluster, model, check_mode, snapshot=None):
        self.cluster = cluster
        self.snapshot = snapshot or Snapshot(self.cluster, single=model["name"])
        self.model = model
        self.check_mode = check_mode
        self.actions = []
        self.diffs = []
        # nothing runs in the cluster on the module's behalf, so nothing to add to the result
        self.extra_result = {}
        self.namespace_missing = False

    def reconcile(self):
        existing = self.snapshot.objects(self.model["namespace"], self.model["name"])
        if self.model["state"] == "absent":
            self._remove(existing)
            return existing, None
        self._ensure_namespace()
        statefulset = existing.get(("StatefulSet", self.model["name"]))
        objects = k8s_plan.desired_objects(self.model, self._replicas(statefulset))
        if self.model["state"] == "restarted" and statefulset and statefulset["spec"].get("replicas"):
            # a new template annotation is the deliberate restart Kubernetes offers
            annotations = objects[-1]["spec"]["template"]["metadata"]["annotations"]
            annotations["workspaces.atelier.dev/restarted-at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        after = dict(existing)
        self._converge_shared_routes(present=True)
        for obj in objects:
            key = (obj["kind"], obj["metadata"]["name"])
            after[key] = self._converge(obj, existing.get(key)) or existing.get(key)
        self._prune(existing, objects, after)
        if self.check_mode:
            return existing, None
        if self.model["wait"] and self.actions:
            self._wait(objects[-1]["spec"]["replicas"])
            after[("StatefulSet", self.model["name"])] = self.cluster.get(
                "StatefulSet", self.model["namespace"], self.model["name"])
        return existing, after

    def _replicas(self, statefulset):
        state = self.model["state"]
        if state == "stopped":
            return 0
        if state == "present" and statefulset is not None:
            return statefulset["spec"].get("replicas", 1)
        return 1

    def _ensure_namespace(self):
        namespace = self.model["namespace"]
        if not self.snapshot.namespace_exists(namespace):
            self.namespace_missing = True
            self.actions.append(f"create Namespace/{namespace}")
            if not self.check_mode:
                self.cluster.ensure_namespace(namespace)
                self.snapshot.namespace_created(namespace)

    def _converge(self, obj, current):
        difference = "new" if current is None else _first_change(obj, current)
        if difference is None:
            return
        if obj["kind"] == "PersistentVolumeClaim" and current is not None:
            self._refuse_claim_change(obj, current)
        action = f"{'update' if current is not None else 'create'} {obj['kind']}/{obj['metadata']['name']}"
        # say which field made the difference, so a change can be explained
        self.actions.append(f"{action} ({difference})" if current is not None else action)
        # a dry run needs the namespace; without it everything would be new anyway
        dry_run_impossible = self.check_mode and self.namespace_missing
        result = obj if dry_run_impossible else self.cluster.apply(obj, dry_run=self.check_mode)
        self.diffs.append({"before": compare.redacted(current) or {}, "after": compare.redacted(result) or {}})
        return result

    def _prune(self, existing, objects, after):
        planned = {(obj["kind"], obj["metadata"]["name"]) for obj in objects}
        for (kind, name), obj in existing.items():
            if kind in PRUNED_KINDS and (kind, name) not in planned:
                self._delete(kind, name, obj)
                after.pop((kind, name), None)

    def _delete(self, kind, name, obj):
        self.actions.append(f"delete {kind}/{name}")
        self.cluster.delete(kind, self.model["namespace"], name, dry_run=self.check_mode)
        self.diffs.append({"before": compare.redacted(obj), "after": {}})

    def _refuse_claim_change(self, desired, current):
        want, have = desired["spec"], current["spec"]
        if want.get("storageClassName") and want["storageClassName"] != have.get("storageClassName"):
            raise WorkspaceError(
                f"storage.class: the workspace's claim already uses class '{have.get('storageClassName')}'; a claim "
                f"cannot change class without a new volume (and the data). Keep the class, or remove the workspace "
                f"with purge: true first"
            )
        size = want["resources"]["requests"]["storage"]
        if size != have["resources"]["requests"]["storage"]:
            raise WorkspaceError(
                f"storage.size: the claim has {have['resources']['requests']['storage']}; changing it to {size} "
                f"needs a storage class that allows expansion, which this collection does not request yet"
            )

    def _converge_shared_routes(self, present):
        """Add this workspace's path to its shared route, and take it out of every other shared route.

        Many workspaces change one shared object, so each change is a read-modify-write
        guarded by resourceVersion and retried on conflict: no path of another workspace is lost.
        """
        route = self.model.get("ingress")
        target = None
        if present and route and route["shared_name"]:
            target = ("VirtualService" if route["type"] == "istio" else "Ingress", route["shared_name"])
        for kind, name in self.snapshot.shared_routes(self.model["namespace"], self.model["name"]):
            if (kind, name) != target:
                self._update_shared_route(kind, name, present=False)
        if target:
            self._update_shared_route(*target, present=True)

    def _update_shared_route(self, kind, name, present):
        namespace = self.model["namespace"]

        def attempt():
            current = self.cluster.get(kind, namespace, name)
            if current is None and not present:
                return None
            desired = k8s_plan.shared_route(self.model, kind, name, current, present)
            if current is not None and desired == current:
                return None
            action = f"{'add to' if present else 'remove from'} {kind}/{name}"
            if self.check_mode:
                self.actions.append(action)
                return None
            if current is None:
                done = self.cluster.create(desired, conflict=False)
            elif desired is None:
                done = self.cluster.delete(kind, namespace, name, conflict=False,
                                           resource_version=current["metadata"]["resourceVersion"])
            else:
                done = self.cluster.replace(desired, conflict=False)
            if done is False:  # somebody else changed it first: read it again
                return wait.CONFLICT
            self.actions.append(action)
            self.diffs.append({"before": current or {}, "after": desired or {}})
            return None

        wait.retry_on_conflict(attempt, f"ingress.name: {kind}/{name}")

    def _remove(self, existing):
        self._converge_shared_routes(present=False)
        for kind in REMOVE_ORDER:
            if kind == "PersistentVolumeClaim" and not self.model["purge"]:
                continue
            for (found_kind, name), obj in existing.items():
                # one being deleted already (a claim waits for its pod to go) needs no second delete
                if found_kind == kind and not obj["metadata"].get("deletionTimestamp"):
                    self._delete(kind, name, obj)

    def _wait(self, replicas):
        namespace, pod = self.model["namespace"], f"{self.model['name']}-0"
        since = time.time() - 1

        def settled():
            found = self.cluster.get("Pod", namespace, pod)
            if replicas and found is None:
                refused = observe.refusals(self.cluster, namespace, self.model["name"], since)
                if refused:
                    raise WorkspaceError(f"{observe.refusal_message(refused[-1])}; see workspace_info for the events")
            if replicas == 0 and found is None:
                return True
            if replicas and found and observe.pod_ready(found) and not found["metadata"].get("deletionTimestamp"):
                return True
            return None

        wait.poll(settled, self.model["wait_timeout"], POLL_SECONDS,
                  lambda: f"wait_timeout: pod {pod} was not {'gone' if replicas == 0 else 'ready'} after "
                          f"{self.model['wait_timeout']}s; see workspace_info for its events")
