# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the workspace_info module does: list or get workspaces, never change them."""

from __future__ import annotations

import copy
import time

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import engine as docker_engine
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import env as env_refresh_docker
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import idle as idle_docker
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import roles as role_docker
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import store as docker_store
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import engine as k8s_engine
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import env as env_refresh_k8s
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import idle as idle_k8s
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import roles as role_k8s
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import store as k8s_store
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.swarm import engine as swarm_engine
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import idle
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import policy_documents as env_policy_store
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import workspace_spec as spec
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import env_policy as env_policy_task
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import workspace as workspace_task

LOG_TAIL_LINES = 20


def argument_spec():
    return {
        "name": {"type": "str"},
        "backend": copy.deepcopy(spec.WORKSPACE_SPEC["backend"]),
        "namespace": {"type": "str"},
        "labels": {"type": "dict", "default": {}},
        **copy.deepcopy(spec.CONNECTION_SPEC),
        **copy.deepcopy(spec.KUBERNETES_CONNECTION_SPEC),
        **copy.deepcopy(spec.CONTROL_SPEC),
    }


def _matches(container, labels):
    own = container["Labels"] or {}
    return all(own.get(key) == str(value) for key, value in labels.items())


def _add_env_views(views, store, workspace_envs):
    """Each view gets the env its workspace runs with, with sources, and whether the policy has moved on."""
    policy = env_policy_store.load(store)
    by_name = {(workspace["namespace"], workspace["name"]): workspace for workspace in workspace_envs}
    for view in views:
        workspace = by_name.get((view.get("namespace"), view["name"]))
        if workspace:
            view.update(env_policy_task.env_view(policy, workspace))


def run(module):
    params = module.params
    if params.get("name"):
        error = naming.validate_workspace_name(params["name"])
        if error:
            module.fail_json(msg=error)
    if params["backend"] == "kubernetes":
        _run_kubernetes(module)
    api = workspace_task.connect_or_fail(module)
    if params.get("swarm_mode"):
        _run_swarm(module, api)
    try:
        # each container is inspected once; every view below is built from these
        containers = [c for c in env_refresh_docker.inspect_all(api, params.get("name"))
                      if _matches(c["Config"], params["labels"])]
        workspaces = []
        for container in containers:
            view = docker_engine.describe(container)
            if view["status"] == "Failed":
                # the troubleshooting view: why it stopped, without opening the engine
                view["log_tail"] = api.logs(container["Id"], tail=LOG_TAIL_LINES).decode(errors="replace")
            workspaces.append(view)
        _add_env_views(workspaces, docker_store.DockerStore(api), env_refresh_docker.workspace_envs(api, containers))
        roles_document = role_docker.read_document(api)
        for view in workspaces:
            view["roles"] = role_docker.assignments(api, view["name"], roles_document or {})
        _add_idle_views(workspaces, idle_docker.observe(api, containers=containers))
    finally:
        api.close()
    module.exit_json(changed=False, workspaces=sorted(workspaces, key=lambda w: w["name"]))


def _add_idle_views(views, observed):
    """Idle seconds of a running workspace, and why an idle-stopped one was stopped."""
    by_name = {(workspace["namespace"], workspace["name"]): workspace for workspace in observed}
    now = time.time()
    for view in views:
        workspace = by_name.get((view.get("namespace"), view["name"]))
        if not workspace:
            continue
        view["idle_seconds"] = idle.idle_seconds(now, workspace["started_at"], workspace["last_activity"]) if (
            workspace["running"]) else None
        view["max_idle_seconds"] = (workspace["policy"] or {}).get("max_idle_seconds")
        if workspace["stopped_reason"] and view["status"] == "Stopped":
            view["stopped_reason"] = workspace["stopped_reason"]


def _run_swarm(module, api):
    params = module.params
    try:
        services = [service for service in swarm_engine.find_services(api, params.get("name"))
                    if _matches({"Labels": service["Spec"]["Labels"]}, params["labels"])]
        views = [swarm_engine.describe(api, service) for service in services]
    finally:
        api.close()
    module.exit_json(changed=False, workspaces=sorted(views, key=lambda w: w["name"]))


def _run_kubernetes(module):
    params = module.params
    if params["labels"]:
        module.fail_json(msg="labels: filtering by label is available for backend: docker only in this version")
    api = workspace_task.connect_kubernetes_or_fail(module)
    try:
        views = k8s_engine.list_workspaces(api, params.get("namespace"), params.get("name"))
        cluster = k8s_engine.Cluster(api)
        _add_env_views(views, k8s_store.K8sStore(cluster, params["control_namespace"]),
                       env_refresh_k8s.workspace_envs(cluster, params.get("namespace")))
        for view in views:
            view["roles"] = role_k8s.assignments(cluster, view["namespace"], view["name"])
        _add_idle_views(views, idle_k8s.observe(cluster, params.get("namespace"), params.get("name")))
    except WorkspaceError as error:
        module.fail_json(msg=str(error))
    finally:
        api.close()
    module.exit_json(changed=False, workspaces=sorted(views, key=lambda w: (w["namespace"], w["name"])))
