# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster-wide documents of the collection, kept in the control namespace.

Every controller that talks to the API server sees the same documents: a
plain document is a ConfigMap, a secret one a Secret, both named
``atelier-<document>``. A document is a flat mapping of string keys to string
values. Writing an unchanged document sends nothing.
"""

from __future__ import annotations

import base64

from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming

DEFAULT_CONTROL_NAMESPACE = "atelier-system"
OBJECT_PREFIX = "atelier-"
LABEL_DOCUMENT = "workspaces.atelier.dev/document"


def object_name(document):
    return f"{OBJECT_PREFIX}{document}"


def _kind(secret):
    return "Secret" if secret else "ConfigMap"


def _encode(mapping):
    return {key: base64.b64encode(value.encode()).decode() for key, value in mapping.items()}


def decoded(mapping):
    return {key: base64.b64decode(value).decode() for key, value in (mapping or {}).items()}


class K8sStore:
    """Documents in the control namespace, through a client.Cluster."""

    def __init__(self, cluster, namespace=None):
        self.cluster = cluster
        self.namespace = namespace or DEFAULT_CONTROL_NAMESPACE

    def read(self, document, secret=False):
        """The document's mapping, or None when it was never written."""
        found = self.cluster.get(_kind(secret), self.namespace, object_name(document))
        if found is None:
            return None
        return decoded(found.get("data")) if secret else dict(found.get("data") or {})

    def write(self, document, mapping, secret=False, dry_run=False):
        """Store the mapping as the whole document; True when it differed (and was written unless dry_run)."""
        if self.read(document, secret) == mapping:
            return False
        if not dry_run:
            self._ensure_namespace()
            body = {
                "apiVersion": "v1",
                "kind": _kind(secret),
                "metadata": {
                    "name": object_name(document),
                    "namespace": self.namespace,
                    "labels": {naming.LABEL_MANAGED_BY: naming.MANAGED_BY, LABEL_DOCUMENT: document},
                },
                "data": _encode(mapping) if secret else mapping,
            }
            # server-side apply: keys this manager wrote before and no longer sends are removed
            self.cluster.apply(body)
        return True

    def _ensure_namespace(self):
        self.cluster.ensure_namespace(self.namespace)

    def remove(self, document, secret=False, dry_run=False):
        """Delete the document; True when it existed."""
        if self.read(document, secret) is None:
            return False
        if not dry_run:
            self.cluster.delete(_kind(secret), self.namespace, object_name(document))
        return True
