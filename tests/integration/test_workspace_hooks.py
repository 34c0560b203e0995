"""Lifecycle hooks, startup commands and git clone of the workspace module, on both real engines.

On Kubernetes nothing runs inside the pods (kwok nodes), so the hooks are checked
in the pod spec the API server holds; on Docker they really run.
"""

import json
import os
import shutil
import subprocess
import time
import uuid

import pytest
from ansible_runner import REPO_ROOT, VENV_BIN, audit_writes, run_module
from docker_workspaces import allowed_host_paths
from docker_workspaces import container as _container
from docker_workspaces import exec_as_user as _exec
from test_workspace_docker import _writes_since
from test_workspace_kubernetes import _namespace_exists, _pod

kubernetes = pytest.importorskip("kubernetes")
from kubernetes.client import AppsV1Api, CoreV1Api, NodeV1Api  # noqa: E402

MODULE = "atelier.workspaces.workspace"
LABEL = "workspaces.atelier.dev/name"
HOOK = "echo hook-out\nid -u >> /data/post-start.log\n"  # no '#!' line: sh reads it
PRE_START = """
import json, os

def get_custom_configs(context):
    with open(os.path.join(os.path.dirname(__file__), "context.json"), "w") as seen:
        json.dump(context, seen)
    return {RESULT}
"""


def _write(folder, name, text):
    path = folder / name
    path.write_text(text)
    return str(path)


def _pre_start(folder, result, name="pre.py"):
    return _write(folder, name, PRE_START.replace("{RESULT}", repr(result)))


# --- Kubernetes -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hooks_namespace(k8s_api):
    name = f"hooks-tests-{uuid.uuid4().hex[:6]}"
    yield name
    if _namespace_exists(k8s_api, name):
        CoreV1Api(k8s_api).delete_namespace(name)


@pytest.fixture()
def k8s_args(kubeconfig, hooks_namespace):
    return {
        "name": f"hook-{uuid.uuid4().hex[:6]}",
        "backend": "kubernetes",
        "namespace": hooks_namespace,
        "kubeconfig": kubeconfig,
        "image": "atelier/busybox:local",
        "command": ["sleep", "infinity"],
        "storage": {"size": "1Gi"},
        "wait_timeout": 60,
    }


def _k8s_converge_twice(arguments):
    first = run_module(MODULE, arguments)
    writes = audit_writes(arguments["namespace"])
    second = run_module(MODULE, arguments)
    assert second["changed"] is False, second["actions"]
    assert audit_writes(arguments["namespace"]) == writes, "the unchanged re-run sent write requests"
    return first


def _statefulset(k8s_api, args):
    return AppsV1Api(k8s_api).read_namespaced_stateful_set(args["name"], args["namespace"])


def _owned(k8s_api, args):
    """Kinds of the workspace's objects the API server holds."""
    if not _namespace_exists(k8s_api, args["namespace"]):
        return []
    core, selector = CoreV1Api(k8s_api), f"{LABEL}={args['name']}"
    lists = {
        "StatefulSet": AppsV1Api(k8s_api).list_namespaced_stateful_set,
        "Secret": core.list_namespaced_secret,
        "ConfigMap": core.list_namespaced_config_map,
        "ServiceAccount": core.list_namespaced_service_account,
        "Service": core.list_namespaced_service,
        "PersistentVolumeClaim": core.list_namespaced_persistent_volume_claim,
    }
    return sorted(kind for kind, read in lists.items() if read(args["namespace"], label_selector=selector).items)


def _wait_for_new_pod(core, args, old_uid):
    deadline = time.monotonic() + 60
    while (pod := _pod(core, args["namespace"], f"{args['name']}-0")) is None or pod.metadata.uid == old_uid:
        assert time.monotonic() < deadline, "the workspace pod was not replaced"
        time.sleep(0.5)
    return pod


def test_k8s_pod_spec_holds_startup_hooks_policy_and_security(k8s_api, k8s_args, tmp_path):
    args = {
        **k8s_args,
        "git": {"repo": "https://git.example.test/team/project.git", "ref": "main"},
        "on_startup": ["pip install --user -e project", "echo ready > .ready"],
        "lifecycle_config": {
            "termination_policy": {"enable_auto_termination": True, "max_idle_seconds": 1800},
            "post_start": {"command": ["touch", "/tmp/started"], "hook_path": _write(tmp_path, "hook.sh", HOOK)},
        },
    }
    name = args["name"]
    first = _k8s_converge_twice(args)
    assert f"create ServiceAccount/{name}" in first["actions"]
    assert f"create ConfigMap/{name}-hooks" in first["actions"]

    statefulset = _statefulset(k8s_api, args)
    assert statefulset.metadata.annotations["workspaces.atelier.dev/auto-termination"] == "true"
    assert statefulset.metadata.annotations["workspaces.atelier.dev/max-idle-seconds"] == "1800"
    core = CoreV1Api(k8s_api)
    pod = _pod(core, args["namespace"], f"{name}-0").spec
    (init,) = pod.init_containers
    main = pod.containers[0]
    assert (init.name, init.image) == ("startup", main.image)
    assert init.volume_mounts == [mount for mount in main.volume_mounts if mount.name == "data"]
    assert init.security_context == main.security_context
    script = init.command[2]
    assert "git clone --quiet -- https://git.example.test/team/project.git project" in script
    assert "checkout --quiet main --" in script
    assert script.index("git clone") < script.index("pip install --user -e project") < script.index("echo ready")
    assert main.lifecycle.post_start._exec.command == [
        "/bin/sh", "-c", "touch /tmp/started && /opt/atelier/hooks/post-start"]
    hooks = next(volume for volume in pod.volumes if volume.name == "hooks")
    assert (hooks.config_map.name, hooks.config_map.default_mode) == (f"{name}-hooks", 0o555)
    assert core.read_namespaced_config_map(f"{name}-hooks", args["namespace"]).data == {"post-start": HOOK}

    assert pod.service_account_name == name
    assert pod.automount_service_account_token is False
    assert core.read_namespaced_service_account(name, args["namespace"]).automount_service_account_token is False
    assert main.security_context.run_as_non_root is True
    assert main.security_context.allow_privilege_escalation is False
    assert main.security_context.capabilities.drop == ["ALL"]
    assert pod.security_context.seccomp_profile.type == "RuntimeDefault"


def test_k8s_hook_change_restarts_and_removal_prunes_its_objects(k8s_api, k8s_args, tmp_path):
    core = CoreV1Api(k8s_api)
    policy = {"enable_auto_termination": False, "max_idle_seconds": 600}
    hooked = {**k8s_args, "lifecycle_config": {
        "termination_policy": policy, "post_start": {"hook_path": _write(tmp_path, "hook.sh", HOOK)}}}
    name = hooked["name"]
    run_module(MODULE, hooked)
    old_uid = _pod(core, hooked["namespace"], f"{name}-0").metadata.uid

    changed = {**hooked, "lifecycle_config": {
        "termination_policy": policy, "post_start": {"hook_path": _write(tmp_path, "hook2.sh", HOOK + "echo 2\n")}}}
    first = _k8s_converge_twice(changed)
    assert first["actions"] == [
        f"update ConfigMap/{name}-hooks (data.post-start)",
        f"update StatefulSet/{name} (spec.template.metadata.annotations.workspaces.atelier.dev/hooks-hash)",
    ]
    _wait_for_new_pod(core, hooked, old_uid)

    first = _k8s_converge_twice(k8s_args | {"name": name, "lifecycle_config": {}})
    assert f"delete ConfigMap/{name}-hooks" in first["actions"]
    assert "ConfigMap" not in _owned(k8s_api, hooked)
    annotations = _statefulset(k8s_api, hooked).metadata.annotations
    assert "workspaces.atelier.dev/max-idle-seconds" not in annotations
    assert "workspaces.atelier.dev/auto-termination" not in annotations
    assert not _statefulset(k8s_api, hooked).spec.template.spec.containers[0].lifecycle

    first = _k8s_converge_twice({**k8s_args, "name": name, "state": "absent", "purge": True})
    assert f"delete ServiceAccount/{name}" in first["actions"]
    assert _owned(k8s_api, hooked) in ([], ["PersistentVolumeClaim"])  # a purged claim may still be finishing


def test_k8s_pre_start_and_container_config_merge_into_the_container(k8s_api, k8s_args, tmp_path):
    script = _pre_start(tmp_path, {
        "env": [{"name": "TEAM", "value": "data"}],
        "resources": {"limits": {"cpu": "0.5", "memory": "1024Mi"}},
        "securityContext": {"readOnlyRootFilesystem": True},
    })
    args = {
        **k8s_args,
        "env": {"PROJECT": "analytics"},
        "container_config": {"env": [{"name": "TEAM", "value": "static"}, {"name": "ZONE", "value": "a"}],
                             "readinessProbe": {"tcpSocket": {"port": 8888}}},
        "lifecycle_config": {"pre_start": {"script_path": script}},
    }
    _k8s_converge_twice(args)
    context = json.loads((tmp_path / "context.json").read_text())
    assert {key: context[key] for key in ("name", "namespace", "backend", "image")} == {
        "name": args["name"], "namespace": args["namespace"], "backend": "kubernetes", "image": args["image"]}
    assert "PROJECT" in context["env_names"]
    container = _statefulset(k8s_api, args).spec.template.spec.containers[0]
    assert [(item.name, item.value) for item in container.env] == [("TEAM", "data"), ("ZONE", "a")]
    assert container.resources.limits == {"cpu": "500m", "memory": "1Gi"}
    assert container.security_context.read_only_root_filesystem is True
    assert container.security_context.capabilities.drop == ["ALL"]
    assert container.readiness_probe.tcp_socket.port == 8888


def test_k8s_token_and_sandbox_are_opt_in(k8s_api, k8s_args):
    runtime_class = f"hook-sandbox-{uuid.uuid4().hex[:6]}"
    node_api = NodeV1Api(k8s_api)
    node_api.create_runtime_class({"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass",
                                   "metadata": {"name": runtime_class}, "handler": "runc"})
    try:
        args = {**k8s_args, "service_account_token": True, "runtime_class_name": runtime_class, "host_users": False}
        _k8s_converge_twice(args)
        pod = _pod(CoreV1Api(k8s_api), args["namespace"], f"{args['name']}-0").spec
        assert pod.automount_service_account_token is True
        assert (pod.runtime_class_name, pod.host_users) == (runtime_class, False)
    finally:
        node_api.delete_runtime_class(runtime_class)


def test_k8s_bulk_entries_each_run_their_own_script(k8s_api, k8s_args, tmp_path):
    shared = _pre_start(tmp_path, {"env": [{"name": "FROM", "value": "task"}]})
    own = _pre_start(tmp_path, {"env": [{"name": "FROM", "value": "entry"}]}, name="own.py")
    task = {**k8s_args, "wait": False, "lifecycle_config": {"pre_start": {"script_path": shared}}, "workspaces": [
        {"name": f"{k8s_args['name']}-a"},
        {"name": f"{k8s_args['name']}-b", "lifecycle_config": f"pre_start: {{script_path: {own}}}"},
    ]}
    del task["name"]
    _k8s_converge_twice(task)
    apps = AppsV1Api(k8s_api)
    values = {entry["name"]: apps.read_namespaced_stateful_set(entry["name"], task["namespace"])
              .spec.template.spec.containers[0].env[0].value for entry in task["workspaces"]}
    assert values == {f"{k8s_args['name']}-a": "task", f"{k8s_args['name']}-b": "entry"}

    bad = _write(tmp_path, "bad.py", "def get_custom_configs(context):\n    return []\n")
    broken = {**task, "workspaces": [*task["workspaces"], {
        "name": f"{k8s_args['name']}-c", "lifecycle_config": {"pre_start": {"script_path": bad}}}]}
    writes = audit_writes(task["namespace"])
    result = run_module(MODULE, broken, expect_failure=True)
    assert result["msg"].startswith("workspaces[2].lifecycle_config.pre_start.script_path: ")
    assert audit_writes(task["namespace"]) == writes


# --- bad input, both engines ----------------------------------------------------------------------


BAD_INPUT = {
    "missing script": ({"pre_start": {"script_path": "/nonexistent/pre.py"}},
                       "lifecycle_config.pre_start.script_path: /nonexistent/pre.py not found on the controller"),
    "no function": ({"pre_start": {"script_path": "{tmp}/nofunc.py"}}, "defines no function get_custom_configs"),
    "raises": ({"pre_start": {"script_path": "{tmp}/raises.py"}}, "get_custom_configs raised ValueError: no quota"),
    "returns a list": ({"pre_start": {"script_path": "{tmp}/list.py"}}, "get_custom_configs returned a list"),
    "missing hook": ({"post_start": {"hook_path": "/nonexistent/hook.sh"}},
                     "lifecycle_config.post_start.hook_path: /nonexistent/hook.sh not found on the controller"),
    "negative idle": ({"termination_policy": {"max_idle_seconds": -5}},
                      "lifecycle_config.termination_policy.max_idle_seconds: -5 is negative"),
    "bad yaml": ("post_start: [unclosed", "lifecycle_config: not valid YAML"),
}
SCRIPTS = {
    "nofunc.py": "def get_configs(context):\n    return {}\n",
    "raises.py": "def get_custom_configs(context):\n    raise ValueError('no quota')\n",
    "list.py": "def get_custom_configs(context):\n    return ['env']\n",
}


def _bad_lifecycle(tmp_path, config):
    for name, text in SCRIPTS.items():
        _write(tmp_path, name, text)
    return json.loads(json.dumps(config).replace("{tmp}", str(tmp_path)))


@pytest.mark.parametrize("case", BAD_INPUT)
def test_k8s_bad_lifecycle_input_names_the_field_and_writes_nothing(k8s_api, k8s_args, tmp_path, case):
    config, message = BAD_INPUT[case]
    writes = audit_writes(k8s_args["namespace"])
    result = run_module(MODULE, {**k8s_args, "lifecycle_config": _bad_lifecycle(tmp_path, config)},
                        expect_failure=True)
    assert message in result["msg"]
    assert audit_writes(k8s_args["namespace"]) == writes
    assert _owned(k8s_api, k8s_args) == []


@pytest.mark.parametrize("case", BAD_INPUT)
def test_docker_bad_lifecycle_input_names_the_field_and_creates_nothing(docker_client, docker_args, tmp_path, case):
    config, message = BAD_INPUT[case]
    result = run_module(MODULE, {**docker_args, "lifecycle_config": _bad_lifecycle(tmp_path, config)},
                        expect_failure=True)
    assert message in result["msg"]
    assert result.get("changed") is False
    assert _container(docker_client, docker_args["name"]) is None
    assert docker_client.volumes.list(filters={"label": f"{LABEL}={docker_args['name']}"}) == []


def test_internal_options_cannot_be_set_in_a_task(docker_args):
    result = run_module(MODULE, {**docker_args, "_pre_start_config": {"image": "x"}}, expect_failure=True)
    assert result["msg"].startswith("_pre_start_config: set by the action plugin")


# --- Docker ---------------------------------------------------------------------------------------


@pytest.fixture()
def docker_args(docker_client):
    name = f"hook-{uuid.uuid4().hex[:8]}"
    yield {
        "name": name,
        "backend": "docker",
        "image": "atelier/busybox:local",
        "command": ["sleep", "infinity"],
        "user_code_path": "/data",
        "wait_timeout": 60,
    }
    for container in docker_client.containers.list(all=True, filters={"label": f"{LABEL}={name}"}):
        container.remove(force=True)
    for volume in docker_client.volumes.list(filters={"label": f"{LABEL}={name}"}):
        volume.remove(force=True)


def _docker_converge_twice(docker_client, args):
    first = run_module(MODULE, args)
    started = time.time()
    second = run_module(MODULE, args)
    assert second["changed"] is False, second["actions"]
    assert "post_start" not in second and "on_startup" not in second
    assert _writes_since(docker_client, started, args["name"]) == []
    return first


def test_docker_post_start_runs_after_a_real_start_only(docker_client, docker_args, tmp_path):
    args = {**docker_args, "env": {"PROJECT": "analytics"}, "lifecycle_config": {"post_start": {
        "command": "echo command-out; echo $PROJECT > /data/post-start.env",
        "hook_path": _write(tmp_path, "hook.sh", HOOK)}}}
    first = _docker_converge_twice(docker_client, args)
    assert first["actions"][-3:] == ["create container", "start", "run post_start"]
    assert first["post_start"] == {"rc": 0, "stdout": "command-out\nhook-out\n", "stderr": ""}
    container = _container(docker_client, args["name"])
    assert _exec(container, "cat /data/post-start.env") == "analytics"
    assert _exec(container, "cat /data/post-start.log") == "1000"  # once, as the workspace user

    restarted = run_module(MODULE, {**args, "state": "restarted"})
    assert restarted["actions"] == ["restart", "run post_start"]
    assert _exec(container, "cat /data/post-start.log").split() == ["1000", "1000"]

    changed = _docker_converge_twice(docker_client, {**args, "lifecycle_config": {"post_start": {
        "hook_path": _write(tmp_path, "hook2.sh", "#!/bin/sh\necho second hook\n")}}})
    assert changed["actions"] == ["remove container (settings changed)", "create container", "start", "run post_start"]
    assert changed["post_start"]["stdout"] == "second hook\n"


def test_docker_check_mode_predicts_the_lifecycle_commands_and_runs_nothing(docker_client, docker_args):
    args = {**docker_args, "on_startup": ["touch started"], "lifecycle_config": {"post_start": {"command": "true"}}}
    predicted = run_module(MODULE, args, check=True)
    assert predicted["actions"][-3:] == ["start", "run on_startup", "run post_start"]
    assert "post_start" not in predicted
    assert _container(docker_client, args["name"]) is None


def test_docker_failing_post_start_fails_the_task_with_its_output(docker_client, docker_args, tmp_path):
    hook = _write(tmp_path, "fail.sh", "#!/bin/sh\necho partial\necho 'no license server' >&2\nexit 3\n")
    result = run_module(MODULE, {**docker_args, "lifecycle_config": {"post_start": {"hook_path": hook}}},
                        expect_failure=True)
    assert result["msg"].startswith("lifecycle_config.post_start: failed in the workspace with exit status 3")
    assert "no license server" in result["msg"] and "partial" in result["msg"]
    # removed, so that the next run starts it again and retries
    assert result["actions"][-2:] == ["run post_start", "remove container (lifecycle command failed)"]
    assert _container(docker_client, docker_args["name"]) is None
    assert docker_client.volumes.list(filters={"label": f"{LABEL}={docker_args['name']}"})


@pytest.fixture()
def git_repo(tmp_path):
    """A bare repository with branches main and feature, readable by the workspace user (uid 1000)."""
    if not shutil.which("git"):
        pytest.skip("git is not installed on the Docker host")
    work, bare = tmp_path / "work", tmp_path / "project.git"
    git = ["git", "-c", "user.email=t@example.test", "-c", "user.name=t", "-C", str(work)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    for branch, filename in (("main", "README"), ("feature", "FEATURE")):
        if branch != "main":
            subprocess.run([*git, "checkout", "-qb", branch], check=True)
        (work / filename).write_text(f"{branch}\n")
        subprocess.run([*git, "add", filename], check=True)
        subprocess.run([*git, "commit", "-qm", branch], check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    subprocess.run(["chown", "-R", "1000:0", str(bare)], check=True)
    return str(bare)


GIT_PATHS = ("/usr/bin/git", "/usr/lib/git-core", "/usr/share/git-core")


def _git_volumes(repo):
    """The repository, read-only, and the host's git: the workspace image has none (both are Debian bookworm)."""
    tools = [f"{path}:{path}:ro" for path in GIT_PATHS if os.path.exists(path)]
    return [f"{repo}:/srv/project.git:ro", *tools]


@pytest.fixture()
def git_mounts_allowed(docker_client, git_repo):
    """The repository's directory and the host's git may be mounted (cluster setting WORKSPACE_ALLOWED_HOST_PATHS)."""
    with allowed_host_paths(docker_client, os.path.dirname(git_repo), *GIT_PATHS):
        yield


@pytest.mark.usefixtures("git_mounts_allowed")
def test_docker_git_clone_and_on_startup_run_once_per_definition(docker_client, docker_args, git_repo):
    args = {
        **{key: value for key, value in docker_args.items() if key != "command"},
        "image": "atelier/workspace:local",
        "user_code_path": "/home/workspace/code",
        "container_config": {"volumes": _git_volumes(git_repo)},
        "git": {"repo": "file:///srv/project.git", "ref": "feature"},
        "on_startup": ["echo first >> startup.log", "git -C project rev-parse --abbrev-ref HEAD > branch"],
    }
    first = _docker_converge_twice(docker_client, args)
    assert first["actions"][-2:] == ["start", "run on_startup"]
    assert first["on_startup"]["rc"] == 0
    container = _container(docker_client, args["name"])
    code = "/home/workspace/code"
    assert _exec(container, f"cat {code}/project/FEATURE {code}/branch {code}/startup.log").split() == [
        "feature", "feature", "first"]

    restarted = run_module(MODULE, {**args, "state": "restarted"})
    assert restarted["actions"] == ["restart"]  # the marker in the data keeps a restart from repeating them
    _exec(container, f"echo local > {code}/project/local-change")

    # a new definition restarts the workspace on the same data and runs again
    more = {**args, "on_startup": [*args["on_startup"], "echo second >> startup.log"]}
    changed = _docker_converge_twice(docker_client, more)
    assert changed["actions"] == ["remove container (settings changed)", "create container", "start", "run on_startup"]
    container = _container(docker_client, args["name"])
    assert _exec(container, f"cat {code}/startup.log").split() == ["first", "first", "second"]
    assert _exec(container, f"cat {code}/project/local-change") == "local"  # the clone is not redone


def test_docker_failing_on_startup_names_the_command(docker_client, docker_args):
    args = {**docker_args, "on_startup": ["true", "echo 'missing tool' >&2; exit 4"]}
    result = run_module(MODULE, args, expect_failure=True)
    assert result["msg"].startswith("on_startup: failed in the workspace with exit status 4")
    assert "on_startup[1]: failed (exit status 4)" in result["msg"] and "missing tool" in result["msg"]
    assert _container(docker_client, args["name"]) is None
    retried = run_module(MODULE, {**args, "on_startup": ["true", "echo fixed"]})
    assert retried["actions"] == ["create container", "start", "run on_startup"]


def test_docker_termination_policy_labels_and_pre_start_environment(docker_client, docker_args, tmp_path):
    script = _pre_start(tmp_path, {"environment": {"TEAM": "data"}})
    args = {**docker_args, "lifecycle_config": {
        "termination_policy": {"enable_auto_termination": True, "max_idle_seconds": 900},
        "pre_start": {"script_path": script}}}
    _docker_converge_twice(docker_client, args)
    container = _container(docker_client, args["name"])
    assert container.labels["workspaces.atelier.dev/auto-termination"] == "true"
    assert container.labels["workspaces.atelier.dev/max-idle-seconds"] == "900"
    assert "TEAM=data" in _exec(container, "env").splitlines()
    assert json.loads((tmp_path / "context.json").read_text())["backend"] == "docker"

    longer = {**args, "lifecycle_config": {**args["lifecycle_config"], "termination_policy": {
        "enable_auto_termination": True, "max_idle_seconds": 1800}}}
    changed = _docker_converge_twice(docker_client, longer)
    assert changed["actions"][0] == "remove container (settings changed)"
    assert _container(docker_client, args["name"]).labels["workspaces.atelier.dev/max-idle-seconds"] == "1800"

    kubernetes_only = _pre_start(tmp_path, {"resources": {"limits": {"cpu": "1"}}}, name="k8s.py")
    refused = run_module(MODULE, {**args, "lifecycle_config": {"pre_start": {"script_path": kubernetes_only}}},
                         expect_failure=True)
    assert refused["msg"].startswith("invalid workspace definition: lifecycle_config.pre_start.script_path: "
                                     f"{kubernetes_only} returned container_config.resources: not a Docker")


# --- files next to a playbook or in a role --------------------------------------------------------


def _run_playbook(playbook):
    """Task results of a playbook run on localhost, as the json callback reports them."""
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / ".work" / "collections"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_PYTHON_INTERPRETER": str(VENV_BIN / "python"),
        "PATH": f"{VENV_BIN}:{env.get('PATH', '')}",
    })
    completed = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)],
                               capture_output=True, text=True, env=env, cwd=playbook.parent, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    tasks = json.loads(completed.stdout)["plays"][0]["tasks"]
    return [task["hosts"]["localhost"] for task in tasks]


def test_role_files_are_found_relative_to_the_role(docker_client, docker_args, tmp_path):
    files = tmp_path / "roles" / "workspace_hooks" / "files"
    files.mkdir(parents=True)
    _pre_start(files, {"environment": {"FROM_ROLE": "yes"}}, name="pre_start.py")
    _write(files, "post_start.sh", "echo role hook\n")
    (files.parent / "tasks").mkdir()
    task = {"name": "Workspace with hooks from the role", "atelier.workspaces.workspace": {
        **docker_args,
        "lifecycle_config": "pre_start: {script_path: pre_start.py}\npost_start: {hook_path: post_start.sh}\n"}}
    (files.parent / "tasks" / "main.yml").write_text(json.dumps([task]))
    playbook = tmp_path / "site.yml"
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "roles": ["workspace_hooks"]}]))

    (first,) = _run_playbook(playbook)
    assert first["post_start"]["stdout"] == "role hook\n"
    started = time.time()
    (second,) = _run_playbook(playbook)
    assert second["changed"] is False
    assert _writes_since(docker_client, started, docker_args["name"]) == []
    assert "FROM_ROLE=yes" in _exec(_container(docker_client, docker_args["name"]), "env").splitlines()
