# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The env policy as stored with the engine: a plain document and a secret one.

Works with either control store (k8s_store.K8sStore, docker_store.DockerStore):
the policy without its secret values is the plain document ``env-policy``
(one JSON value under ``policy.json``), the secret values are the secret
document of the same name, one entry per secret. The two are one pair of the
store: written together, so no reader sees a policy with another run's secrets.
"""

from __future__ import annotations

import json

from ansible_collections.atelier.workspaces.plugins.module_utils.domain import env_policy

DOCUMENT = "env-policy"
POLICY_KEY = "policy.json"


def to_documents(policy):
    """A normalised policy -> (plain mapping, secret mapping)."""
    plain = {key: value for key, value in policy.items() if key != "secrets"}
    return {POLICY_KEY: json.dumps(plain, sort_keys=True, indent=1)}, dict(policy["secrets"])


def from_documents(plain, secret):
    """The stored documents -> a policy; the default policy when none is stored."""
    policy = env_policy.default_policy()
    if plain and plain.get(POLICY_KEY):
        stored = json.loads(plain[POLICY_KEY])
        policy.update({key: value for key, value in stored.items() if key in policy})
    policy["secrets"] = dict(secret or {})
    return policy


def load(store):
    """The policy every controller of this engine sees."""
    return from_documents(*store.read_pair(DOCUMENT))


def _replace(store, documents, dry_run):
    """Store the pair documents() gives -> (changed, the policy it replaced)."""
    seen = {}

    def change(stored):
        # the last call is made on what the write replaces
        seen["before"] = from_documents(*stored)
        return documents()

    changed = store.update_pair(DOCUMENT, change, dry_run=dry_run)
    return changed, seen["before"]


def save(store, policy, dry_run):
    """Store the policy -> (changed, the policy it replaced)."""
    return _replace(store, lambda: to_documents(policy), dry_run)


def remove(store, dry_run):
    """Forget the policy -> (changed, the policy it replaced)."""
    return _replace(store, lambda: (None, None), dry_run)
