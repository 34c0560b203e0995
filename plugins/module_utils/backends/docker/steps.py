# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every Docker reconciler does the same way: record an action and carry it out unless in check mode,
and make sure the image, a network and the data volume are there."""

from __future__ import annotations

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
