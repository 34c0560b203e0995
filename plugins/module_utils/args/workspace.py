# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The workspace module's options, and what one entry of a bulk task may set."""

from __future__ import annotations

import copy

from ansible_collections.atelier.workspaces.plugins.module_utils.args import connection

WORKSPACE_SPEC = {
    "name": {"type": "str"},
    "namespace": {"type": "str", "default": "workspaces"},
    "accelerator_label": {"type": "str", "default": "nvidia.com/gpu.product"},
    "state": {
        "type": "str",
        "default": "present",
        "choices": ["present", "running", "stopped", "restarted", "absent", "archived", "unarchived"],
    },
    "backend": connection.BACKEND,
    "image": {"type": "str"},
    "command": {"type": "list", "elements": "str"},
    "user": {"type": "str"},
    "env": {"type": "dict"},
    "secrets": {
        "type": "list",
        "elements": "dict",
        "no_log": False,
        "options": {
            "key": {"type": "str", "no_log": False},
            "env_var": {"type": "str"},
            "value": {"type": "str", "no_log": True},
        },
    },
    "resources": {
        "type": "dict",
        "options": {
            "cpu": {"type": "str"},
            "memory": {"type": "str"},
            "gpu": {"type": "int"},
            "accelerator": {"type": "str"},
        },
    },
    "storage": {
        "type": "dict",
        "options": {
            "size": {"type": "str"},
            "class": {"type": "str"},
            "shared_claim": {"type": "str"},
            "shared_path": {"type": "path"},
            "subpath_prefix": {"type": "str"},
        },
    },
    "user_code_path": {"type": "str"},
    "port": {"type": "int"},
    "publish": {
        "type": "dict",
        "options": {
            "bind_address": {"type": "str"},
            "host_port": {"type": "int"},
        },
    },
    "public_url": {"type": "str"},
    "auth": {"type": "str", "choices": ["token", "none"]},
    "ingress": {
        "type": "dict",
        "options": {
            "type": {"type": "str", "choices": ["nginx", "alb", "istio"]},
            "name": {"type": "str"},
            "host": {"type": "str"},
            "path_prefix": {"type": "str"},
            "path_type": {"type": "str",
                          "choices": ["ImplementationSpecific", "Prefix"]},
            "gateway": {"type": "str"},
            "auth_url": {"type": "str"},
        },
    },
    "labels": {"type": "dict"},
    "container_config": {"type": "raw"},
    "purge": {"type": "bool", "default": False},
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 120},
    "node_selector": {"type": "dict"},
    "affinity": {"type": "dict"},
    "tolerations": {"type": "list", "elements": "dict"},
    "runtime_class_name": {"type": "str"},
    "host_users": {"type": "bool"},
    "image_pull_secrets": {"type": "list", "elements": "str", "no_log": False},
    "service_account_token": {"type": "bool"},
    "lifecycle_config": {
        "type": "dict",
        "options": {
            "termination_policy": {
                "type": "dict",
                "options": {
                    "enable_auto_termination": {"type": "bool"},
                    "max_idle_seconds": {"type": "int"},
                },
            },
            "pre_start": {"type": "dict", "options": {"script_path": {"type": "str"}}},
            "post_start": {"type": "dict", "options": {"command": {"type": "raw"}, "hook_path": {"type": "str"}}},
        },
    },
    "on_startup": {"type": "list", "elements": "str"},
    "git": {"type": "dict", "options": {"repo": {"type": "str", "required": True}, "ref": {"type": "str"}}},
    # set by the action plugin from files on the controller
    "_pre_start_config": {"type": "dict"},
    "_post_start_hook": {"type": "str"},
}


# Several workspaces in one task: each entry takes the workspace options, and
# the task's own options are the defaults of every entry.
BULK_SPEC = {"workspaces": {"type": "list", "elements": "dict", "no_log": False}}
MODULE_RULES = {
    "required_one_of": [["name", "workspaces"]],
    "mutually_exclusive": [["name", "workspaces"]],
}
NOT_PER_ENTRY = ("backend",)


def argument_spec():
    """The workspace module's argument_spec (fresh copy, so callers may extend it)."""
    spec = copy.deepcopy(WORKSPACE_SPEC)
    spec.update(connection.engine_options())
    spec.update(copy.deepcopy(BULK_SPEC))
    return spec


def entry_spec():
    """What one entry of `workspaces` may set: the workspace options without their defaults."""
    spec = {}
    for key, option in WORKSPACE_SPEC.items():
        if key in NOT_PER_ENTRY:
            continue
        spec[key] = {k: v for k, v in copy.deepcopy(option).items() if k not in ("default", "fallback")}
    spec["name"]["required"] = True
    return spec


def bulk_params(params):
    """Yield (index, entry) with the task's options filled in for what an entry leaves out."""
    for index, entry in enumerate(params.get("workspaces") or []):
        merged = {key: value for key, value in params.items() if key != "workspaces"}
        merged.update(entry)
        yield index, merged
