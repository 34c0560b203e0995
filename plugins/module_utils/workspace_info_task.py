# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the workspace_info module does: list or get workspaces, never change them."""

from __future__ import annotations

import copy

from ansible_collections.atelier.workspaces.plugins.module_utils import (
    docker_engine,
    k8s_engine,
    naming,
    spec,
    workspace_task,
)
from ansible_collections.atelier.workspaces.plugins.module_utils.errors import WorkspaceError

LOG_TAIL_LINES = 20


def argument_spec():
    return {
        "name": {"type": "str"},
        "backend": copy.deepcopy(spec.WORKSPACE_SPEC["backend"]),
        "namespace": {"type": "str"},
        "labels": {"type": "dict", "default": {}},
        **copy.deepcopy(spec.CONNECTION_SPEC),
        **copy.deepcopy(spec.KUBERNETES_CONNECTION_SPEC),
    }


def _matches(container, labels):
    own = container["Labels"] or {}
    return all(own.get(key) == str(value) for key, value in labels.items())


def run(module):
    params = module.params
    if params.get("name"):
        error = naming.validate_workspace_name(params["name"])
        if error:
            module.fail_json(msg=error)
    if params["backend"] == "kubernetes":
        _run_kubernetes(module)
    api = workspace_task.connect_or_fail(module)
    try:
        found = [c for c in docker_engine.find_containers(api, params.get("name")) if _matches(c, params["labels"])]
        workspaces = []
        for summary in found:
            container = api.inspect_container(summary["Id"])
            view = docker_engine.describe(container)
            if view["status"] == "Failed":
                # the troubleshooting view: why it stopped, without opening the engine
                view["log_tail"] = api.logs(container["Id"], tail=LOG_TAIL_LINES).decode(errors="replace")
            workspaces.append(view)
    finally:
        api.close()
    module.exit_json(changed=False, workspaces=sorted(workspaces, key=lambda w: w["name"]))


def _run_kubernetes(module):
    params = module.params
    if params["labels"]:
        module.fail_json(msg="labels: filtering by label is available for backend: docker only in this version")
    api = workspace_task.connect_kubernetes_or_fail(module)
    try:
        views = k8s_engine.list_workspaces(api, params.get("namespace"), params.get("name"))
    except WorkspaceError as error:
        module.fail_json(msg=str(error))
    finally:
        api.close()
    module.exit_json(changed=False, workspaces=sorted(views, key=lambda w: (w["namespace"], w["name"])))
