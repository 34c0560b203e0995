# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads and changes workspaces on a Kubernetes API server.

Objects are found by label, compared with the plan, and only what differs is
sent, by server-side apply; check mode sends the same request as a server-side
dry run. An unchanged workspace therefore costs reads only.
"""

from __future__ import annotations

import json
import os
import time

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import plan as k8s_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import lifecycle

try:
    import kubernetes
    from urllib3.exceptions import HTTPError

    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as import_error:  # reported by the module with missing_required_lib
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = import_error

    class HTTPError(Exception):
        """Stands in while the kubernetes client is missing; never raised."""

FIELD_MANAGER = "atelier.workspaces"
USER_AGENT = "atelier.workspaces"
# kind -> (API prefix, plural); every kind a workspace owns
KINDS = {
    "Secret": ("/api/v1", "secrets"),
    "ConfigMap": ("/api/v1", "configmaps"),
    "ServiceAccount": ("/api/v1", "serviceaccounts"),
    "PersistentVolumeClaim": ("/api/v1", "persistentvolumeclaims"),
    "Service": ("/api/v1", "services"),
    "StatefulSet": ("/apis/apps/v1", "statefulsets"),
    "Ingress": ("/apis/networking.k8s.io/v1", "ingresses"),
    "VirtualService": ("/apis/networking.istio.io/v1", "virtualservices"),
}
REMOVE_ORDER = ("Ingress", "VirtualService", "StatefulSet", "Service", "ConfigMap", "Secret", "ServiceAccount",
                "PersistentVolumeClaim")
# Owned kinds a workspace may stop needing (a post-start hook taken out): removed when no longer planned.
PRUNED_KINDS = ("ConfigMap",)
# Annotations the plan may drop; first_difference only sees what the plan sets, so these are compared both ways.
OPTIONAL_ANNOTATIONS = lifecycle.TERMINATION_KEYS
ROUTE_KINDS = ("Ingress", "VirtualService")
CONFLICT_RETRIES = 20


def connect(params):
    """An ApiClient from kubeconfig/context, explicit host and token, or the in-cluster service account."""
    try:
        if params.get("host"):
            configuration = kubernetes.client.Configuration()
            configuration.host = params["host"]
            if params.get("api_key"):
                configuration.api_key = {"authorization": params["api_key"]}
                configuration.api_key_prefix = {"authorization": "Bearer"}
            if params.get("validate_certs") is not None:
                configuration.verify_ssl = params["validate_certs"]
            if params.get("ca_cert"):
                configuration.ssl_ca_cert = params["ca_cert"]
            api = kubernetes.client.ApiClient(configuration)
        elif not params.get("kubeconfig") and os.environ.get("KUBERNETES_SERVICE_HOST"):
            kubernetes.config.load_incluster_config()
            api = kubernetes.client.ApiClient()
        else:
            api = kubernetes.config.new_client_from_config(
                config_file=params.get("kubeconfig"), context=params.get("context"))
    except (kubernetes.config.ConfigException, OSError, TypeError) as error:
        raise WorkspaceError(
            f"kubeconfig: cannot load a Kubernetes configuration ({error}); set kubeconfig and context, "
            f"or host and api_key"
        ) from None
    api.user_agent = USER_AGENT
    return api


def _path(kind, namespace, name=None):
    prefix, plural = KINDS[kind]
    path = f"{prefix}/namespaces/{namespace}/{plural}"
    return f"{path}/{name}" if name else path


class Cluster:
    """The few REST calls the backend needs, with errors turned into user messages."""

    def __init__(self, api):
        self.api = api

    def call(self, method, path, body=None, query=None, content_type="application/json", conflict=None):
        """One REST call; None for a GET of something that does not exist, `conflict` for HTTP 409."""
        try:
            method, url, headers, body, post = self.api.param_serialize(
                method=method, resource_path=path, query_params=list((query or {}).items()), body=body,
                header_params={"Content-Type": content_type, "Accept": "application/json"},
                auth_settings=["BearerToken"],
            )
            response = self.api.call_api(method, url, header_params=headers, body=body, post_params=post)
            response.read()
        except (OSError, HTTPError) as error:  # the server is not reachable
            raise WorkspaceError(
                f"kubeconfig: cannot reach the Kubernetes API server ({error}); check kubeconfig, context or host"
            ) from None
        if response.status == 404 and method == "GET":
            return None
        if response.status == 409 and conflict is not None:
            return conflict
        if response.status >= 400:
            raise WorkspaceError(f"{method} {path} failed: {_reason(response)}")
        return json.loads(response.data or b"null")

    def list_owned(self, kind, namespace, workspace):
        found = self.call("GET", _path(kind, namespace), query={"labelSelector": naming.label_selector(workspace)})
        return (found or {}).get("items", [])

    def apply(self, obj, dry_run):
        query = {"fieldManager": FIELD_MANAGER, "force": "true"}
        if dry_run:
            query["dryRun"] = "All"
        meta = obj["metadata"]
        return self.call("PATCH", _path(obj["kind"], meta["namespace"], meta["name"]), body=obj, query=query,
                         content_type="application/apply-patch+yaml")

    def delete(self, kind, namespace, name, dry_run):
        query = {"propagationPolicy": "Background"}
        if dry_run:
            query["dryRun"] = "All"
        return self.call("DELETE", _path(kind, namespace, name), query=query)


def _reason(response):
    try:
        return json.loads(response.data).get("message") or response.reason
    except (TypeError, ValueError):
        return response.reason


def first_difference(desired, actual, path=""):
    """Path of the first field the plan sets that differs on the server, or None when all match."""
    if isinstance(desired, dict):
        if not isinstance(actual, dict):
            return path or "."
        for key, value in desired.items():
            found = first_difference(value, actual.get(key), f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    if isinstance(desired, list):
        if not isinstance(actual, list) or len(desired) != len(actual):
            return path
        for index, value in enumerate(desired):
            found = first_difference(value, actual[index], f"{path}[{index}]")
            if found:
                return found
        return None
    return None if desired == actual else path


def dropped_annotation(desired, actual):
    """Path of an optional annotation the server holds but the plan no longer sets, or None."""
    held = (actual.get("metadata") or {}).get("annotations") or {}
    planned = (desired.get("metadata") or {}).get("annotations") or {}
    dropped = sorted(key for key in OPTIONAL_ANNOTATIONS if key in held and key not in planned)
    return f"metadata.annotations.{dropped[0]}" if dropped else None


def redacted(obj):
    """An object as diff mode shows it: Secret values hidden."""
    if obj and obj.get("kind") == "Secret" and obj.get("data"):
        return {**obj, "data": {key: "********" for key in obj["data"]}}
    return obj


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

    def objects(self, namespace, workspace):
        if namespace not in self._objects:
            found = {}
            for kind in KINDS:
                api_version = KINDS[kind][0].split("/", 2)[-1]  # a list's items carry neither kind nor apiVersion
                for item in self.cluster.list_owned(kind, namespace, self.single):
                    item.update(kind=kind, apiVersion=api_version)
                    owner = item["metadata"]["labels"].get(naming.LABEL_WORKSPACE)
                    if owner:  # shared routes and control documents are managed too, but owned by no workspace
                        found.setdefault(owner, {})[(kind, item["metadata"]["name"])] = item
            self._objects[namespace] = found
        return self._objects[namespace].get(workspace, {})

    def namespace_exists(self, namespace):
        if namespace not in self._namespaces:
            self._namespaces[namespace] = self.cluster.call("GET", f"/api/v1/namespaces/{namespace}") is not None
        return self._namespaces[namespace]

    def namespace_created(self, namespace):
        self._namespaces[namespace] = True
        self._objects.setdefault(namespace, {})


def _first_change(obj, current):
    """The field to name in the action: a spec change first, since that is what restarts or reschedules."""
    in_spec = first_difference({"spec": obj["spec"]}, current) if "spec" in obj else None
    return in_spec or first_difference(obj, current) or dropped_annotation(obj, current)


class K8sWorkspace:
    """One workspace in one namespace: compare with the snapshot, apply the difference, wait."""

    def __init__(self, api, model, check_mode, snapshot=None):
        self.cluster = Cluster(api)
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
            after[("StatefulSet", self.model["name"])] = self.cluster.call(
                "GET", _path("StatefulSet", self.model["namespace"], self.model["name"]))
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
                self.cluster.call("POST", "/api/v1/namespaces", body={
                    "apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": namespace, "labels": {naming.LABEL_MANAGED_BY: naming.MANAGED_BY}}})
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
        self.diffs.append({"before": redacted(current) or {}, "after": redacted(result) or {}})
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
        self.diffs.append({"before": redacted(obj), "after": {}})

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
        """Add this workspace's path to its shared route, or take it out of every shared route.

        Many workspaces change one shared object, so each change is a read-modify-write
        guarded by resourceVersion and retried on conflict: no path of another workspace is lost.
        """
        route = self.model.get("ingress")
        namespace = self.model["namespace"]
        if present:
            if not route or not route["shared_name"]:
                return
            kind = "VirtualService" if route["type"] == "istio" else "Ingress"
            targets = [(kind, route["shared_name"])]
        else:
            targets = self._shared_routes_naming_this_workspace(namespace)
        for kind, name in targets:
            self._update_shared_route(kind, name, present)

    def _shared_routes_naming_this_workspace(self, namespace):
        targets = []
        for kind in ROUTE_KINDS:
            for item in self.cluster.list_owned(kind, namespace, None):
                if naming.LABEL_WORKSPACE not in item["metadata"]["labels"] and self.model["name"] in json.dumps(
                        item.get("spec")):
                    targets.append((kind, item["metadata"]["name"]))
        return targets

    def _update_shared_route(self, kind, name, present):
        namespace, path = self.model["namespace"], _path(kind, self.model["namespace"], name)
        for _attempt in range(CONFLICT_RETRIES):
            current = self.cluster.call("GET", path)
            if current is None and not present:
                return
            desired = k8s_plan.shared_route(self.model, kind, name, current, present)
            if current is not None and desired == current:
                return
            self.actions.append(f"{'add to' if present else 'remove from'} {kind}/{name}")
            if self.check_mode:
                return
            if current is None:
                done = self.cluster.call("POST", _path(kind, namespace), body=desired, conflict=False)
            elif desired is None:
                precondition = {"preconditions": {"resourceVersion": current["metadata"]["resourceVersion"]}}
                done = self.cluster.call("DELETE", path, body=precondition, conflict=False)
            else:
                done = self.cluster.call("PUT", path, body=desired, conflict=False)
            if done is not False:
                self.diffs.append({"before": current or {}, "after": desired or {}})
                return
            self.actions.pop()  # somebody else changed it first: read it again
            time.sleep(0.05)
        raise WorkspaceError(f"ingress.name: {kind}/{name} kept changing under {CONFLICT_RETRIES} attempts; run again")

    def _remove(self, existing):
        self._converge_shared_routes(present=False)
        for kind in REMOVE_ORDER:
            if kind == "PersistentVolumeClaim" and not self.model["purge"]:
                continue
            for (found_kind, name), obj in existing.items():
                if found_kind == kind:
                    self._delete(kind, name, obj)

    def _wait(self, replicas):
        namespace, pod = self.model["namespace"], f"{self.model['name']}-0"
        deadline = time.monotonic() + self.model["wait_timeout"]
        while time.monotonic() < deadline:
            found = self.cluster.call("GET", f"/api/v1/namespaces/{namespace}/pods/{pod}")
            if replicas == 0 and found is None:
                return
            if replicas and found and _pod_ready(found) and not found["metadata"].get("deletionTimestamp"):
                return
            time.sleep(0.5)
        raise WorkspaceError(
            f"wait_timeout: pod {pod} was not {'gone' if replicas == 0 else 'ready'} after "
            f"{self.model['wait_timeout']}s; see workspace_info for its events"
        )


def _pod_ready(pod):
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def describe(existing, model):
    """The user-facing view of a workspace from its objects."""
    statefulset = existing.get(("StatefulSet", model["name"])) if existing else None
    if not statefulset:
        return None
    status = statefulset.get("status") or {}
    replicas = statefulset["spec"].get("replicas", 1)
    if replicas == 0:
        phase = "Stopped" if not status.get("replicas") else "Stopping"
    else:
        phase = "Running" if status.get("readyReplicas") else "Starting"
    claim = next((obj for (kind, _name), obj in existing.items() if kind == "PersistentVolumeClaim"), None)
    container = statefulset["spec"]["template"]["spec"]["containers"][0]
    return {
        "name": model["name"],
        "backend": "kubernetes",
        "namespace": model["namespace"],
        "status": phase,
        "url": model["public_url"] or k8s_plan.route_url(model) or (
            f"http://{model['name']}.{model['namespace']}.svc:{model['port']}/"),
        "image": container["image"],
        "pod": f"{model['name']}-0",
        "storage": {"claim": claim["metadata"]["name"] if claim else model["storage"].get("shared_claim"),
                    "phase": (claim or {}).get("status", {}).get("phase"),
                    "path": model["user_code_path"]},
        "resources": container.get("resources", {}),
        "config_hash": statefulset["spec"]["template"]["metadata"].get("annotations", {}).get(
            k8s_plan.ANNOTATION_CONFIG_HASH),
    }


# Container waiting reasons that mean the workspace will not come up by itself.
FAILING_REASONS = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
                   "InvalidImageName", "RunContainerError")


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
    return "Running" if _pod_ready(pod) else "Starting"


def list_workspaces(api, namespace=None, name=None):
    """The user-facing view of every workspace (or one), with the pod's events for a failed one."""
    cluster = Cluster(api)
    where = f"/namespaces/{namespace}" if namespace else ""
    selector = {"labelSelector": naming.label_selector(name)}
    found = cluster.call("GET", f"/apis/apps/v1{where}/statefulsets", query=selector)
    views = []
    for statefulset in (found or {}).get("items", []):
        meta = statefulset["metadata"]
        ns, workspace = meta["namespace"], meta["labels"][naming.LABEL_WORKSPACE]
        pod = cluster.call("GET", f"/api/v1/namespaces/{ns}/pods/{workspace}-0")
        template = statefulset["spec"]["template"]
        container = template["spec"]["containers"][0]
        volume = next((v for v in template["spec"].get("volumes", []) if v["name"] == k8s_plan.DATA_VOLUME), {})
        view = {
            "name": workspace,
            "backend": "kubernetes",
            "namespace": ns,
            "status": pod_status(statefulset["spec"].get("replicas", 1), pod),
            "url": f"http://{workspace}.{ns}.svc:{container['ports'][0]['containerPort']}/",
            "image": container["image"],
            "pod": f"{workspace}-0",
            "node": ((pod or {}).get("spec") or {}).get("nodeName"),
            "storage": {"claim": volume.get("persistentVolumeClaim", {}).get("claimName"),
                        "path": container["volumeMounts"][0]["mountPath"]},
            "resources": container.get("resources", {}),
            "config_hash": template["metadata"].get("annotations", {}).get(k8s_plan.ANNOTATION_CONFIG_HASH),
        }
        if view["status"] == "Failed":
            events = cluster.call("GET", f"/api/v1/namespaces/{ns}/events",
                                  query={"fieldSelector": f"involvedObject.name={workspace}-0"})
            view["events"] = [
                {"type": e.get("type"), "reason": e.get("reason"), "message": e.get("message")}
                for e in (events or {}).get("items", [])
            ]
        views.append(view)
    return views
