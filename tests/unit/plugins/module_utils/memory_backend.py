"""An engine in memory behind the Backend port, for tests of the task layer."""

from ansible_collections.atelier.workspaces.plugins.module_utils import plan, ports
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError


class MemoryStore(ports.Store):
    """Documents in a dict, counting writes; update_pair is the port's own (half by half, then checked)."""

    def __init__(self):
        self.documents = {}
        self.writes = 0

    def read(self, document, secret=False):
        found = self.documents.get((document, secret))
        return None if found is None else dict(found)

    def update(self, document, change, secret=False, dry_run=False):
        current = self.read(document, secret)
        wanted = change(current)
        if wanted == current:
            return False
        if not dry_run:
            if wanted is None:
                del self.documents[(document, secret)]
            else:
                self.documents[(document, secret)] = dict(wanted)
            self.writes += 1
        return True


class MemoryBackend(ports.Backend):
    """Workspaces as dicts. A workspace named 'broken' fails half way, after one action."""

    kubernetes_options = False
    bulk_workers = 4

    def __init__(self):
        self.workspaces = {}
        self.writes = 0
        self._store = MemoryStore()
        self.closed = False
        self.expected = None

    @property
    def store(self):
        return self._store

    def close(self):
        self.closed = True

    def expect(self, names):
        self.expected = list(names)

    def _view(self, name):
        found = self.workspaces.get(name)
        if found is None:
            return None
        return {"name": name, "backend": "memory", "namespace": None, "status": found["status"],
                "url": f"http://{name}/", "image": found["image"]}

    def reconcile(self, model, check_mode):
        name, actions = model["name"], []
        before = self.workspaces.get(name)
        desired = {"image": model["image"], "status": "Stopped" if model["state"] == "stopped" else "Running",
                   "record": model["configuration"], "env": {e["name"]: e["value"] for e in model["env"]}}
        if model["state"] == "absent":
            if before:
                actions.append("remove")
        elif before is None:
            actions.append("create")
        elif before != desired:
            actions.append("update")
        if name == "broken":
            raise plan.PartialFailure("broken: the engine refused the second step", actions or ["create"])
        if actions and not check_mode:
            self.writes += 1
            if model["state"] == "absent":
                del self.workspaces[name]
            else:
                self.workspaces[name] = desired
        after = None if check_mode else self._view(name)
        diff = {"before": {"image": before["image"]} if before else {},
                "after": {} if model["state"] == "absent" else {"image": desired["image"]}}
        return plan.Outcome(actions, after or self._view(name), diff)

    def configuration(self, name, namespace):
        found = self.workspaces.get(name)
        return None if found is None else {"record": found["record"], "env": found["env"]}

    def views(self, name=None, namespace=None, labels=None):
        return [self._view(found) for found in sorted(self.workspaces) if name in (None, found)]

    def workspace_envs(self, namespace=None):
        return []

    def role_assignments(self, view):
        return []

    def idle_workspaces(self, name=None, namespace=None):
        return []


class FailingConnection(ports.Backend):
    def __init__(self, *args, **kwargs):
        raise WorkspaceError("docker_host: cannot reach the engine at tcp://nowhere:2375; start it")
