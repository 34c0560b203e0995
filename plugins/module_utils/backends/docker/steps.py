# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every Docker reconciler does the same way: record an action and carry it out unless in check mode,
and make sure the image, a network and the data volume or shared sub-directory are there, and that the
workspace user can write its data directory (see datadir)."""

from __future__ import annotations

import posixpath

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import client, datadir
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import plan as docker_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker.client import APIError, exists, explain
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError


class EngineSteps:
    """One workspace on one engine: the actions taken so far, and the shared steps."""

    def __init__(self, api, model, check_mode, ready=None):
        self.api = api
        self.model = model
        self.check_mode = check_mode
        self.actions = []
        self.warnings = []
        # what the lifecycle commands printed, for the task result
        self.extra_result = {}
        # images and networks already known to be there, shared by the workspaces of one task
        self.ready = ready if ready is not None else set()
        # whether this run made the data volume: then its top directory is the collection's to give
        self.volume_created = False

    def _do(self, action, call, *args, **kwargs):
        """Record an action; carry it out unless in check mode. Only done actions are recorded."""
        if self.check_mode:
            self.actions.append(action)
            return None
        try:
            result = call(*args, **kwargs)
        except APIError as error:
            raise WorkspaceError(f"{action} failed: {explain(error)}") from None
        self.actions.append(action)
        return result

    def _ensure_image(self):
        image = self.model["image"]
        if ("image", image) in self.ready or exists(lambda: self.api.inspect_image(image)):
            self.ready.add(("image", image))
            return
        try:
            self._do("pull image", self.api.pull, image)
        except WorkspaceError as error:
            raise WorkspaceError(
                f"image: '{image}' is not on the engine and could not be pulled ({error}); build it locally "
                f"(make image) or give an image the engine can pull"
            ) from None

    def _ensure_network(self, name, **options):
        if ("network", name) in self.ready:
            return
        if not self.api.networks(names=[name]):
            self._do("create network", self.api.create_network, name,
                     labels={naming.LABEL_MANAGED_BY: naming.MANAGED_BY}, **options)
        if not self.check_mode:
            self.ready.add(("network", name))

    def _ensure_storage(self):
        if self.model["storage"]["kind"] != "volume":
            return
        name = docker_plan.volume_name(self.model["name"])
        if not exists(lambda: self.api.inspect_volume(name)):
            self._do("create volume", self.api.create_volume, name, labels=naming.owned_labels(self.model["name"]))
            self.volume_created = not self.check_mode

    def _own_data_directory(self, container_id):
        """Give the data volume's top directory, as a new container on it sees it, to the workspace user.

        Only when this run made the volume, or the volume is empty (the engine has just copied the image's
        directory at the mount point over it, root's when the image lacks it); a volume that holds data is
        left as it is, with a warning when the workspace user may not write it.
        """
        path = self.model["user_code_path"].rstrip("/")
        found = datadir.read_head(self.api, container_id, path) if path else None
        if found is None or found["type"] != "directory":
            return
        who = datadir.identity(self.api, container_id, self.model["user"])
        if datadir.writable(found, who):
            return
        if not (self.volume_created or found["empty"]):
            self.warnings.append(
                f"user_code_path: {path} (volume {docker_plan.volume_name(self.model['name'])}) belongs to uid "
                f"{found['uid']} with mode {found['mode']:o}, so user {self.model['user']} may not be able to "
                f"write it; a volume that holds data is left as it is"
            )
            return
        parent, base = posixpath.split(path)
        self._do(f"chown data directory to {who['uid']}:{who['gid']}", datadir.give, self.api, container_id,
                 parent or "/", base, who["uid"], who["gid"], found["mode"] | datadir.WRITABLE_BITS, found["mtime"])

    def _ensure_shared_directory(self):
        """Create <shared_path>/<prefix>/<name> on the engine's host, owned by the workspace user.

        The engine may be on another host, so it does it itself, through a never-started container of the
        workspace image with only shared_path mounted. An existing directory is left as it is.
        """
        storage = self.model["storage"]
        root = storage["shared_path"].rstrip("/") or "/"
        where = f"{root.rstrip('/')}/{storage['subpath']}"
        try:
            helper = datadir.create_helper(self.api, self.model["image"],
                                           [client.Mount(target="/shared", source=root, type="bind")])
        except APIError as error:
            raise WorkspaceError(
                f"storage.shared_path: cannot use {root} on the engine host ({explain(error)}); "
                f"create that directory there first"
            ) from None
        try:
            found = datadir.read_head(self.api, helper, f"/shared/{storage['subpath']}")
            if found is not None and found["type"] != "directory":
                raise WorkspaceError(f"storage.shared_path: {where} on the engine host is not a directory; "
                                     f"move it away or choose another storage.subpath_prefix")
            if found is None:
                who = datadir.identity(self.api, helper, self.model["user"])
                datadir.give(self.api, helper, "/shared", storage["subpath"], who["uid"], who["gid"],
                             datadir.SHARED_MODE)
                self.actions.append(f"create directory {storage['subpath']}")
        except APIError as error:
            raise WorkspaceError(
                f"storage.shared_path: could not create {where} for user {self.model['user']} on the engine host: "
                f"{explain(error)}"
            ) from None
        finally:
            self.api.remove_container(helper, force=True)

    def _purge_volume(self, before_removal=None):
        """Remove the data volume when the task asked for purge; shared storage is left on the host."""
        if not self.model["purge"]:
            return
        if self.model["storage"]["kind"] == "shared":
            self.warnings.append(
                "purge: the workspace uses shared storage; its sub-directory "
                f"{self.model['storage']['subpath']} on the host was left in place"
            )
            return
        volume = docker_plan.volume_name(self.model["name"])
        if exists(lambda: self.api.inspect_volume(volume)):
            if before_removal and not self.check_mode:
                before_removal()
            self._do("remove volume (purge)", self.api.remove_volume, volume)
