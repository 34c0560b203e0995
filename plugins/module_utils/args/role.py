# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workspace_role module's options."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.args import connection
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import roles


def argument_spec():
    return {
        "namespace": {"type": "str", "default": "workspaces"},
        "role": {"type": "str", "choices": list(roles.ROLES)},
        # kind and name are checked by roles.validate, whose messages name the field (a sub-spec's are less clear)
        "subject": {"type": "dict", "required": True},
        "scope": {"type": "str", "default": "workspace", "choices": list(roles.SCOPES)},
        "workspace": {"type": "str"},
        "state": {"type": "str", "default": "present", "choices": list(roles.STATES)},
        **connection.engine_options(),
    }
