#!/usr/bin/python
# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: workspace
short_description: Create, update, stop, start, restart and remove development workspaces
version_added: 0.1.0
description:
  - Manages one self-hosted development workspace - an isolated container with persistent storage,
    environment variables, resources and an access URL - idempotently.
  - On Docker a workspace is a container C(atelier-<name>), a named volume C(atelier-<name>-data) for its data
    (or a sub-directory of one shared host directory) and the user-defined network C(atelier-workspaces).
    Every object carries the labels C(app.kubernetes.io/managed-by=atelier.workspaces) and
    C(workspaces.atelier.dev/name=<name>) and is found by them.
  - Settings the engine can change on a running container (CPU and memory limits) are updated in place;
    any other change replaces the container on the same data. A change of the environment therefore restarts
    the workspace deliberately, and the result says so in RV(actions).
  - Data is only deleted when O(state=absent) is combined with O(purge=true).
  - "For a workspace that exists, an option the task leaves out keeps the workspace's current value, an option
    the task gives replaces that whole option (an O(env) of C(B) after one of C(A) leaves only C(B)), and an empty
    value (V({}), V([]) or V(\"\")) returns the option to its default. So O(state=stopped) with only O(name) stops
    the workspace as it is, and a task that names one option changes only that one. On creation an omitted
    option takes its default. The configuration is recorded with the workspace (a label on Docker, an
    annotation of the StatefulSet on Kubernetes; secret values are never recorded, a workspace's own secret
    values are read back from its env), and M(atelier.workspaces.workspace_info) returns it in these option names."
  - On Kubernetes a workspace is a StatefulSet with one replica when running and none when stopped (stable
    pod C(<name>-0)), a Service, a Secret C(<name>-env) with its environment (read with C(envFrom); its hash in the
    pod template restarts the workspace deliberately when it changes) and a PersistentVolumeClaim C(<name>-data)
    that is kept when the workspace is removed. Objects are sent by server-side apply, only when they differ;
    check mode uses the API server's dry run.
author:
  - atelier.workspaces maintainers (@atelier-workspaces)
extends_documentation_fragment:
  - atelier.workspaces.docker_connection
  - atelier.workspaces.kubernetes_connection
  - atelier.workspaces.control_store
attributes:
  check_mode:
    support: full
    description: Predicts whether the task changes anything, and RV(actions), and changes nothing.
  diff_mode:
    support: full
    description: Shows the workspace's settings before and after, with secret values redacted.
options:
  name:
    description:
      - Name of the workspace; lower-case letters, digits and C(-), starting with a letter, at most 52 characters.
      - Required unless O(workspaces) is given.
    type: str
  workspaces:
    description:
      - Several workspaces in one task, reconciled over one engine connection, so a large fleet does not cost
        one module start-up per workspace.
      - Each entry takes the options of this module except O(backend) and the connection options, and needs a
        C(name). Options set on the task are the defaults of every entry; an entry's own value wins (a dict option
        such as O(resources) is replaced whole).
      - Every entry is checked before any is applied. The result lists them in RV(workspaces).
    type: list
    elements: dict
  namespace:
    description: Kubernetes namespace of the workspace; created when missing.
    type: str
    default: workspaces
  accelerator_label:
    description: Node label that O(resources.accelerator) selects on (Kubernetes).
    type: str
    default: nvidia.com/gpu.product
  state:
    description:
      - V(present) makes sure the workspace exists; a new one is started, an existing stopped one stays stopped.
      - V(running) and V(stopped) also set whether it runs. V(restarted) always restarts it.
      - V(absent) removes the container and keeps the data unless O(purge=true).
      - V(archived) stops the workspace and marks it archived; its data and roles stay. An archived workspace is
        left out of M(atelier.workspaces.workspace_info) lists unless asked for, and V(running) or V(restarted)
        are refused until V(unarchived) brings it back, stopped. On Docker the mark is a label, so archiving and
        unarchiving replace the stopped container on the same data.
    type: str
    default: present
    choices: [present, running, stopped, restarted, absent, archived, unarchived]
  backend:
    description: The engine that runs the workspace.
    type: str
    default: kubernetes
    choices: [kubernetes, docker]
  image:
    description:
      - Container image of the workspace. Defaults to C(container_config.image), then to C(atelier/workspace:local).
    type: str
  command:
    description: Command that replaces the image's default command.
    type: list
    elements: str
  user:
    description:
      - User (and optionally C(:group)) the workspace runs as.
      - C(1000) (non-root) when a new workspace leaves it out.
      - The group is C(0) unless given (on Kubernetes always C(0), and a name runs as C(1000)); a name must be in
        the image's C(/etc/passwd).
    type: str
  env:
    description: Environment variables of the workspace. They win over every other source.
    type: dict
  secrets:
    description:
      - Secret values exposed as environment variables. Values are never returned or shown in diffs.
    type: list
    elements: dict
    suboptions:
      key:
        description: Name of the secret.
        type: str
      env_var:
        description: Environment variable that receives the value; defaults to O(secrets[].key).
        type: str
      value:
        description: The secret value owned by this workspace.
        type: str
  resources:
    description: CPU, memory and GPUs, in the Kubernetes notation on both backends; no limits when left out on creation.
    type: dict
    suboptions:
      cpu:
        description: CPU limit, for example V(2), V(0.5) or V(500m).
        type: str
      memory:
        description: Memory limit, for example V(512Mi) or V(4Gi).
        type: str
      gpu:
        description: Number of GPUs (Docker device requests).
        type: int
      accelerator:
        description: GPU model, used for scheduling on Kubernetes.
        type: str
  storage:
    description:
      - Where the workspace keeps its data. By default each workspace has its own claim (Kubernetes) or named
        volume (Docker); O(storage.shared_claim) or O(storage.shared_path) put it in a sub-directory of one
        shared location instead.
    type: dict
    suboptions:
      size:
        description:
          - Size of the workspace's own claim (Kubernetes).
          - V(10Gi) when left out.
        type: str
      class:
        description: Storage class of the workspace's own claim; the cluster's default class when left out.
        type: str
      shared_claim:
        description:
          - An existing claim shared by workspaces (Kubernetes); this workspace mounts its sub-path
            O(storage.subpath_prefix)/O(name). It wins over O(storage.class), with a warning.
        type: str
      shared_path:
        description:
          - A host directory shared by workspaces (Docker); this workspace uses its sub-directory
            O(storage.subpath_prefix)/O(name).
          - It need not be listed in C(WORKSPACE_ALLOWED_HOST_PATHS), but neither it nor the sub-directory may be one
            of the host directories O(container_config) volumes never mount (the host's root, C(/etc), C(/proc), ...),
            nor have a C(..) component.
        type: path
      subpath_prefix:
        description:
          - Prefix of each workspace's sub-directory under O(storage.shared_path).
          - V(workspaces) when left out.
        type: str
  user_code_path:
    description:
      - Directory in the container that holds the data; exported as E(USER_CODE_PATH).
      - C(/home/workspace/code) when a new workspace leaves it out.
      - The image need not have it. On Docker a new or empty data volume is given to O(user) (group C(0) unless
        O(user) names one) when the engine left it to another owner, before the container first starts; a volume
        that holds data is never changed. On Kubernetes the claim's storage decides who may write it (the pod
        has C(fsGroup) C(0)).
    type: str
  port:
    description:
      - Port of the IDE inside the container; C(8888) when a new workspace leaves it out.
      - On Kubernetes the pod is Ready, and the workspace C(Running), only once something accepts
        connections on this port (a readiness probe), so a custom image must serve its IDE there.
    type: int
  publish:
    description: How the IDE port is published on the Docker host.
    type: dict
    suboptions:
      bind_address:
        description:
          - Host address to publish on; the default keeps the workspace local to the host.
          - V(127.0.0.1) when left out.
        type: str
      host_port:
        description: Host port; a free one is chosen when left out.
        type: int
  public_url:
    description: URL users open, when a proxy in front publishes the workspace; returned as RV(workspace.url).
    type: str
  auth:
    description:
      - How the IDE authenticates who opens it.
      - V(token) gives the workspace its own access secret, drawn once when the workspace is made and kept with the
        engine (on Kubernetes in the Secret C(<name>-env)), so later runs keep it. The container gets it as
        E(WORKSPACE_ACCESS_TOKEN); the default image's JupyterLab refuses requests without it. A custom image must
        check it too. The secret never appears in output, diffs or logs;
        M(atelier.workspaces.workspace_info) returns it with
        O(atelier.workspaces.workspace_info#module:show_access=true).
      - V(none) runs the IDE without a secret, for users who put an authenticating proxy of their own in front. The
        module warns when such an IDE is reachable beyond the host (a non-loopback O(publish.bind_address), or an
        ingress path).
      - For a new workspace the default is V(token); an existing one keeps its own.
    type: str
    choices: [token, none]
  ingress:
    description:
      - How users reach the workspace from outside the cluster (Kubernetes). Without it the workspace is reachable
        through its Service only.
      - Each workspace gets the path O(ingress.path_prefix)/O(name), in an Ingress (or Istio VirtualService) of its
        own, or in the shared one named O(ingress.name). Changes to a shared route are read-modify-write guarded by
        C(resourceVersion) and retried, so workspaces created at the same time do not lose each other's paths;
        removing a workspace takes out only its own path, and the last one out removes the shared route.
    type: dict
    suboptions:
      type:
        description:
          - V(nginx) and V(alb) write an Ingress with that class; V(istio) writes a VirtualService.
          - V(nginx) when left out.
        type: str
        choices: [nginx, alb, istio]
      name:
        description: Name of a shared Ingress or VirtualService (the seed's C(WORKSPACE_INGRESS_NAME)).
        type: str
      host:
        description: Host name of the route; any host when left out.
        type: str
      path_prefix:
        description:
          - Prefix of the workspace's path.
          - V(/) when left out.
        type: str
      path_type:
        description:
          - Ingress path type.
          - V(ImplementationSpecific) when left out.
        type: str
        choices: [ImplementationSpecific, Prefix]
      gateway:
        description:
          - Istio gateway of the VirtualService.
          - V(istio-system/ingressgateway) when left out.
        type: str
      auth_url:
        description:
          - Forward-auth URL an nginx-class ingress controller asks before each request to the workspace's
            route (the C(nginx.ingress.kubernetes.io/auth-url) annotation, with C(auth-response-headers)
            C(Authorization)). The workspace's namespace and path prefix are added as query parameters.
          - The cluster setting C(WORKSPACE_AUTH_URL), which the P(atelier.workspaces.k8s_cluster#role) role writes
            when it installs the workspace gateway, when left out.
        type: str
  labels:
    description: Extra labels for the workspace's container.
    type: dict
  container_config:
    description:
      - The container configuration in the Mage Pro form, a YAML string or a dict.
      - For Docker the keys C(image), C(volumes) (C(source:/target[:ro]) strings), C(environment) and
        C(public_url) are read; any other key is an error. Module options win over it.
      - A C(volumes) source is a named volume (C(cache:/cache)) or an absolute host path. A host path is mounted
        only under a directory of the cluster setting C(WORKSPACE_ALLOWED_HOST_PATHS) (see
        M(atelier.workspaces.workspace_cluster_settings)); with none set, no host directory is. The host's root,
        C(/etc), C(/proc), C(/sys), C(/dev), C(/run), C(/var/run), C(/var/lib/docker), C(/var/lib/containerd),
        C(/var/lib/kubelet), C(/root), C(/boot), a directory holding one of them, every C(*.sock) and a path with a
        C(..) component are refused whatever it lists. Paths are judged as written; the engine resolves symbolic
        links on its host when it mounts them.
      - On Kubernetes any other key is a field of the workspace container (C(env), C(resources), C(volumeMounts),
        C(securityContext), probes, ...) except C(name). It is merged into the container the other options
        describe - mappings key by key, the lists C(env), C(ports), C(volumeMounts), C(volumeDevices) and
        C(resizePolicy) item by item (by name, container port, mount path, device path, resource name),
        C(envFrom) added to - and where both set a value, the one given here wins. Resource quantities are
        written in the API server's canonical form, so a re-run finds nothing to change.
      - The settings returned by the O(lifecycle_config.pre_start.script_path) script are merged over it the
        same way.
    type: raw
  purge:
    description: With O(state=absent), also delete the workspace's data volume.
    type: bool
    default: false
  wait:
    description: Wait until the workspace runs.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for O(wait).
    type: int
    default: 120
  node_selector:
    description: Pod C(nodeSelector) (Kubernetes only; an error with O(backend=docker)).
    type: dict
  affinity:
    description: Pod C(affinity) (Kubernetes only; an error with O(backend=docker)).
    type: dict
  tolerations:
    description: Pod C(tolerations); each needs a C(key), or C(operator=Exists) (Kubernetes only).
    type: list
    elements: dict
  runtime_class_name:
    description: Pod C(runtimeClassName), for example a sysbox or kata class (Kubernetes only).
    type: str
  host_users:
    description: Pod C(hostUsers); V(false) runs the workspace in a user namespace (Kubernetes only).
    type: bool
  image_pull_secrets:
    description: Names of Secrets for pulling the image (Kubernetes only).
    type: list
    elements: str
  service_account_token:
    description:
      - Each workspace runs as its own ServiceAccount C(<name>), which has no Kubernetes permissions of its own and
        C(automountServiceAccountToken=false). V(true) mounts its token into the workspace, for a workspace that
        is given permissions to call the API server; without it no token is mounted (Kubernetes only).
    type: bool
  lifecycle_config:
    description:
      - What happens around the workspace's start, and its idle policy. Also accepted as a YAML string, the
        seed's form; the action plugin parses it.
    type: dict
    suboptions:
      termination_policy:
        description:
          - The idle policy, stored with the workspace for a reaper to act on (annotations
            C(workspaces.atelier.dev/auto-termination) and C(workspaces.atelier.dev/max-idle-seconds) on the
            StatefulSet, labels of the same names on the Docker container). This module only stores it.
          - On Docker labels cannot change on a container, so changing the policy replaces the container on the
            same data.
        type: dict
        suboptions:
          enable_auto_termination:
            description:
              - Whether the workspace may be stopped when idle.
              - V(false) when left out.
            type: bool
          max_idle_seconds:
            description: Idle seconds allowed before it is stopped, 0 or more; required when
              O(lifecycle_config.termination_policy.enable_auto_termination=true).
            type: int
      pre_start:
        description: A Python script that computes container settings before the workspace is applied.
        type: dict
        suboptions:
          script_path:
            description:
              - Path of the script on the controller, found like the C(src) of M(ansible.builtin.template) - in the
                role's or playbook's C(files/) directory, then relative to it; an absolute path is used as it is.
              - It runs on the controller (also in check mode), loaded as a module of its own, and must define
                C(get_custom_configs(context)). C(context) is a dict with C(name), C(namespace), C(backend),
                C(image), C(user), C(user_code_path), C(labels), C(env_names) (names only, no values) and
                C(container_config) (the parsed O(container_config)).
              - It returns a dict in the form of O(container_config), merged over it; on Docker only C(image),
                C(volumes), C(environment) and C(public_url).
              - A script that is missing, fails to load, lacks the function, raises or returns anything but a dict
                fails the task, naming the script, before anything is applied.
            type: str
      post_start:
        description:
          - Runs in the workspace after it starts; O(lifecycle_config.post_start.command) first, then the hook
            script, which runs only if the command succeeded.
          - On Kubernetes it is the container's C(lifecycle.postStart) exec and runs at every start of the pod;
            the hook's text is kept in the ConfigMap C(<name>-hooks), mounted at C(/opt/atelier/hooks), and its hash
            in the pod template restarts the workspace when it changes.
          - On Docker it runs after the module (re)started the container, not on a re-run that starts nothing;
            its exit status and output are returned in RV(post_start). A non-zero exit status fails the task and
            removes the container (the data stays), as Kubernetes would not keep it running, so the next run
            retries. A changed command or hook replaces the container on the same data.
        type: dict
        suboptions:
          command:
            description: A shell command (a string), or a program and its arguments (a list).
            type: raw
          hook_path:
            description:
              - A script on the controller, found like O(lifecycle_config.pre_start.script_path), at most 256 KiB.
                It runs as the workspace user; without a C(#!) line it is read by C(/bin/sh).
            type: str
  on_startup:
    description:
      - Shell commands run in order, each in its own shell, in the data directory, as the workspace user, after
        O(git) is cloned; the first that fails stops the others and fails the start.
      - They run once for the workspace's data, not at every start; a marker file
        C(.atelier/startup-done) in the data directory records that they succeeded. Changing O(on_startup) or O(git)
        restarts the workspace, on the same data, and runs them again.
      - On Kubernetes they run in the init container C(startup) (same image, data mount and security context as
        the workspace), before the IDE starts.
      - On Docker they run in the container after the module (re)started it, within O(wait_timeout), and their
        output is returned in RV(on_startup). A failure fails the task and removes the container (the data stays),
        so the next run retries.
    type: list
    elements: str
  git:
    description:
      - A Git repository cloned into the data directory, into a sub-directory named after the repository (as
        C(git clone) names it), unless that directory is a clone already. Runs with O(on_startup) and before it.
      - The image needs a C(git) command. The URL is part of the pod spec (Kubernetes); keep credentials out of it.
    type: dict
    suboptions:
      repo:
        description: URL (or path) of the repository, as C(git clone) takes it.
        type: str
        required: true
      ref:
        description: Branch, tag or commit to check out; the repository's default branch when left out.
        type: str
  _pre_start_config:
    description:
      - Internal, set by the action plugin to what the O(lifecycle_config.pre_start.script_path) script returned.
        Setting it in a task is an error.
    type: dict
  _post_start_hook:
    description:
      - Internal, set by the action plugin to the text of O(lifecycle_config.post_start.hook_path). Setting it in a
        task is an error.
    type: str
"""

EXAMPLES = r"""
- name: A workspace on the local Docker engine
  atelier.workspaces.workspace:
    name: alice-dev
    backend: docker
    resources:
      cpu: "2"
      memory: 4Gi
    env:
      PROJECT: analytics
    secrets:
      - key: github_token
        env_var: GITHUB_TOKEN
        value: "{{ vault_github_token }}"
  register: alice

- name: Show where to open it
  ansible.builtin.debug:
    msg: "{{ alice.workspace.url }}"

- name: Stop it for the night; the data stays
  atelier.workspaces.workspace:
    name: alice-dev
    backend: docker
    state: stopped

- name: Remove it, data included
  atelier.workspaces.workspace:
    name: alice-dev
    backend: docker
    state: absent
    purge: true

- name: A Kubernetes workspace with a cloned project, first-start commands, hooks and an idle policy
  atelier.workspaces.workspace:
    name: bob-dev
    namespace: workspaces
    git:
      repo: https://git.example.test/analytics/pipelines.git
      ref: main
    on_startup:
      - pip install --user -r pipelines/requirements.txt
    lifecycle_config:
      termination_policy:
        enable_auto_termination: true
        max_idle_seconds: 3600
      # files/pre_start.py defines get_custom_configs(context) and returns, for example,
      # {"resources": {"limits": {"memory": "8Gi"}}, "env": [{"name": "TEAM", "value": "data"}]}
      pre_start:
        script_path: pre_start.py
      post_start:
        command: [jupyter, lab, build]
        hook_path: post_start.sh
"""

RETURN = r"""
actions:
  description: What was done (or, in check mode, would be done), in order.
  returned: when O(workspaces) is not given
  type: list
  elements: str
  sample: [create volume, create container, start]
workspaces:
  description: With O(workspaces), one result per entry, in order, each with C(name), C(changed), C(actions),
    C(workspace) and C(env) as described here for a single workspace.
  returned: when O(workspaces) is given
  type: list
  elements: dict
workspace:
  description: The workspace as the engine reports it after the task; null when it does not exist.
  returned: when O(workspaces) is not given
  type: dict
  contains:
    name:
      description: Workspace name.
      type: str
    status:
      description: One of Running, Starting, Stopped, Failed.
      type: str
    url:
      description: Where users open the workspace.
      type: str
    container:
      description: Container name.
      type: str
    storage:
      description: The data mount (type, source, path).
      type: dict
    resources:
      description: Limits in force (cpu_millis, memory_bytes).
      type: dict
    config_hash:
      description: Hash of the effective environment; a new value means the workspace was restarted for it.
      type: str
env:
  description: The effective environment with the source of every value; secret values are redacted.
  returned: when O(workspaces) is not given
  type: list
  elements: dict
  sample: [{name: USER_CODE_PATH, value: /home/workspace/code, source: system, secret: false}]
post_start:
  description: Exit status and output of O(lifecycle_config.post_start) (Docker), each stream cut to its last 64 KiB.
  returned: when the task started a Docker workspace that has a post-start command or hook
  type: dict
  contains:
    rc:
      description: Exit status.
      type: int
    stdout:
      description: Standard output.
      type: str
    stderr:
      description: Standard error.
      type: str
  sample: {rc: 0, stdout: "hook ran\n", stderr: ""}
on_startup:
  description: Exit status and output of the O(git) clone and O(on_startup) commands (Docker), like RV(post_start).
  returned: when they ran on a Docker workspace in this task
  type: dict
  sample: {rc: 0, stdout: "", stderr: ""}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.atelier.workspaces.plugins.module_utils.args import workspace as workspace_args
from ansible_collections.atelier.workspaces.plugins.module_utils.tasks import workspace as workspace_task


def main():
    module = AnsibleModule(argument_spec=workspace_args.argument_spec(), supports_check_mode=True,
                           **workspace_args.MODULE_RULES)
    workspace_task.run(module)


if __name__ == "__main__":
    main()
