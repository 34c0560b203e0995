# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The env of existing Kubernetes workspaces: read it, and give a workspace a new one.

A workspace's env lives in its Secret ``<name>-env``; the hash of it sits in the
pod template, so writing a new hash makes the StatefulSet replace the pod, which
then starts with the new env. The template annotations are written under a
field manager of their own, so the workspace module's own apply keeps full
ownership of everything else.
"""

from __future__ import annotations

import base64

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import plan as k8s_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import store
from ansible_collections.atelier.workspaces.plugins.module_utils.common import naming
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import env_policy

REFRESH_FIELD_MANAGER = "atelier.workspaces-env-policy"


def _by_name(items):
    return {(item["metadata"]["namespace"], item["metadata"]["name"]): item for item in items}


def workspace_envs(cluster, namespace=None):
    """Every workspace (in one namespace or all) with its stored env inputs, env values and config hash."""
    selector = naming.label_selector()
    statefulsets = cluster.list("StatefulSet", namespace, selector)
    secrets = _by_name(cluster.list("Secret", namespace, selector))
    found = []
    for statefulset in statefulsets:
        meta = statefulset["metadata"]
        name = meta["labels"][naming.LABEL_WORKSPACE]
        secret = secrets.get((meta["namespace"], naming.object_name(name, "env"))) or {}
        template_annotations = statefulset["spec"]["template"]["metadata"].get("annotations") or {}
        found.append({
            "backend": "kubernetes",
            "namespace": meta["namespace"],
            "name": name,
            "inputs": env_policy.decode_inputs((meta.get("annotations") or {}).get(k8s_plan.ANNOTATION_ENV_INPUTS)),
            "values": store.decoded(secret.get("data")),
            "config_hash": template_annotations.get(k8s_plan.ANNOTATION_CONFIG_HASH),
            "running": statefulset["spec"].get("replicas", 1) > 0,
            "secret_labels": (secret.get("metadata") or {}).get("labels") or naming.owned_labels(name),
        })
    return found


def refresh(cluster, workspace, entries, dry_run):
    """Write the new env and its hash; the StatefulSet then restarts a running workspace."""
    namespace, name = workspace["namespace"], workspace["name"]
    cluster.apply({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": naming.object_name(name, "env"), "namespace": namespace,
                     "labels": workspace["secret_labels"]},
        "type": "Opaque",
        "data": {e["name"]: base64.b64encode(e["value"].encode()).decode() for e in entries},
    }, dry_run)
    inputs = env_policy.with_sources(workspace["inputs"], entries)
    cluster.apply({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": namespace,
                     "annotations": {k8s_plan.ANNOTATION_ENV_INPUTS: env_policy.encode_inputs(inputs)}},
        "spec": {"template": {"metadata": {"annotations": {
            k8s_plan.ANNOTATION_CONFIG_HASH: env_policy.config_hash(entries)}}}},
    }, dry_run, manager=REFRESH_FIELD_MANAGER)
