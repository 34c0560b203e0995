# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection to a Kubernetes API server and the one place every REST call goes through: paths,
field managers, dry runs, transient failures tried again and errors turned into messages for the user."""

from __future__ import annotations

import json
import os

from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming, retry
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError

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
APPLY = "application/apply-patch+yaml"
MERGE_PATCH = "application/merge-patch+json"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
# kind -> (API prefix, plural)
KINDS = {
    "Secret": ("/api/v1", "secrets"),
    "ConfigMap": ("/api/v1", "configmaps"),
    "ServiceAccount": ("/api/v1", "serviceaccounts"),
    "PersistentVolumeClaim": ("/api/v1", "persistentvolumeclaims"),
    "Service": ("/api/v1", "services"),
    "StatefulSet": ("/apis/apps/v1", "statefulsets"),
    "Ingress": ("/apis/networking.k8s.io/v1", "ingresses"),
    "VirtualService": ("/apis/networking.istio.io/v1", "virtualservices"),
    "Namespace": ("/api/v1", "namespaces"),
    "Pod": ("/api/v1", "pods"),
    "Event": ("/api/v1", "events"),
    "Role": (RBAC, "roles"),
    "RoleBinding": (RBAC, "rolebindings"),
    "ClusterRole": (RBAC, "clusterroles"),
}


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


def path(kind, namespace=None, name=None):
    """The REST path of a kind (in a namespace, or cluster-wide), or of one object."""
    prefix, plural = KINDS[kind]
    where = f"/namespaces/{namespace}" if namespace else ""
    found = f"{prefix}{where}/{plural}"
    return f"{found}/{name}" if name else found


def api_version(kind):
    """A list's items carry neither kind nor apiVersion; this is the version to give them."""
    return KINDS[kind][0].split("/", 2)[-1]


def _query(dry_run, manager=None, force=False):
    query = {}
    if manager:
        query["fieldManager"] = manager
    if force:
        query["force"] = "true"
    if dry_run:
        query["dryRun"] = "All"
    return query


class Cluster:
    """The REST calls the backend needs, with errors turned into user messages."""

    def __init__(self, api):
        self.api = api

    def call(self, method, path, body=None, query=None, content_type="application/json", conflict=None,
             missing=None):
        """One REST call; None for a GET of something that does not exist, `conflict` for HTTP 409, `missing`
        (when given) for any other call on something that does not exist."""
        method, url, headers, body, post = self.api.param_serialize(
            method=method, resource_path=path, query_params=list((query or {}).items()), body=body,
            header_params={"Content-Type": content_type, "Accept": "application/json"},
            auth_settings=["BearerToken"],
        )
        response = self._send(method, url, headers, body, post)
        if response is None:  # a DELETE resent after a cut connection found nothing: the first one did it
            return {} if missing is None else missing
        if response.status == 404 and method == "GET":
            return None
        if response.status == 404 and missing is not None:
            return missing
        if response.status == 409 and conflict is not None:
            return conflict
        if response.status >= 400:
            raise WorkspaceError(f"{method} {path} failed: {_reason(response)}")
        return json.loads(response.data or b"null")

    def _send(self, method, url, headers, body, post):
        """The answer to a request, sent again while the server is unreachable or busy (common/retry.py).

        Every request is safe to repeat here: a create that exists, a write of a stale resourceVersion and
        a delete of something gone are refused, and server-side apply is idempotent.
        """
        tries, cut = retry.Tries(), False
        where = f"kubeconfig: the Kubernetes API server at {self.api.configuration.host}"
        while True:
            try:
                response = self.api.call_api(method, url, header_params=headers, body=body, post_params=post)
                response.read()
            except (OSError, HTTPError) as error:  # the server is not reachable
                failure = retry.connection_failure(error)
                wait = tries.next_pause() if failure else None
                if wait is None:
                    raise WorkspaceError(
                        f"kubeconfig: cannot reach the Kubernetes API server ({error}); check kubeconfig, context "
                        f"or host" + (f"; {tries.summary()}" if failure else "")
                    ) from None
                cut = cut or failure == retry.CUT
            else:
                if cut and method == "DELETE" and response.status == 404:
                    return None
                said = _reason(response) if response.status >= 400 else ""
                if not retry.transient_answer(response.status, said, repeatable=True):
                    return response
                wait = tries.next_pause(retry.retry_after(response.headers.get("Retry-After")))
                if wait is None:
                    raise WorkspaceError(retry.gave_up(where, f"{method} answered HTTP {response.status}: {said}",
                                                       tries))
            tries.wait(wait)

    def get(self, kind, namespace, name):
        """The object, or None when it does not exist."""
        return self.call("GET", path(kind, namespace, name))

    def list(self, kind, namespace=None, selector=None, fields=None):
        """The objects of a kind (in a namespace or everywhere), each with its kind and apiVersion."""
        query = {}
        if selector:
            query["labelSelector"] = selector
        if fields:
            query["fieldSelector"] = fields
        items = (self.call("GET", path(kind, namespace), query=query) or {}).get("items", [])
        for item in items:
            item.update(kind=kind, apiVersion=api_version(kind))
        return items

    def list_owned(self, kind, namespace, workspace):
        return self.list(kind, namespace, naming.label_selector(workspace))

    def apply(self, obj, dry_run=False, manager=FIELD_MANAGER, conflict=None):
        """Server-side apply; with a resourceVersion in the object it is a guarded write (`conflict` on 409)."""
        meta = obj["metadata"]
        return self.call("PATCH", path(obj["kind"], meta.get("namespace"), meta["name"]), body=obj,
                         query=_query(dry_run, manager, force=True), content_type=APPLY, conflict=conflict)

    def merge_patch(self, kind, namespace, name, patch, conflict=None, missing=None):
        """A JSON merge patch: a key set to None is removed; a metadata.resourceVersion in it makes it guarded."""
        return self.call("PATCH", path(kind, namespace, name), body=patch, query=_query(False, FIELD_MANAGER),
                         content_type=MERGE_PATCH, conflict=conflict, missing=missing)

    def create(self, obj, dry_run=False, conflict=None):
        meta = obj["metadata"]
        return self.call("POST", path(obj["kind"], meta.get("namespace")), body=obj,
                         query=_query(dry_run, FIELD_MANAGER), conflict=conflict)

    def replace(self, obj, conflict=None):
        meta = obj["metadata"]
        return self.call("PUT", path(obj["kind"], meta.get("namespace"), meta["name"]), body=obj,
                         query=_query(False, FIELD_MANAGER), conflict=conflict)

    def delete(self, kind, namespace, name, dry_run=False, resource_version=None, conflict=None, missing=None):
        """Delete in the background; with a resourceVersion only if nobody changed the object since."""
        body = {"preconditions": {"resourceVersion": resource_version}} if resource_version else None
        query = {"propagationPolicy": "Background", **_query(dry_run)}
        return self.call("DELETE", path(kind, namespace, name), body=body, query=query, conflict=conflict,
                         missing=missing)

    def ensure_namespace(self, namespace):
        """Create the namespace when it is missing; True when it was created."""
        if self.get("Namespace", None, namespace) is not None:
            return False
        self.create({"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": namespace, "labels": {naming.LABEL_MANAGED_BY: naming.MANAGED_BY}}},
                    conflict=False)
        return True


def _reason(response):
    try:
        return json.loads(response.data).get("message") or response.reason
    except (TypeError, ValueError):
        return response.reason
