#!/usr/bin/python
# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: workspace_env_policy
short_description: Cluster-level environment inheritance and shared secrets for development workspaces
version_added: 0.1.0
description:
  - Stores the cluster's env policy with the engine, so every controller that manages the engine applies the
    same one - on Kubernetes a ConfigMap and a Secret named C(atelier-env-policy) in O(control_namespace), on
    Docker two documents in the control volume on the engine's host (the secret one readable by root only).
  - M(atelier.workspaces.workspace) reads the policy on every run and computes each workspace's effective env
    from it. Highest precedence first - the workspace's explicit env, its secret references, C(ENV) from
    O(workspace_env_pattern), variables inherited by the env rule matching C(ENV), variables inherited by the
    O(user_defined_vars) allow-list, then C(USER_CODE_PATH).
  - The task describes the whole policy; a field left out takes its default. O(seed_vars) takes the same policy
    as cluster environment variables (C(INHERIT_ENV_VARS), C(USER_DEFINED_VARS), C(WORKSPACE_ENV_PATTERN),
    C(USER_DEFINED_VARS__ENV__<env>), C(SHARE_SECRETS_ACROSS_WORKSPACES), C(INHERIT_POD_ANNOTATIONS); every
    other name is a cluster variable). Both forms may be combined; a setting given differently in both is an
    error.
  - Running workspaces keep their env until restarted. The module reports the workspaces whose env is now
    stale, and with O(apply_to_existing=restart) restarts exactly those with their new env.
author:
  - atelier.workspaces maintainers (@atelier-workspaces)
extends_documentation_fragment:
  - atelier.workspaces.docker_connection
  - atelier.workspaces.kubernetes_connection
  - atelier.workspaces.control_store
attributes:
  check_mode:
    support: full
    description: Reports whether the policy would change and which workspaces would restart; writes nothing.
  diff_mode:
    support: full
    description: The stored policy before and after; secret values are shown as C(********).
options:
  state:
    description:
      - V(present) stores the policy described by the task.
      - V(absent) removes it; workspaces then inherit nothing (after a restart).
    type: str
    default: present
    choices: [present, absent]
  backend:
    description: The engine whose policy this is.
    type: str
    default: kubernetes
    choices: [kubernetes, docker]
  namespace:
    description: Kubernetes namespace whose workspaces are checked for a stale env; every namespace when left out.
    type: str
  workspace_names:
    description:
      - Names of the workspaces whose env is checked (and restarted with O(apply_to_existing=restart)), as names or
        wildcards such as C(team-a-*); every workspace (of O(namespace)) when left out.
      - The policy itself is the engine's in any case; this only keeps the report and the restarts to the
        workspaces a task is about, for example on a Docker host other people's workspaces share.
    type: list
    elements: str
  apply_to_existing:
    description:
      - V(none) leaves existing workspaces as they are and reports the stale ones.
      - V(restart) gives each stale workspace its new env - on Kubernetes the Secret and the pod template's config
        hash, so the pod is replaced; on Docker a new container on the same data. A stopped workspace stays
        stopped and starts with the new env.
    type: str
    default: none
    choices: [none, restart]
  seed_vars:
    description: The policy in the form of cluster environment variables (see the description).
    type: dict
  variables:
    description: Cluster variables that workspaces may inherit, C(NAME) to value.
    type: dict
  secrets:
    description:
      - Cluster secrets, C(NAME) to value. Workspaces reference them with C(secrets) entries when
        O(share_secrets_across_workspaces=true). Values are never logged or returned.
    type: dict
  inherit:
    description: Whether workspaces inherit cluster variables at all (C(INHERIT_ENV_VARS)).
    type: bool
  user_defined_vars:
    description:
      - The variables workspaces inherit (C(USER_DEFINED_VARS)) - names, wildcards such as C(DEV_*), or
        C(re:<regular expression>) matched against the whole name. Without it only env rules inherit.
    type: list
    elements: str
  workspace_env_pattern:
    description:
      - Sets C(ENV) in every workspace that does not set it itself (C(WORKSPACE_ENV_PATTERN)); C({workspace_name})
        is replaced by the workspace's name.
    type: str
  env_rules:
    description:
      - C(ENV) value (or wildcard) to the variable patterns a workspace with that C(ENV) inherits, for example
        C(dev_*) to C([DEV_ENV_*]) (C(USER_DEFINED_VARS__ENV__<env>)).
    type: dict
  share_secrets_across_workspaces:
    description: Whether workspaces may reference the cluster's secrets (C(SHARE_SECRETS_ACROSS_WORKSPACES)).
    type: bool
  inherit_pod_annotations:
    description: Whether workspace pods inherit the cluster's pod annotations (C(INHERIT_POD_ANNOTATIONS)).
    type: bool
"""

EXAMPLES = r"""
- name: Dev workspaces get ENV=dev_<name> and the DEV_ENV_* variables
  atelier.workspaces.workspace_env_policy:
    inherit: true
    user_defined_vars: [TEAM]
    workspace_env_pattern: "dev_{workspace_name}"
    env_rules:
      "dev_*": ["DEV_ENV_*"]
    variables:
      TEAM: data
      DEV_ENV_DB_HOST: db.dev.internal
    secrets:
      WAREHOUSE_TOKEN: "{{ vault_warehouse_token }}"
    share_secrets_across_workspaces: true

- name: The same, pasted from a cluster's environment variables, and restart what is now stale
  atelier.workspaces.workspace_env_policy:
    seed_vars:
      INHERIT_ENV_VARS: "1"
      USER_DEFINED_VARS: "TEAM"
      WORKSPACE_ENV_PATTERN: "dev_{workspace_name}"
      USER_DEFINED_VARS__ENV__dev_*: "DEV_ENV_*"
      TEAM: data
      DEV_ENV_DB_HOST: db.dev.internal
    apply_to_existing: restart

- name: Restart only the workspaces of team A that the policy made stale
  atelier.workspaces.workspace_env_policy:
    variables:
      TEAM: data
    inherit: true
    user_defined_vars: [TEAM]
    workspace_names: ["team-a-*"]
    apply_to_existing: restart

- name: A policy for the workspaces of a Docker host
  atelier.workspaces.workspace_env_policy:
    backend: docker
    inherit: true
    user_defined_vars: ["PIP_*"]
    variables:
      PIP_INDEX_URL: https://pypi.internal/simple
"""

RETURN = r"""
policy:
  description: The policy now in force, with secret values shown as C(********).
  returned: always
  type: dict
stale:
  description:
    - Workspaces whose env differs from what the policy gives them, and were not restarted by this task.
    - Each has C(name), C(namespace), C(backend), C(running) and either C(changes) (C(added), C(changed),
      C(removed) variable names) or C(errors) when the policy cannot serve the workspace.
  returned: always
  type: list
  elements: dict
restarted:
  description: Workspaces given their new env by O(apply_to_existing=restart).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.atelier.workspaces.plugins.module_utils.args import env_policy as env_policy_args
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import env_policy as env_policy_task


def main():
    module = AnsibleModule(argument_spec=env_policy_args.argument_spec(), supports_check_mode=True)
    env_policy_task.run(module)


if __name__ == "__main__":
    main()
