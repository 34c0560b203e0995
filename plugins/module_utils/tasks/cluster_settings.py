# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the workspace_cluster_settings module does: change the settings it is given, keep the others."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import cluster_settings
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import session


def run(module):
    changes, errors = cluster_settings.changes(module.params["settings"])
    if errors:
        session.fail(module, "; ".join(errors), errors=errors)
    seen = {}

    def change(current):
        before = dict(current or {})
        after, problems = cluster_settings.changed(before, changes)
        if problems:
            raise WorkspaceError("; ".join(problems))
        seen.update(before=before, after=after)
        return after or None  # no setting left: no document

    with session.engine(module) as backend:
        changed = backend.store.update(cluster_settings.DOCUMENT, change, dry_run=module.check_mode)
    result = {"changed": changed, "settings": seen["after"]}
    if module._diff:
        result["diff"] = {"before": seen["before"], "after": seen["after"]}
    module.exit_json(**result)
