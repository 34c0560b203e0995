# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workspace_env_policy module's options."""

from __future__ import annotations

import copy

from ansible_collections.atelier.workspaces.plugins.module_utils.args import connection

POLICY_SPEC = {
    "seed_vars": {"type": "dict"},
    "variables": {"type": "dict"},
    "secrets": {"type": "dict", "no_log": True},
    "inherit": {"type": "bool"},
    "user_defined_vars": {"type": "list", "elements": "str"},
    "workspace_env_pattern": {"type": "str"},
    "env_rules": {"type": "dict"},
    "share_secrets_across_workspaces": {"type": "bool"},
    "inherit_pod_annotations": {"type": "bool"},
}


def argument_spec():
    return {
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "namespace": {"type": "str"},
        "workspace_names": {"type": "list", "elements": "str"},
        "apply_to_existing": {"type": "str", "default": "none", "choices": ["none", "restart"]},
        **copy.deepcopy(POLICY_SPEC),
        **connection.engine_options(),
    }
