# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cluster-wide workspace defaults: ingress and storage (pure, no I/O).

They are kept as the control store document ``cluster-settings`` (on Kubernetes
the ConfigMap ``atelier-cluster-settings`` in the control namespace), written by
the cluster setup, under the names self-hosted clusters already use as
environment variables. A workspace task's own parameters win: the ingress
settings apply only to a task that sets no ``ingress``, the storage settings
only to one that names neither a storage class nor shared storage. The host
directories a workspace may mount (``WORKSPACE_ALLOWED_HOST_PATHS``, see
host_paths) are the cluster's alone: no task parameter widens them.
"""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.domain import host_paths

DOCUMENT = "cluster-settings"

INGRESS_SETTINGS = {
    "WORKSPACE_INGRESS_NAME": "name",
    "WORKSPACE_INGRESS_TYPE": "type",
    "WORKSPACE_INGRESS_PATH_TYPE": "path_type",
    "WORKSPACE_INGRESS_HOST": "host",
    "WORKSPACE_INGRESS_PATH_PREFIX": "path_prefix",
    # the workspace gateway the k8s_cluster role installs (see docs/access.md)
    "WORKSPACE_AUTH_URL": "auth_url",
}
STORAGE_SETTINGS = {
    "WORKSPACE_STORAGE_CLASS": "class",
    "WORKSPACE_PVC_NAME": "shared_claim",
    "WORKSPACE_PVC_SUBPATH_PREFIX": "subpath_prefix",
    "WORKSPACE_SHARED_PATH": "shared_path",
}
# Settings no task parameter overrides.
GUARD_SETTINGS = (host_paths.SETTING,)
INGRESS_TYPES = ("nginx", "alb", "istio")
PATH_TYPES = ("ImplementationSpecific", "Prefix")


def validate(settings):
    """Error messages for a settings document, each naming the setting to fix."""
    where = f"cluster settings ({DOCUMENT})"
    known = sorted([*INGRESS_SETTINGS, *STORAGE_SETTINGS, *GUARD_SETTINGS])
    errors = [
        f"{where} {name}: unknown setting; use one of {', '.join(known)}"
        for name in sorted(settings)
        if name not in known
    ]
    if settings.get("WORKSPACE_INGRESS_TYPE", "nginx") not in INGRESS_TYPES:
        errors.append(f"{where} WORKSPACE_INGRESS_TYPE: use one of {', '.join(INGRESS_TYPES)}")
    if settings.get("WORKSPACE_INGRESS_PATH_TYPE", PATH_TYPES[0]) not in PATH_TYPES:
        errors.append(f"{where} WORKSPACE_INGRESS_PATH_TYPE: use one of {', '.join(PATH_TYPES)}")
    shared = settings.get("WORKSPACE_PVC_NAME") or settings.get("WORKSPACE_SHARED_PATH")
    if shared and not settings.get("WORKSPACE_PVC_SUBPATH_PREFIX"):
        errors.append(f"{where} WORKSPACE_PVC_SUBPATH_PREFIX: required with shared storage, for example 'workspaces'")
    _directories, path_errors = host_paths.allowed_directories(settings.get(host_paths.SETTING))
    errors.extend(f"{where} {host_paths.SETTING}: {error}" for error in path_errors)
    return errors


def _pick(settings, names):
    return {option: settings[name] for name, option in names.items() if settings.get(name)}


def apply(params, settings):
    """The task's parameters completed with the cluster settings (a new dict).

    The allowed host directories go in as the private parameter host_paths.PARAM, which no task can give.
    """
    if not settings:
        return params
    params = dict(params)
    params[host_paths.PARAM] = host_paths.allowed_directories(settings.get(host_paths.SETTING))[0]
    ingress = _pick(settings, INGRESS_SETTINGS)
    gateway = ingress.pop("auth_url", None)
    if not params.get("ingress") and ingress.get("name"):
        # with no shared ingress named, the workspace stays reachable through its Service only
        params["ingress"] = ingress
    route = params.get("ingress")
    if gateway and route and not route.get("auth_url") and (route.get("type") or "nginx") == "nginx":
        # every nginx-class route goes through the cluster's gateway, the task's own too
        params["ingress"] = {**route, "auth_url": gateway}
    storage = dict(params.get("storage") or {})
    chosen = storage.get("class") or storage.get("shared_claim") or storage.get("shared_path")
    if not chosen:
        storage.update(_pick(settings, STORAGE_SETTINGS))
        params["storage"] = storage
    return params


def changes(given):
    """The settings a task gives -> ({name: the string stored, or None to remove it}, errors).

    An empty value removes the setting. The list of host directories may be given as a list.
    """
    found, errors = {}, []
    for name, value in sorted((given or {}).items()):
        if value is None or value in ("", [], {}):
            found[name] = None
        elif isinstance(value, list) and name == host_paths.SETTING:
            entries = [str(entry) for entry in value]
            errors.extend(f"settings.{name}: '{entry}' holds '{host_paths.SEPARATOR}', which separates the "
                          f"directories (and no directory with it can be mounted)"
                          for entry in entries if host_paths.SEPARATOR in entry)
            found[name] = host_paths.SEPARATOR.join(entries)
        elif isinstance(value, (list, dict, bool)):
            errors.append(f"settings.{name}: give a string, as in the ConfigMap; a list only for {host_paths.SETTING}")
        else:
            found[name] = str(value)
    return found, errors


def changed(document, changes):
    """The stored document with the changes made -> (new document, errors of the new document)."""
    after = {name: value for name, value in (document or {}).items() if name not in changes}
    after.update({name: value for name, value in changes.items() if value is not None})
    return dict(sorted(after.items())), validate(after)
