# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Desired Kubernetes objects for a workspace model (pure, no I/O).

Quantities are written in the API server's canonical form, so what is read
back compares equal to what was planned and an unchanged workspace costs no
write.
"""

from __future__ import annotations

import base64
import copy
import urllib.parse

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import container as k8s_container
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming, quantity
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import configuration, env_policy, lifecycle

ANNOTATION_CONFIG_HASH = "workspaces.atelier.dev/config-hash"
# what the workspace was given, so a policy change can recompute its env (no secret values)
ANNOTATION_ENV_INPUTS = "workspaces.atelier.dev/env-inputs"
# the post-start hook's content lives in a ConfigMap; its hash in the pod template restarts the pod when it changes
ANNOTATION_HOOKS_HASH = "workspaces.atelier.dev/hooks-hash"
# where the IDE answers, so every reader reports the same URL without the task's options
ANNOTATION_URL = "workspaces.atelier.dev/url"
# the options as the tasks gave them (see domain/configuration)
ANNOTATION_CONFIGURATION = "workspaces.atelier.dev/configuration"
IDE_PORT_NAME = "ide"
INGRESS_NGINX = "nginx.ingress.kubernetes.io"
DATA_VOLUME = "data"
HOOKS_VOLUME = "hooks"
STARTUP_CONTAINER = "startup"


def _meta(model, name, annotations=None):
    meta = {"name": name, "namespace": model["namespace"], "labels": {**model["labels"], **naming.owned_labels(
        model["name"])}}
    if annotations:
        meta["annotations"] = annotations
    return meta


def _resources(model):
    resources = model["resources"]
    amounts = {}
    if resources["cpu_millis"]:
        amounts["cpu"] = quantity.cpu_quantity(resources["cpu_millis"])
    if resources["memory_bytes"]:
        amounts["memory"] = quantity.memory_quantity(resources["memory_bytes"])
    limits = dict(amounts)
    if resources["gpu"]:
        limits["nvidia.com/gpu"] = str(resources["gpu"])
    resources = {"limits": limits} if limits else {}
    if amounts:
        resources["requests"] = amounts
    return resources


def _data_volume(model):
    storage = model["storage"]
    claim = storage["shared_claim"] if storage["kind"] == "shared" else naming.object_name(model["name"], "data")
    return {"name": DATA_VOLUME, "persistentVolumeClaim": {"claimName": claim}}


def _data_mount(model):
    mount = {"name": DATA_VOLUME, "mountPath": model["user_code_path"]}
    if model["storage"]["kind"] == "shared":
        mount["subPath"] = model["storage"]["subpath"]
    return mount


def _security_context():
    return {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True}


def _env_from(model):
    return [{"secretRef": {"name": naming.object_name(model["name"], "env")}}]


def _container(model):
    container = {
        "name": "workspace",
        "image": model["image"],
        "envFrom": _env_from(model),
        "ports": [{"name": IDE_PORT_NAME, "containerPort": model["port"], "protocol": "TCP"}],
        "workingDir": model["user_code_path"],
        "volumeMounts": [_data_mount(model)],
        "securityContext": _security_context(),
        # Ready, and so Running in workspace_info, only once the IDE accepts connections
        "readinessProbe": {"tcpSocket": {"port": IDE_PORT_NAME}, "periodSeconds": 2},
    }
    if model["command"]:
        container["command"] = model["command"]
    resources = _resources(model)
    if resources:
        container["resources"] = resources
    post_start = model["lifecycle"]["post_start"]
    if post_start:
        container["lifecycle"] = {"postStart": {"exec": {"command": lifecycle.post_start_command(post_start)}}}
    if lifecycle.hook_fingerprint(post_start):
        container["volumeMounts"].append({"name": HOOKS_VOLUME, "mountPath": lifecycle.HOOKS_DIR, "readOnly": True})
    for fields in model["container_fields"]:
        container = k8s_container.merge(container, fields)
    return container


def _startup_container(model):
    """The init container that clones git.repo and runs on_startup, on the workspace's data, as the workspace."""
    return {
        "name": STARTUP_CONTAINER,
        "image": model["image"],
        "command": ["/bin/sh", "-c", lifecycle.startup_script(model["lifecycle"]["startup"], model["user_code_path"])],
        "envFrom": _env_from(model),
        "workingDir": model["user_code_path"],
        "volumeMounts": [_data_mount(model)],
        "securityContext": _security_context(),
    }


def _volumes(model):
    volumes = [_data_volume(model)]
    if lifecycle.hook_fingerprint(model["lifecycle"]["post_start"]):
        volumes.append({"name": HOOKS_VOLUME, "configMap": {
            "name": naming.object_name(model["name"], "hooks"), "defaultMode": lifecycle.HOOK_MODE}})
    return volumes


def _pod_spec(model):
    scheduling = model["scheduling"]
    node_selector = dict(scheduling["node_selector"])
    if model["resources"]["accelerator"]:
        node_selector[model["accelerator_label"]] = model["resources"]["accelerator"]
    user = int(model["user"].split(":")[0]) if model["user"].split(":")[0].isdigit() else 1000
    spec = {
        "serviceAccountName": model["name"],
        "automountServiceAccountToken": model["service_account_token"],
        # no docker-link variables of the namespace's Services: a Service named like the workspace
        # ("ide") would set IDE_PORT=tcp://... over the image's own settings
        "enableServiceLinks": False,
        "securityContext": {"runAsUser": user, "runAsGroup": 0, "fsGroup": 0,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [_container(model)],
        "volumes": _volumes(model),
    }
    optional = {
        "initContainers": [_startup_container(model)] if model["lifecycle"]["startup"] else [],
        "nodeSelector": node_selector,
        "affinity": scheduling["affinity"],
        "tolerations": scheduling["tolerations"],
        "runtimeClassName": scheduling["runtime_class_name"],
        "hostUsers": scheduling["host_users"],
        "imagePullSecrets": [{"name": secret} for secret in scheduling["image_pull_secrets"]],
    }
    spec.update({key: value for key, value in optional.items() if value not in (None, {}, [])})
    return spec


def _identity_objects(model):
    """The workspace's own ServiceAccount (no token unless asked for) and its hooks ConfigMap, if it has a hook."""
    objects = [{
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(model, model["name"]),
        "automountServiceAccountToken": False,
    }]
    post_start = model["lifecycle"]["post_start"]
    if lifecycle.hook_fingerprint(post_start):
        objects.append({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta(model, naming.object_name(model["name"], "hooks")),
            "data": {lifecycle.POST_START_HOOK: post_start["hook"]},
        })
    return objects


def _template_annotations(model):
    annotations = {ANNOTATION_CONFIG_HASH: env_policy.config_hash(model["env"])}
    hook_hash = lifecycle.hook_fingerprint(model["lifecycle"]["post_start"])
    if hook_hash:
        annotations[ANNOTATION_HOOKS_HASH] = hook_hash
    return annotations


def desired_objects(model, replicas):
    """The objects of one workspace, in the order they are applied."""
    name = model["name"]
    selector = naming.owned_labels(name)
    objects = [{
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(model, naming.object_name(name, "env")),
        "type": "Opaque",
        "data": {e["name"]: base64.b64encode(e["value"].encode()).decode() for e in model["env"]},
    }]
    if model["storage"]["kind"] == "volume":
        claim = {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": quantity.memory_quantity(model["storage"]["size_bytes"])}},
        }
        if model["storage"]["class"]:
            claim["storageClassName"] = model["storage"]["class"]
        objects.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                        "metadata": _meta(model, naming.object_name(name, "data")), "spec": claim})
    objects.append({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(model, name),
        "spec": {"selector": selector, "ports": [
            {"name": IDE_PORT_NAME, "port": model["port"], "targetPort": IDE_PORT_NAME, "protocol": "TCP"}]},
    })
    if model["ingress"] and not model["ingress"]["shared_name"]:
        objects.append(own_route(model))
    objects.extend(_identity_objects(model))
    annotations = {ANNOTATION_ENV_INPUTS: env_policy.encode_inputs(model["env_inputs"]), ANNOTATION_URL: url(model),
                   ANNOTATION_CONFIGURATION: configuration.encode(model["configuration"])}
    annotations.update(lifecycle.termination_metadata(model["lifecycle"]["termination"]))
    objects.append({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(model, name, annotations),
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": selector, "annotations": _template_annotations(model)},
                "spec": _pod_spec(model),
            },
        },
    })
    return objects


def ingress_path(model):
    """One path of an Ingress, pointing at the workspace's Service."""
    route = model["ingress"]
    return {
        "path": route["path"],
        "pathType": route["path_type"],
        "backend": {"service": {"name": model["name"], "port": {"name": IDE_PORT_NAME}}},
    }


def istio_route(model):
    """One HTTP route of a VirtualService, named after the workspace."""
    return {
        "name": model["name"],
        "match": [{"uri": {"prefix": model["ingress"]["path"]}}],
        "route": [{"destination": {
            "host": f"{model['name']}.{model['namespace']}.svc.cluster.local",
            "port": {"number": model["port"]},
        }}],
    }


def own_route(model):
    """The Ingress or VirtualService of a workspace that does not share one."""
    route = model["ingress"]
    if route["type"] == "istio":
        return {
            "apiVersion": "networking.istio.io/v1",
            "kind": "VirtualService",
            "metadata": _meta(model, model["name"]),
            "spec": {"hosts": [route["host"] or "*"], "gateways": [route["gateway"]], "http": [istio_route(model)]},
        }
    rule = {"http": {"paths": [ingress_path(model)]}}
    if route["host"]:
        rule["host"] = route["host"]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _meta(model, model["name"], gateway_annotations(model)),
        "spec": {"ingressClassName": route["type"], "rules": [rule]},
    }


def gateway_annotations(model):
    """What makes the ingress controller ask the workspace gateway before each request (none without one).

    The gateway learns the namespace and the path prefix from its URL, the workspace from the request's path,
    and hands the workspace's access secret back in the Authorization header that replaces the caller's.
    """
    route = model.get("ingress") or {}
    if not route.get("auth_url"):
        return None
    query = urllib.parse.urlencode({"namespace": model["namespace"], "prefix": route["prefix"]})
    separator = "&" if "?" in route["auth_url"] else "?"
    return {
        f"{INGRESS_NGINX}/auth-url": f"{route['auth_url']}{separator}{query}",
        f"{INGRESS_NGINX}/auth-response-headers": "Authorization",
    }


def service_url(workspace, namespace, port):
    return f"http://{workspace}.{namespace}.svc:{port}/"


def url(model):
    """Where the IDE answers: the public URL, else the route, else the Service inside the cluster."""
    return model["public_url"] or route_url(model) or service_url(model["name"], model["namespace"], model["port"])


def route_url(model):
    route = model.get("ingress")
    if not route:
        return None
    return f"http://{route['host']}{route['path']}/" if route["host"] else f"{route['path']}/"


def routes_to(obj, workspace):
    """Whether a shared route holds an entry of this workspace."""
    if obj["kind"] == "VirtualService":
        return any(r.get("name") == workspace for r in obj["spec"].get("http") or [])
    return any(p.get("backend", {}).get("service", {}).get("name") == workspace
               for rule in obj["spec"].get("rules") or [] for p in rule.get("http", {}).get("paths", []))


def shared_route(model, kind, name, current, present):
    """The shared route with this workspace's entry added (present) or taken out; other entries untouched.

    None when no entry is left: an Ingress needs at least one path, so the last one out removes it.
    """
    route = model.get("ingress") or {}
    obj = copy.deepcopy(current) if current else {
        "apiVersion": "networking.istio.io/v1" if kind == "VirtualService" else "networking.k8s.io/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": model["namespace"],
                     "labels": {naming.LABEL_MANAGED_BY: naming.MANAGED_BY}},
        "spec": ({"hosts": [route.get("host") or "*"], "gateways": [route.get("gateway")], "http": []}
                 if kind == "VirtualService" else {"ingressClassName": route.get("type"), "rules": []}),
    }
    if kind == "VirtualService":
        routes = [r for r in obj["spec"].get("http") or [] if r.get("name") != model["name"]]
        if present:
            routes.append(istio_route(model))
        obj["spec"]["http"] = sorted(routes, key=lambda r: r.get("name", ""))
        return obj if routes else None
    for rule in obj["spec"].get("rules") or []:
        paths = rule.get("http", {}).get("paths", [])
        rule.setdefault("http", {})["paths"] = [
            p for p in paths if p.get("backend", {}).get("service", {}).get("name") != model["name"]]
    if present:
        host = route.get("host")
        rule = next((r for r in obj["spec"]["rules"] if r.get("host") == host), None)
        if rule is None:
            rule = {"host": host, "http": {"paths": []}} if host else {"http": {"paths": []}}
            obj["spec"]["rules"].append(rule)
        rule["http"]["paths"].append(ingress_path(model))
    if present:
        # the route's paths share one gateway: the last workspace written sets it, as it sets the class
        annotations = {key: value for key, value in (obj["metadata"].get("annotations") or {}).items()
                       if not key.startswith(f"{INGRESS_NGINX}/auth-")}
        annotations.update(gateway_annotations(model) or {})
        obj["metadata"]["annotations"] = annotations
        if not annotations:
            del obj["metadata"]["annotations"]
    for rule in obj["spec"]["rules"]:
        rule["http"]["paths"].sort(key=lambda p: p["path"])
    obj["spec"]["rules"] = [r for r in obj["spec"]["rules"] if r["http"]["paths"]]
    return obj if obj["spec"]["rules"] else None
