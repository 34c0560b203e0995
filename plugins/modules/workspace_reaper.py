#!/usr/bin/python
# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: workspace_reaper
short_description: Stop development workspaces that have been idle longer than their policy allows
version_added: 0.1.0
description:
  - Looks at every running workspace whose C(lifecycle_config.termination_policy) enables auto termination and
    stops the ones idle for more than C(max_idle_seconds). Data is never touched; a stopped workspace starts again
    with M(atelier.workspaces.workspace) and O(atelier.workspaces.workspace#module:state=running).
  - A workspace is idle since the later of its start and its last activity. The activity signal is, on
    Kubernetes, the StatefulSet annotation C(workspaces.atelier.dev/last-activity) (an RFC 3339 time), and on
    Docker the modification time of C(.atelier/last-activity) in the workspace's data directory. Whatever fronts
    the IDE updates it; without it, the start time counts.
  - Every stop says why, in the result and with the workspace - on Kubernetes the StatefulSet annotation
    C(workspaces.atelier.dev/stopped-reason), on Docker the control store document C(idle-stops) - and
    M(atelier.workspaces.workspace_info) shows it. Run it on a schedule, for example from cron or a
    Kubernetes CronJob with C(playbooks/reap_idle.yml).
author:
  - atelier.workspaces maintainers (@atelier-workspaces)
extends_documentation_fragment:
  - atelier.workspaces.docker_connection
  - atelier.workspaces.kubernetes_connection
  - atelier.workspaces.control_store
attributes:
  check_mode:
    support: full
    description: Reports which workspaces would be stopped and why; stops none.
  diff_mode:
    support: none
    description: The result lists each decision instead.
options:
  name:
    description: Only this workspace; every workspace when left out.
    type: str
  backend:
    description: The engine whose workspaces are looked at.
    type: str
    default: kubernetes
    choices: [kubernetes, docker]
  namespace:
    description: Kubernetes namespace to look in; every namespace when left out.
    type: str
"""

EXAMPLES = r"""
- name: Stop idle workspaces on the cluster
  atelier.workspaces.workspace_reaper:
    namespace: workspaces
  register: reaped

- name: Say which ones and why
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.reason }}"
  loop: "{{ reaped.stopped }}"
"""

RETURN = r"""
stopped:
  description: Workspaces stopped (or, in check mode, that would be), each with C(name), C(namespace),
    C(idle_seconds), C(max_idle_seconds) and C(reason).
  returned: always
  type: list
  elements: dict
kept:
  description: The other workspaces, with the same fields; C(reason) says why each was kept.
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.atelier.workspaces.plugins.module_utils.args import reaper as reaper_args
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import reaper as reaper_task


def main():
    module = AnsibleModule(argument_spec=reaper_args.argument_spec(), supports_check_mode=True)
    reaper_task.run(module)


if __name__ == "__main__":
    main()
