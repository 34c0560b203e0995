# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one port every task talks to: what a workspace engine does for the modules.

Each backend (Kubernetes, Docker, Docker in Swarm mode) implements all of it.
Where an engine cannot do something, its backend raises WorkspaceError naming
the option; no task asks which backend it has.
"""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.common import pair_writes


class Store:
    """Engine-wide documents (flat mappings of strings) that every controller of the engine sees.

    A document is only ever changed through update(): the engine guards the read, the change and the
    write together, and the change is computed again from what is stored when another run came first.
    """

    def read(self, document, secret=False):
        """The document's mapping, or None when it was never written."""
        raise NotImplementedError

    def update(self, document, change, secret=False, dry_run=False):
        """Store change(current mapping or None) -> new mapping (None: no document) under the engine's guard.

        change() runs again on the stored document whenever another run wrote it first, so it must
        only compute. True when the document differed (and was written unless dry_run); an unchanged
        document costs reads only.
        """
        raise NotImplementedError

    def read_pair(self, document):
        """(plain, secret) halves of a document that update_pair wrote, both from one write; (None, None)."""
        return pair_writes.read(self, document)

    def update_pair(self, document, change, dry_run=False):
        """Store change((plain, secret)) -> (plain, secret) so that no reader sees halves of two writes.

        (None, None), or no plain half, removes both. change() runs again as in update(). True when the
        pair differed. This one writes the halves one after the other, each guarded; a store that can
        write both at once under one guard does that instead.
        """
        return pair_writes.update(self, document, change, dry_run)


class Backend:
    """A connected engine. Views are dicts with at least name, backend, namespace, status and url."""

    # Kubernetes scheduling, ingress and container fields mean something to this engine
    kubernetes_options = False
    # workspaces of one bulk task reconciled side by side
    bulk_workers = 1

    def close(self):
        raise NotImplementedError

    @property
    def store(self):
        """The engine's Store."""
        raise NotImplementedError

    def expect(self, names):
        """The workspaces the task will reconcile, so an engine can read them all at once."""

    def configuration(self, name, namespace):
        """None when the workspace does not exist; else {record: the recorded options or None, env: its env values}."""
        raise NotImplementedError

    def reconcile(self, model, check_mode):
        """Bring one workspace to its model; a plan.Outcome, or plan.PartialFailure with what was done."""
        raise NotImplementedError

    def views(self, name=None, namespace=None):
        """The view of every workspace (or one): the same one reconcile returns."""
        raise NotImplementedError

    def workspace_envs(self, namespace=None):
        """Every workspace with its recorded env inputs, env values, config hash and whether it runs."""
        raise NotImplementedError

    def refresh_env(self, workspace, entries, dry_run):
        """Give an existing workspace a new env (restarting it if it runs)."""
        raise NotImplementedError

    def role_assignment(self, assignment, check_mode):
        """An object whose converge() applies the assignment -> (before, after, holders); .actions lists writes."""
        raise NotImplementedError

    def role_assignments(self, view):
        """The roles of one workspace, direct and global."""
        raise NotImplementedError

    def idle_workspaces(self, name=None, namespace=None):
        """Every workspace (or one) with what its idle time is computed from."""
        raise NotImplementedError

    def stop_idle(self, workspace, reason, dry_run):
        """Stop an idle workspace and keep the reason where workspace_info finds it."""
        raise NotImplementedError

    def host_vars(self, view, options):
        """Inventory variables that let Ansible connect into a running workspace."""
        raise NotImplementedError
