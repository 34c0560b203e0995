# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names and labels of the objects a workspace owns (pure, no I/O)."""

from __future__ import annotations

import re

LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY = "atelier.workspaces"
LABEL_WORKSPACE = "workspaces.atelier.dev/name"
# the control document an object holds (or, on Docker, guards)
LABEL_DOCUMENT = "workspaces.atelier.dev/document"

# Suffixes of the objects generated for a workspace, longest first matters only
# for the length check below.
OBJECT_SUFFIXES = ("data", "env", "hooks", "ide")
# The StatefulSet controller labels each pod with "<statefulset>-<10-char hash>",
# and a label value may hold at most 63 characters.
REVISION_HASH_SUFFIX = 11
LABEL_VALUE_MAX = 63
MAX_NAME_LENGTH = LABEL_VALUE_MAX - REVISION_HASH_SUFFIX

# A DNS-1035 label: Service names need the leading letter.
_NAME_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def validate_workspace_name(name):
    """Return an error message for an unusable workspace name, or None."""
    if not isinstance(name, str) or not name:
        return "name: a workspace needs a name, for example 'alice-dev'"
    if len(name) > MAX_NAME_LENGTH:
        return (
            f"name: '{name}' has {len(name)} characters; use at most {MAX_NAME_LENGTH} "
            f"so the generated object names and labels stay within Kubernetes limits"
        )
    if not _NAME_RE.match(name):
        return (
            f"name: '{name}' is not a valid workspace name; use lower-case letters, digits "
            f"and '-', starting with a letter and ending with a letter or digit (for example 'alice-dev')"
        )
    return None


def object_name(workspace, suffix=None):
    """Name of an object generated for a workspace."""
    if suffix is None:
        return workspace
    if suffix not in OBJECT_SUFFIXES:
        raise ValueError(f"unknown object suffix {suffix!r}")
    return f"{workspace}-{suffix}"


def owned_labels(workspace):
    """Labels carried by every object a workspace owns."""
    return {LABEL_MANAGED_BY: MANAGED_BY, LABEL_WORKSPACE: workspace}


def label_selector(workspace=None):
    """Selector for the objects of one workspace, or of every workspace."""
    selector = f"{LABEL_MANAGED_BY}={MANAGED_BY}"
    if workspace is not None:
        selector += f",{LABEL_WORKSPACE}={workspace}"
    return selector
