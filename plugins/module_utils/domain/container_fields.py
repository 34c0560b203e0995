# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes container fields given by the user, checked for their shape (pure, no I/O).

They come from container_config and from a pre-start script; the Kubernetes
backend merges them into the container it plans.
"""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.common import quantity

# Every field of a Container but `name`, which the collection owns.
FIELDS = (
    "args", "command", "env", "envFrom", "image", "imagePullPolicy", "lifecycle", "livenessProbe", "ports",
    "readinessProbe", "resizePolicy", "resources", "restartPolicy", "securityContext", "startupProbe", "stdin",
    "stdinOnce", "terminationMessagePath", "terminationMessagePolicy", "tty", "volumeDevices", "volumeMounts",
    "workingDir",
)
# Lists merged item by item: an item replaces the planned one with the same key, others are added.
LIST_KEYS = {
    "env": "name",
    "ports": "containerPort",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "resizePolicy": "resourceName",
}
MAPPINGS = ("resources", "securityContext", "lifecycle", "livenessProbe", "readinessProbe", "startupProbe")


def check(fields, where, errors):
    """Shape errors of user container fields, each naming its field (the API server checks the rest)."""
    for key, value in fields.items():
        if key in LIST_KEYS:
            _check_list(value, f"{where}.{key}", LIST_KEYS[key], errors)
        elif key in MAPPINGS and not isinstance(value, dict):
            errors.append(f"{where}.{key}: must be a mapping, as in a Kubernetes container")
    for group, amounts in (fields.get("resources") or {}).items():
        for resource, amount in (amounts or {}).items() if isinstance(amounts, dict) else ():
            if quantity.canonical_quantity(amount) is None:
                errors.append(f"{where}.resources.{group}.{resource}: '{amount}' is not a Kubernetes quantity; "
                              f"write for example '500m', '2' or '4Gi'")


def _check_list(items, field, key, errors):
    if not isinstance(items, list):
        errors.append(f"{field}: must be a list, as in a Kubernetes container")
        return
    errors.extend(f"{field}[{index}]: needs a {key}" for index, item in enumerate(items)
                  if not isinstance(item, dict) or key not in item)
