# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module parameters -> one backend-neutral workspace model (pure, no I/O).

Every check that needs no server happens here, so bad input fails before any
engine is touched and names the field to fix.
"""

from __future__ import annotations

from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.common import quantity as quantities
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import (
    access,
    archive,
    configuration,
    env_policy,
    host_paths,
    lifecycle,
)
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import container_fields as k8s_container

DEFAULT_IMAGE = "atelier/workspace:local"
DEFAULT_USER_CODE_PATH = "/home/workspace/code"
DEFAULT_IDE_PORT = 8888
DEFAULT_USER = "1000"
DEFAULT_NAMESPACE = "workspaces"
DEFAULT_SUBPATH_PREFIX = "workspaces"

# Options that only mean something to the Kubernetes scheduler or API server.
KUBERNETES_ONLY = (
    "node_selector", "affinity", "tolerations", "runtime_class_name", "host_users", "image_pull_secrets", "ingress",
    "service_account_token",
)
# The seed's Docker form of container_config.
DOCKER_CONTAINER_CONFIG_KEYS = ("image", "volumes", "environment", "public_url")


def parse_container_config(raw, errors):
    """The seed's container_config: a YAML string or a dict."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, str):
        try:
            import yaml  # ansible-core depends on PyYAML

            raw = yaml.safe_load(raw)
        except Exception as error:  # yaml.YAMLError and its many subclasses
            errors.append(f"container_config: not valid YAML ({error}); give a mapping such as 'image: my/ide:1'")
            return {}
    if not isinstance(raw, dict):
        errors.append("container_config: must be a mapping (a YAML dict), for example 'environment: {A: b}'")
        return {}
    return raw


def _unknown_key_error(config, kubernetes, where):
    allowed = DOCKER_CONTAINER_CONFIG_KEYS + (k8s_container.FIELDS if kubernetes else ())
    unknown = sorted(set(config) - set(allowed))
    if not unknown:
        return None
    keys = ", ".join(DOCKER_CONTAINER_CONFIG_KEYS)
    if kubernetes:
        return (f"{where}.{unknown[0]}: neither a container_config field ({keys}) nor a Kubernetes container field "
                f"such as env, resources or volumeMounts")
    return f"{where}.{unknown[0]}: not a Docker container_config field; use one of {keys}"


def _container_layer(config, kubernetes, where, errors, allowed_host_paths):
    """One container_config mapping: its Docker keys, and on Kubernetes the container fields it sets."""
    unknown = _unknown_key_error(config, kubernetes, where)
    errors.extend([unknown] if unknown else [])
    environment = config.get("environment") or {}
    if isinstance(environment, list):  # the compose-style list form
        environment = dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    if not isinstance(environment, dict):
        errors.append(f"{where}.environment: must be a mapping of NAME: value")
        environment = {}
    volumes = config.get("volumes") or []
    if not isinstance(volumes, list):
        errors.append(f"{where}.volumes: must be a list of 'source:/target[:ro]' strings")
        volumes = []
    fields = {key: value for key, value in config.items()
              if key in k8s_container.FIELDS and key not in DOCKER_CONTAINER_CONFIG_KEYS}
    k8s_container.check(fields, where, errors)
    return {
        "image": config.get("image"),
        "environment": {str(k): str(v) for k, v in environment.items()},
        "volumes": [_parse_volume(v, f"{where}.volumes[{i}]", errors, allowed_host_paths)
                    for i, v in enumerate(volumes)],
        "public_url": config.get("public_url"),
        "container_fields": fields,
    }


def _pre_start_layer(params, kubernetes, errors, allowed_host_paths):
    """What the pre-start script returned (the action plugin ran it), checked like container_config."""
    script = ((params.get("lifecycle_config") or {}).get("pre_start") or {}).get("script_path")
    if not script:
        return None
    if params.get("_pre_start_config") is None:
        errors.append(f"{lifecycle.PRE_START_FIELD}: the script runs on the controller, in the action plugin; run "
                      f"the module as a task (atelier.workspaces.workspace), not on its own")
        return None
    where = f"{lifecycle.PRE_START_FIELD}: {script} returned container_config"
    return _container_layer(params["_pre_start_config"], kubernetes, where, errors, allowed_host_paths)


def _container_config(params, kubernetes, errors):
    """container_config, then the pre-start script's settings over it: a later layer wins."""
    # a workspace being removed mounts nothing: a shorter list of host paths never keeps it from going
    allowed = None if params.get("state") == "absent" else params.get(host_paths.PARAM) or []
    layers = [_container_layer(parse_container_config(params.get("container_config"), errors), kubernetes,
                               "container_config", errors, allowed)]
    layers.append(_pre_start_layer(params, kubernetes, errors, allowed))
    merged = {"image": None, "environment": {}, "volumes": [], "public_url": None, "container_fields": []}
    for layer in filter(None, layers):
        merged["image"] = layer["image"] or merged["image"]
        merged["public_url"] = layer["public_url"] or merged["public_url"]
        merged["environment"].update(layer["environment"])
        volumes = [volume for volume in layer["volumes"] if volume]
        targets = {volume["target"] for volume in volumes}
        merged["volumes"] = [v for v in merged["volumes"] if v["target"] not in targets] + volumes
        if layer["container_fields"]:
            merged["container_fields"].append(layer["container_fields"])
    return merged


def _parse_volume(text, field, errors, allowed_host_paths):
    parts = str(text).split(":")
    well_formed = len(parts) in (2, 3) and parts[0] and parts[1].startswith("/") and parts[2:] in ([], ["ro"], ["rw"])
    if not well_formed:
        errors.append(f"{field}: '{text}' is not a volume; write 'source:/absolute/target' or 'source:/target:ro'")
        return None
    refused = host_paths.volume_source_error(parts[0], allowed_host_paths, field)
    if refused:
        errors.append(refused)
        return None
    return {"source": parts[0], "target": parts[1], "read_only": parts[2:] == ["ro"]}


def _resources(resources, errors):
    cpu_millis = memory_bytes = None
    if resources.get("cpu") is not None:
        cpu_millis, error = quantities.parse_cpu(resources["cpu"], "resources.cpu")
        errors.extend([error] if error else [])
    if resources.get("memory") is not None:
        memory_bytes, error = quantities.parse_memory(resources["memory"], "resources.memory")
        errors.extend([error] if error else [])
    gpu = resources.get("gpu") or 0
    if gpu < 0:
        errors.append(f"resources.gpu: {gpu} is negative; give a GPU count of 0 or more")
    return {
        "cpu_millis": cpu_millis,
        "memory_bytes": memory_bytes,
        "gpu": gpu,
        "accelerator": resources.get("accelerator"),
    }


def _storage(storage, name, kubernetes, errors, warnings):
    prefix = (storage.get("subpath_prefix") or DEFAULT_SUBPATH_PREFIX).strip("/")
    shared = storage.get("shared_claim") if kubernetes else storage.get("shared_path")
    if shared:
        if not prefix or ".." in prefix.split("/"):
            errors.append("storage.subpath_prefix: must be a relative path without '..', for example 'workspaces'")
        if not kubernetes:  # the Docker form names a host directory; on Kubernetes it is a claim
            refused = host_paths.shared_path_error(shared, f"{prefix}/{name}", "storage.shared_path")
            errors.extend([refused] if refused else [])
        if kubernetes and storage.get("class"):
            warnings.append(
                f"storage: both shared_claim and class are set; the shared claim '{shared}' wins "
                f"and class '{storage['class']}' is not used"
            )
        return {"kind": "shared", "shared_path": shared, "shared_claim": shared, "subpath": f"{prefix}/{name}"}
    size = storage.get("size") or "10Gi"
    size_bytes, error = quantities.parse_memory(size, "storage.size")
    errors.extend([error] if error else [])
    return {"kind": "volume", "size_bytes": size_bytes, "class": storage.get("class")}


def _scheduling(params, errors):
    for index, toleration in enumerate(params.get("tolerations") or []):
        if not toleration.get("key") and toleration.get("operator") != "Exists":
            errors.append(
                f"tolerations[{index}]: give a key, or operator: Exists to tolerate every taint"
            )
        if toleration.get("operator") not in (None, "Exists", "Equal"):
            errors.append(f"tolerations[{index}].operator: use Exists or Equal, not '{toleration['operator']}'")
    return {
        "node_selector": {str(k): str(v) for k, v in (params.get("node_selector") or {}).items()},
        "affinity": params.get("affinity"),
        "tolerations": params.get("tolerations") or [],
        "runtime_class_name": params.get("runtime_class_name"),
        "host_users": params.get("host_users"),
        "image_pull_secrets": params.get("image_pull_secrets") or [],
    }


def _ingress(ingress, name, errors):
    """The workspace's route: its own Ingress, a path in a shared one, or none (Service only)."""
    if not ingress:
        return None
    prefix = "/" + (ingress.get("path_prefix") or "/").strip("/")
    shared = ingress.get("name")
    if shared and naming.validate_workspace_name(shared):
        errors.append(f"ingress.name: '{shared}' is not a valid object name; use lower-case letters, digits and '-'")
    route_type = ingress.get("type") or "nginx"
    auth_url = ingress.get("auth_url")
    if auth_url and not auth_url.startswith(("http://", "https://")):
        errors.append(f"ingress.auth_url: '{auth_url}' is not an http(s) URL; give the workspace gateway's address, "
                      f"for example http://atelier-gateway.atelier-system.svc.cluster.local:8080/auth")
    if auth_url and route_type != "nginx":
        errors.append(f"ingress.auth_url: only an nginx-class ingress asks a gateway; leave it out for type "
                      f"{route_type} (the workspace's access secret still guards its IDE)")
    return {
        "type": route_type,
        "auth_url": auth_url,
        "prefix": prefix,
        "shared_name": shared,
        "host": ingress.get("host"),
        "path": f"{prefix.rstrip('/')}/{name}",
        "path_type": ingress.get("path_type") or "ImplementationSpecific",
        "gateway": ingress.get("gateway") or "istio-system/ingressgateway",
    }


def _post_start_conflicts(workspace_lifecycle, container_fields):
    if not workspace_lifecycle["post_start"]:
        return []
    return [
        "container_config.lifecycle.postStart: lifecycle_config.post_start sets it too; give the post-start "
        "command in one place"
        for fields in container_fields if (fields.get("lifecycle") or {}).get("postStart")
    ][:1]


def build_model(params, policy=None, kubernetes=True):
    """Validate and normalise module params; return (model, errors).

    `kubernetes` says whether the engine reads the Kubernetes-only options (scheduling, ingress, container fields).
    """
    errors, warnings = [], []
    name_error = naming.validate_workspace_name(params.get("name"))
    if name_error:
        return None, [name_error]
    name = params["name"]
    backend = params.get("backend") or "kubernetes"
    if not kubernetes:
        errors.extend(
            f"{option}: only the Kubernetes backend can use it; remove it for backend: docker"
            for option in KUBERNETES_ONLY
            if params.get(option) not in (None, [], {})
        )
    config = _container_config(params, kubernetes, errors)
    if params.get("port") is not None and not 0 < params["port"] < 65536:
        errors.append(f"port: {params['port']} is not a TCP port; use 1-65535")
    publish = params.get("publish") or {}
    host_port = publish.get("host_port")
    if host_port is not None and not 0 < host_port < 65536:
        errors.append(f"publish.host_port: {host_port} is not a TCP port; use 1-65535, or leave it out for a free one")
    if (params.get("wait_timeout") or 0) < 1:
        errors.append("wait_timeout: must be at least 1 second")
    user_code_path = params.get("user_code_path") or DEFAULT_USER_CODE_PATH
    if not user_code_path.startswith("/"):
        errors.append(f"user_code_path: '{user_code_path}' must be an absolute path inside the container")

    explicit_env = dict(config["environment"])
    explicit_env.update({str(k): "" if v is None else str(v) for k, v in (params.get("env") or {}).items()})
    secret_rows = params.get("secrets") or []
    own_secrets = {row["key"]: row["value"] for row in secret_rows if row.get("key") and row.get("value") is not None}
    refs = [{"key": row.get("key"), "env_var": row.get("env_var")} for row in secret_rows]
    route = _ingress(params.get("ingress"), name, errors) if kubernetes else None
    # the IDE must build its links under the route's path, or its pages break behind the ingress
    ide_base_url = route["path"].rstrip("/") + "/" if route else None
    auth = params.get("auth") or access.DEFAULT_MODE
    errors.extend(access.errors(explicit_env))
    # a new workspace draws its secret here; the task passes an existing workspace's own
    access_token = None if auth == "none" else params.get("_access_token") or access.new_token()
    warnings.extend(access.warnings(auth, publish.get("bind_address"), route))
    env_entries, env_errors = env_policy.effective_env(
        policy or env_policy.default_policy(),
        name,
        explicit_env=explicit_env,
        secret_refs=refs,
        own_secrets=own_secrets,
        user_code_path=user_code_path,
        ide_base_url=ide_base_url,
        access_token=access_token,
    )
    errors.extend(env_errors)
    inputs = env_policy.env_inputs(explicit_env, refs, own_secrets, user_code_path, env_entries, ide_base_url,
                                   access_token)
    workspace_lifecycle = lifecycle.lifecycle_model(params, errors)
    errors.extend(_post_start_conflicts(workspace_lifecycle, config["container_fields"]))

    model = {
        "name": name,
        "backend": backend,
        "state": archive.engine_state(params.get("state") or "present"),
        "image": params.get("image") or config["image"] or DEFAULT_IMAGE,
        "command": params.get("command"),
        "user": params.get("user") or DEFAULT_USER,
        "env": env_entries,
        "env_inputs": inputs,
        "auth": auth,
        "resources": _resources(params.get("resources") or {}, errors),
        "storage": _storage(params.get("storage") or {}, name, kubernetes, errors, warnings),
        "namespace": params.get("namespace") or DEFAULT_NAMESPACE,
        "accelerator_label": params.get("accelerator_label") or "nvidia.com/gpu.product",
        "scheduling": _scheduling(params, errors),
        "ingress": route,
        "warnings": warnings,
        "extra_volumes": config["volumes"],
        "container_fields": config["container_fields"],
        "lifecycle": workspace_lifecycle,
        "service_account_token": bool(params.get("service_account_token")),
        "user_code_path": user_code_path,
        "port": params.get("port") or DEFAULT_IDE_PORT,
        "publish": {"bind_address": publish.get("bind_address") or "127.0.0.1", "host_port": host_port},
        "public_url": params.get("public_url") or config["public_url"],
        "labels": {str(k): str(v) for k, v in (params.get("labels") or {}).items()},
        "purge": bool(params.get("purge")),
        "wait": params.get("wait", True),
        "wait_timeout": params.get("wait_timeout") or 120,
        "configuration": configuration.record(params),
    }
    return (None, errors) if errors else (model, [])
