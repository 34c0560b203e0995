# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workspace_info module's options."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.args import connection


def argument_spec():
    return {
        "name": {"type": "str"},
        "namespace": {"type": "str"},
        "labels": {"type": "dict", "default": {}},
        "include_archived": {"type": "bool", "default": False},
        "show_access": {"type": "bool", "default": False},
        **connection.engine_options(),
    }
