# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster-wide documents of the collection, kept in the control namespace.

Every controller that talks to the API server sees the same documents: a
plain document is a ConfigMap, a secret one a Secret, both named
``atelier-<document>``. A document is a flat mapping of string keys to string
values. A change reads the object, computes the new mapping and writes it with
the resourceVersion it read (a merge patch that sets exactly the new keys, or a
delete with that resourceVersion as precondition); when another run wrote first
the API server answers 409 and the change is computed again from what is stored.
An unchanged document costs reads only.

Only patch, delete and create by name are used: what the controller's Role in
the control namespace grants (a Role cannot grant a POST by name). A missing
object is therefore first created empty by a server-side apply, the same
whoever sends it, then changed by a guarded patch like any other.
"""

from __future__ import annotations

import base64

from ansible_collections.atelier.workspaces.plugins.module_utils import ports
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming, wait

DEFAULT_CONTROL_NAMESPACE = "atelier-system"
OBJECT_PREFIX = "atelier-"
LABEL_DOCUMENT = naming.LABEL_DOCUMENT
# Owns only the labels of the empty objects it creates, so its apply never removes data another wrote.
CREATE_MANAGER = "atelier.workspaces.store"


def object_name(document):
    return f"{OBJECT_PREFIX}{document}"


def _kind(secret):
    return "Secret" if secret else "ConfigMap"


def _encode(mapping):
    return {key: base64.b64encode(value.encode()).decode() for key, value in mapping.items()}


def decoded(mapping):
    return {key: base64.b64decode(value).decode() for key, value in (mapping or {}).items()}


class K8sStore(ports.Store):
    """Documents in the control namespace, through a client.Cluster."""

    def __init__(self, cluster, namespace=None):
        self.cluster = cluster
        self.namespace = namespace or DEFAULT_CONTROL_NAMESPACE

    @staticmethod
    def _mapping(found, secret):
        if found is None:
            return None
        return decoded(found.get("data")) if secret else dict(found.get("data") or {})

    def read(self, document, secret=False):
        """The document's mapping, or None when it was never written."""
        return self._mapping(self.cluster.get(_kind(secret), self.namespace, object_name(document)), secret)

    def update(self, document, change, secret=False, dry_run=False):
        """Store change(current) as the document, guarded by the resourceVersion it was computed from."""
        kind, name = _kind(secret), object_name(document)

        def attempt():
            found = self.cluster.get(kind, self.namespace, name)
            current = self._mapping(found, secret)
            wanted = change(current)
            if wanted == current:
                return False
            if dry_run:
                return True
            if found is None:
                # created empty (or as another run made it meanwhile), then changed like any object
                found = self._create_empty(document, secret)
                current = self._mapping(found, secret)
                wanted = change(current)
                if wanted == current:
                    return wanted == {}
            if self._write(document, found, current, wanted, secret) is False:
                return wait.CONFLICT  # another run wrote (or removed) it first
            return True

        return wait.retry_on_conflict(attempt, f"the {kind} {self.namespace}/{name}")

    def _labels(self, document):
        return {naming.LABEL_MANAGED_BY: naming.MANAGED_BY, LABEL_DOCUMENT: document}

    def _create_empty(self, document, secret):
        """The object as it is once created empty: an apply returns it, data and all if another run made it."""
        self.cluster.ensure_namespace(self.namespace)
        return self.cluster.apply({
            "apiVersion": "v1", "kind": _kind(secret),
            "metadata": {"name": object_name(document), "namespace": self.namespace, "labels": self._labels(document)},
        }, manager=CREATE_MANAGER)

    def _write(self, document, found, current, wanted, secret):
        """Patch or delete what was found; False when the object changed since it was read."""
        kind, name = _kind(secret), object_name(document)
        version = found["metadata"]["resourceVersion"]
        if wanted is None:  # gone already counts as done
            return self.cluster.delete(kind, self.namespace, name, resource_version=version, conflict=False,
                                       missing=True)
        data = {**dict.fromkeys(set(current) - set(wanted)), **(_encode(wanted) if secret else wanted)}
        return self.cluster.merge_patch(kind, self.namespace, name, conflict=False, missing=False, patch={
            "metadata": {"resourceVersion": version, "labels": self._labels(document)}, "data": data})
