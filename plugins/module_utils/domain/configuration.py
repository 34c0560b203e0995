# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A workspace's configuration as its tasks gave it, recorded with the workspace (pure, no I/O).

The rule for a workspace that exists: an option the task leaves out keeps the
workspace's current value; an option the task gives replaces that whole option;
an empty value (``{}``, ``[]``, ``""``) returns the option to its default. On
creation an omitted option takes its default. So ``state: stopped`` with only
the name stops the workspace as it is.

The record holds no secret value: each secret is kept as its key and variable,
and the value of a workspace's own secret is read back from the engine's copy
of its env when the task leaves ``secrets`` out.
"""

from __future__ import annotations

import json

# The options that describe the workspace (not the task: state, wait, purge; not its identity: name, namespace).
OPTIONS = (
    "image", "command", "user", "env", "secrets", "resources", "storage", "user_code_path", "port", "publish",
    "public_url", "ingress", "labels", "container_config", "node_selector", "affinity", "tolerations",
    "runtime_class_name", "host_users", "image_pull_secrets", "service_account_token", "lifecycle_config",
    "on_startup", "git", "auth",
    # what the action plugin read on the controller from the files lifecycle_config names
    "_pre_start_config", "_post_start_hook",
    # when the workspace was archived (see domain/archive)
    "_archived_at",
)
# The option a pre-start script or hook file came with: without it the file's content is not kept either.
CONTROLLER_FILES = {"_pre_start_config": "lifecycle_config", "_post_start_hook": "lifecycle_config"}


def pruned(value):
    """The value without the None that Ansible fills in for every sub-option left out."""
    if isinstance(value, dict):
        return {key: pruned(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [pruned(item) for item in value]
    return value


def is_empty(value):
    return pruned(value) in ({}, [], "")


def given(params):
    """The workspace options a task gave, empty values included (they reset an option)."""
    return {option: params[option] for option in OPTIONS if params.get(option) is not None}


def record(params):
    """What is stored with the workspace: the options given, secrets without their values."""
    stored = {option: pruned(value) for option, value in given(params).items() if not is_empty(value)}
    if "secrets" in stored:
        stored["secrets"] = [{"key": row.get("key"), "env_var": row.get("env_var"), "own": row.get("value") is not None}
                             for row in stored["secrets"]]
    return stored


def record_without_limits(stored):
    """The record without the CPU and memory limits, which engines change on a running workspace."""
    resources = {key: value for key, value in (stored.get("resources") or {}).items() if key not in ("cpu", "memory")}
    trimmed = {option: value for option, value in stored.items() if option != "resources"}
    if resources:
        trimmed["resources"] = resources
    return trimmed


def with_limits(stored, cpu_millis, memory_bytes):
    """The record with the CPU and memory limits a workspace runs with now; the given spelling where it agrees."""
    from ansible_collections.atelier.workspaces.plugins.module_utils.common import quantity

    resources = dict(stored.get("resources") or {})
    for key, live, parse, spell in (("cpu", cpu_millis, quantity.parse_cpu, quantity.cpu_quantity),
                                    ("memory", memory_bytes, quantity.parse_memory, quantity.memory_quantity)):
        recorded = parse(resources[key], key)[0] if resources.get(key) is not None else None
        if recorded == live:
            continue
        if live:
            resources[key] = spell(live)
        else:
            resources.pop(key, None)
    found = {option: value for option, value in stored.items() if option != "resources"}
    if resources:
        found["resources"] = resources
    return found


def encode(stored):
    return json.dumps(stored, sort_keys=True, separators=(",", ":"))


def decode(text):
    """The stored record, or None for a workspace that records none (made before records, or by hand)."""
    try:
        stored = json.loads(text) if text else None
    except ValueError:
        return None
    return stored if isinstance(stored, dict) else None


def _secrets_from(stored_secrets, env_values):
    """The secrets option rebuilt from the record, own values read back from the workspace's env."""
    rows = []
    for row in stored_secrets:
        value = env_values.get(row.get("env_var") or row.get("key")) if row.get("own") else None
        rows.append({"key": row.get("key"), "env_var": row.get("env_var"), "value": value})
    return rows


def merge(params, stored, env_values):
    """The task's params completed from the workspace's record: omitted keeps, given replaces, empty resets."""
    # an empty value returns the option to its default, which the model applies to an option left out
    merged = {key: None if key in OPTIONS and value is not None and is_empty(value) else value
              for key, value in params.items()}
    if stored is None:
        return merged
    task = given(params)
    for option, value in stored.items():
        if option not in OPTIONS or option in task or option == "_archived_at":  # the task's state decides
            continue
        if CONTROLLER_FILES.get(option) in task:
            continue  # a new lifecycle_config brings its own files (or none)
        merged[option] = _secrets_from(value, env_values) if option == "secrets" else value
    return merged


def secret_values(params):
    """The secret values among the params (to keep out of every output)."""
    return [row["value"] for row in params.get("secrets") or [] if row.get("value")]


def shown(stored):
    """The record as workspace_info returns it: the module's own option names, ready to copy into a task."""
    if stored is None:
        return None
    found = {option: value for option, value in stored.items() if not option.startswith("_")}
    if "secrets" in found:
        found["secrets"] = [{"key": row.get("key"), "env_var": row.get("env_var")} for row in found["secrets"]]
    return found
