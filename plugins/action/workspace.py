# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of the workspace module: the lifecycle files that live next to the playbook.

A pre-start script and a post-start hook are found on the controller the way
`template` finds its source (the role's or playbook's files/ directory, then
relative to it). The script's get_custom_configs() runs here and its result,
like the hook's text, goes to the module as an internal option. Any problem
fails the task before the module runs, so nothing is applied.
"""

from __future__ import annotations

import copy

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

from ansible_collections.atelier.workspaces.plugins.module_utils.args import workspace as workspace_args
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import lifecycle
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import workspace_spec as spec

INTERNAL_OPTIONS = ("_pre_start_config", "_post_start_hook")


def pre_start_context(params):
    """What get_custom_configs(context) is given: the workspace as the task describes it, no secret values."""
    container_config = spec.parse_container_config(params.get("container_config"), [])  # the module reports errors
    environment = container_config.get("environment") or {}
    if isinstance(environment, list):  # the compose-style list form
        environment = [str(item).split("=", 1)[0] for item in environment]
    secret_names = [row.get("env_var") or row.get("key") for row in params.get("secrets") or []]
    return {
        "name": params.get("name"),
        "namespace": params.get("namespace") or "workspaces",
        "backend": params.get("backend") or "kubernetes",
        "image": params.get("image") or container_config.get("image") or spec.DEFAULT_IMAGE,
        "user": params.get("user") or spec.DEFAULT_USER,
        "user_code_path": params.get("user_code_path") or spec.DEFAULT_USER_CODE_PATH,
        "labels": dict(params.get("labels") or {}),
        "env_names": sorted({*(params.get("env") or {}), *environment, *filter(None, secret_names)}),
        "container_config": container_config,
    }


def refuse_internal_options(args):
    """The options only this plugin sets may not come from the task."""
    entries = args.get("workspaces") if isinstance(args.get("workspaces"), list) else []
    given = sorted(option for option in INTERNAL_OPTIONS if option in args or any(
        option in entry for entry in entries if isinstance(entry, dict)))
    if given:
        raise WorkspaceError(f"{given[0]}: set by the action plugin from lifecycle_config; leave it out")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        try:
            module_args = self._module_args(copy.deepcopy(self._task.args))
        except WorkspaceError as error:
            result.update(failed=True, changed=False, msg=str(error))
            return result
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result = merge_hash(result, self._execute_module(
            module_name=self._task.action, module_args=module_args, task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _module_args(self, args):
        refuse_internal_options(args)
        if args.get("lifecycle_config") is not None:
            args["lifecycle_config"] = lifecycle.parse_lifecycle_config(args["lifecycle_config"])
        workspaces = args.get("workspaces")
        if not workspaces:
            args.update(self._lifecycle_files(args, ""))
        elif isinstance(workspaces, list) and all(isinstance(entry, dict) for entry in workspaces):
            args["workspaces"] = [self._entry_args(index, params, workspaces[index])
                                  for index, params in workspace_args.bulk_params(args)]
        # otherwise the module reports the entry that is not a mapping
        return args

    def _entry_args(self, index, params, entry):
        """One entry of `workspaces` with its own internal options; params has the task's options filled in."""
        entry, prefix = dict(entry), f"workspaces[{index}]."
        if entry.get("lifecycle_config") is not None:
            entry["lifecycle_config"] = lifecycle.parse_lifecycle_config(
                entry["lifecycle_config"], f"{prefix}lifecycle_config")
            params["lifecycle_config"] = entry["lifecycle_config"]
        entry.update(self._lifecycle_files(params, prefix))
        return entry

    def _lifecycle_files(self, params, prefix):
        """The internal options for one workspace: its pre-start script's settings and its hook's text."""
        config = params.get("lifecycle_config") or {}
        found = {}
        script = (config.get("pre_start") or {}).get("script_path")
        if script:
            field = prefix + lifecycle.PRE_START_FIELD
            path = self._controller_file(script, field)
            found["_pre_start_config"] = lifecycle.run_pre_start(path, pre_start_context(params), field)
        hook = (config.get("post_start") or {}).get("hook_path")
        if hook:
            field = prefix + lifecycle.HOOK_FIELD
            found["_post_start_hook"] = lifecycle.read_hook(self._controller_file(hook, field), field)
        return found

    def _controller_file(self, path, field):
        """The file's path on the controller, searched like template's src; WorkspaceError when missing."""
        try:
            return self._find_needle("files", path)
        except AnsibleError as error:
            raise WorkspaceError(f"{field}: {path} not found on the controller ({error.message}); give a path "
                                 f"relative to the playbook or role, or to its files/ directory") from None
