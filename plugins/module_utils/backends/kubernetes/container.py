# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The user's Kubernetes container fields merged into the planned container (pure, no I/O).

Quantities are written in the API server's canonical form, so a re-run compares equal.
"""

from __future__ import annotations

import copy

from ansible_collections.atelier.workspaces.plugins.module_utils.common import quantity
from ansible_collections.atelier.workspaces.plugins.module_utils.domain.container_fields import LIST_KEYS


def _merge_named(current, items, key):
    merged = list(current)
    for item in items:
        same = next((index for index, known in enumerate(merged) if known.get(key) == item.get(key)), None)
        if same is None:
            merged.append(copy.deepcopy(item))
        else:
            merged[same] = copy.deepcopy(item)
    return merged


def _merge_mappings(current, layer):
    merged = dict(current)
    for key, value in layer.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_mappings(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def merge(container, layer):
    """The container with the user's fields merged in; where both set a value, the user's wins."""
    merged = copy.deepcopy(container)
    for key, value in layer.items():
        current = merged.get(key)
        if key in LIST_KEYS and isinstance(current, list):
            merged[key] = _merge_named(current, value, LIST_KEYS[key])
        elif key == "envFrom" and isinstance(current, list):
            # the workspace's own env Secret stays
            merged[key] = current + [copy.deepcopy(item) for item in value if item not in current]
        elif isinstance(value, dict) and isinstance(current, dict):
            merged[key] = _merge_mappings(current, value)
        else:
            merged[key] = copy.deepcopy(value)
    if merged.get("resources"):
        merged["resources"] = canonical_resources(merged["resources"])
    return merged


def canonical_resources(resources):
    return {
        group: {name: quantity.canonical_quantity(amount) or amount for name, amount in amounts.items()}
        if isinstance(amounts, dict) else amounts
        for group, amounts in resources.items()
    }
