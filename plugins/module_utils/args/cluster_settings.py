# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workspace_cluster_settings module's options."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.args import connection


def argument_spec():
    return {
        # names and values are checked by domain/cluster_settings, whose messages name the setting
        "settings": {"type": "dict", "required": True},
        **connection.engine_options(),
    }
