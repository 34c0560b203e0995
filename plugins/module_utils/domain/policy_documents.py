# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The env policy as stored with the engine: a plain document and a secret one.

Works with either control store (k8s_store.K8sStore, docker_store.DockerStore):
the policy without its secret values is the plain document ``env-policy``
(one JSON value under ``policy.json``), the secret values are the secret
document of the same name, one entry per secret.
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
    plain = store.read(DOCUMENT)
    # without a plain document there is no policy; its secret document would be a leftover
    return from_documents(plain, store.read(DOCUMENT, secret=True) if plain else None)


def save(store, policy, dry_run):
    """Store the policy; True when it differed from what was stored."""
    plain, secret = to_documents(policy)
    # secrets first: a reader never sees a policy whose secrets are not there yet
    changed = store.write(DOCUMENT, secret, secret=True, dry_run=dry_run)
    return store.write(DOCUMENT, plain, dry_run=dry_run) or changed


def remove(store, dry_run):
    """Forget the policy; True when there was one."""
    changed = store.remove(DOCUMENT, secret=True, dry_run=dry_run)
    return store.remove(DOCUMENT, dry_run=dry_run) or changed
