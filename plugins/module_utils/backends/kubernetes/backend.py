# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes backend: every workspace a StatefulSet of one pod, with its Service, claim and env Secret."""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils import plan, ports
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import (
    apply,
    client,
    env,
    idle,
    observe,
    roles,
    store,
)
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError


class KubernetesBackend(ports.Backend):
    """Workspaces in namespaces; documents in the control namespace; roles as RBAC the API server enforces."""

    kubernetes_options = True

    def __init__(self, params, timeout=None):
        self.api = client.connect(params)
        self.cluster = client.Cluster(self.api)
        self._store = store.K8sStore(self.cluster, params.get("control_namespace"))
        self.snapshot = None

    def close(self):
        self.api.close()

    @property
    def store(self):
        return self._store

    def expect(self, names):
        # one workspace lists only its own objects; many are read once per namespace and kind
        self.snapshot = apply.Snapshot(self.cluster, single=names[0] if len(names) == 1 else None)

    def reconcile(self, model, check_mode):
        if self.snapshot is None:
            self.expect([model["name"]])
        workspace = apply.K8sWorkspace(self.cluster, model, check_mode, self.snapshot)
        try:
            existing, after = workspace.reconcile()
            if model["state"] == "absent":
                # the RBAC bindings of a removed workspace would grant access to a future one of the same name
                workspace.actions.extend(roles.remove_workspace_bindings(self.cluster, model["namespace"],
                                                                         model["name"], check_mode))
            view = self._view((after or existing or {}).get(("StatefulSet", model["name"])))
        except WorkspaceError as error:
            raise plan.PartialFailure(str(error), workspace.actions) from None
        return plan.Outcome(workspace.actions, view, workspace.diffs)

    def configuration(self, name, namespace):
        if self.snapshot is None:
            self.expect([name])
        # read from the snapshot the reconcile uses: no request per workspace of a bulk task
        owned = self.snapshot.objects(namespace, name)
        statefulset = owned.get(("StatefulSet", name))
        if statefulset is None:
            return None
        secret = owned.get(("Secret", naming.object_name(name, "env"))) or {}
        return {"record": observe.recorded_configuration(statefulset), "env": store.decoded(secret.get("data"))}

    def _view(self, statefulset):
        if not statefulset:
            return None
        meta = statefulset["metadata"]
        pod = self.cluster.get("Pod", meta["namespace"], observe.pod_name(meta["name"]))
        return observe.with_events(self.cluster, observe.view(statefulset, pod))

    def views(self, name=None, namespace=None, labels=None):
        return observe.views(self.cluster, namespace, name, labels)

    def workspace_envs(self, namespace=None):
        return env.workspace_envs(self.cluster, namespace)

    def refresh_env(self, workspace, entries, dry_run):
        env.refresh(self.cluster, workspace, entries, dry_run)

    def role_assignment(self, assignment, check_mode):
        return roles.RoleAssignment(self.cluster, assignment, check_mode)

    def role_assignments(self, view):
        return roles.assignments(self.cluster, view["namespace"], view["name"])

    def idle_workspaces(self, name=None, namespace=None):
        return idle.observe(self.cluster, namespace, name)

    def stop_idle(self, workspace, reason, dry_run):
        idle.stop(self.cluster, workspace, reason, dry_run)

    def host_vars(self, view, options):
        host_vars = {
            "ansible_connection": "kubernetes.core.kubectl",
            "ansible_kubectl_pod": view["pod"],
            "ansible_kubectl_namespace": view["namespace"],
            "ansible_kubectl_container": "workspace",
        }
        if options.get("kubeconfig"):
            host_vars["ansible_kubectl_kubeconfig"] = options["kubeconfig"]
        if options.get("context"):
            host_vars["ansible_kubectl_context"] = options["context"]
        return host_vars
