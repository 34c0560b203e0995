# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planned objects against what the API server holds (pure, no I/O)."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.domain import lifecycle

# Annotations the plan may drop; first_difference only sees what the plan sets, so these are compared both ways.
OPTIONAL_ANNOTATIONS = lifecycle.TERMINATION_KEYS


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
