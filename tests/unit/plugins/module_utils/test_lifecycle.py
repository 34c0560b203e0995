import re
import shutil
import subprocess
import sys

import pytest

from ansible_collections.atelier.workspaces.plugins.module_utils.backends.docker import plan as docker_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import compare
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import container as k8s_container
from ansible_collections.atelier.workspaces.plugins.module_utils.backends.kubernetes import plan as k8s_plan
from ansible_collections.atelier.workspaces.plugins.module_utils.common import quantity
from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import lifecycle
from ansible_collections.atelier.workspaces.plugins.module_utils.domain import workspace_spec as spec

HOOK = "#!/bin/sh\necho hook\n"


def _model(backend="kubernetes", **params):
    model, errors = spec.build_model({"name": "hook-a", "backend": backend, "wait_timeout": 30, **params},
                                     kubernetes=backend != "docker")
    assert errors == []
    return model


def _errors(**params):
    model, errors = spec.build_model({"name": "hook-a", "wait_timeout": 30, **params},
                                     kubernetes=params.get("backend") != "docker")
    assert model is None
    return errors


def _objects(model):
    return {obj["kind"]: obj for obj in k8s_plan.desired_objects(model, 1)}


def _pod(model):
    return _objects(model)["StatefulSet"]["spec"]["template"]["spec"]


# --- lifecycle_config -----------------------------------------------------------------------------


def test_yaml_string_form_is_parsed():
    parsed = lifecycle.parse_lifecycle_config(
        "termination_policy:\n  enable_auto_termination: true\n  max_idle_seconds: 60\n")
    assert parsed == {"termination_policy": {"enable_auto_termination": True, "max_idle_seconds": 60}}


@pytest.mark.parametrize(("raw", "fragment"), [
    ("pre_start: [unclosed", "lifecycle_config: not valid YAML"),
    ("- a list", "lifecycle_config: must be a mapping"),
    ({"pre_stop": {}}, "lifecycle_config.pre_stop: not a lifecycle_config field"),
])
def test_bad_lifecycle_config_names_the_field(raw, fragment):
    with pytest.raises(WorkspaceError, match=re.escape(fragment)):
        lifecycle.parse_lifecycle_config(raw)


@pytest.mark.parametrize(("policy", "field"), [
    ({"max_idle_seconds": -1}, "lifecycle_config.termination_policy.max_idle_seconds: -1 is negative"),
    ({"enable_auto_termination": True}, "lifecycle_config.termination_policy.max_idle_seconds: required"),
])
def test_termination_policy_is_checked(policy, field):
    errors = _errors(lifecycle_config={"termination_policy": policy})
    assert any(error.startswith(field) for error in errors), errors


def test_termination_policy_is_stored_as_annotations_and_labels():
    config = {"termination_policy": {"enable_auto_termination": True, "max_idle_seconds": 0}}
    expected = {lifecycle.ANNOTATION_AUTO_TERMINATION: "true", lifecycle.ANNOTATION_MAX_IDLE: "0"}
    annotations = _objects(_model(lifecycle_config=config))["StatefulSet"]["metadata"]["annotations"]
    assert expected.items() <= annotations.items()
    labels = docker_plan.desired_container(_model("docker", lifecycle_config=config))["labels"]
    assert expected.items() <= labels.items()


# --- post_start -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("post_start", "argv"), [
    ({"command": "echo hi", "hook": None}, ["/bin/sh", "-c", "echo hi"]),
    ({"command": ["touch", "a b"], "hook": None}, ["touch", "a b"]),
    ({"command": None, "hook": HOOK}, ["/bin/sh", "-c", "/opt/atelier/hooks/post-start"]),
    ({"command": "echo 'x'", "hook": HOOK},
     ["/bin/sh", "-c", "/bin/sh -c 'echo '\"'\"'x'\"'\"'' && /opt/atelier/hooks/post-start"]),
    ({"command": ["touch", "a b"], "hook": HOOK}, ["/bin/sh", "-c", "touch 'a b' && /opt/atelier/hooks/post-start"]),
])
def test_post_start_runs_the_command_then_the_hook(post_start, argv):
    assert lifecycle.post_start_command(post_start) == argv


def test_post_start_command_then_hook_in_a_shell(tmp_path):
    hook = tmp_path / "post-start"
    hook.write_text("echo hook >> log\n")  # no '#!' line: sh reads it as a script
    hook.chmod(0o555)
    argv = lifecycle.post_start_command({"command": "echo command > log", "hook": "x"})
    argv[-1] = argv[-1].replace(lifecycle.HOOKS_DIR, str(tmp_path))
    subprocess.run(argv, cwd=tmp_path, check=True)
    assert (tmp_path / "log").read_text() == "command\nhook\n"


@pytest.mark.parametrize(("post_start", "field"), [
    ({"command": 3}, "lifecycle_config.post_start.command:"),
    ({"command": ["ok", ""]}, "lifecycle_config.post_start.command:"),
    ({"hook_path": "post.sh"}, "lifecycle_config.post_start.hook_path: the file is read on the controller"),
])
def test_bad_post_start_names_the_field(post_start, field):
    assert any(error.startswith(field) for error in _errors(lifecycle_config={"post_start": post_start}))


def test_kubernetes_hook_is_a_configmap_mounted_and_hashed_into_the_pod_template():
    model = _model(lifecycle_config={"post_start": {"command": "echo", "hook_path": "h.sh"}}, _post_start_hook=HOOK)
    objects = _objects(model)
    assert objects["ConfigMap"]["metadata"]["name"] == "hook-a-hooks"
    assert objects["ConfigMap"]["data"] == {"post-start": HOOK}
    pod = _pod(model)
    container = pod["containers"][0]
    assert container["lifecycle"]["postStart"]["exec"]["command"][-1].endswith("/opt/atelier/hooks/post-start")
    assert {"name": "hooks", "mountPath": "/opt/atelier/hooks", "readOnly": True} in container["volumeMounts"]
    assert {"name": "hooks", "configMap": {"name": "hook-a-hooks", "defaultMode": 0o555}} in pod["volumes"]
    template = objects["StatefulSet"]["spec"]["template"]["metadata"]["annotations"]
    changed = _model(lifecycle_config={"post_start": {"hook_path": "h.sh"}}, _post_start_hook=HOOK + "echo more\n")
    again = _objects(changed)["StatefulSet"]["spec"]["template"]["metadata"]["annotations"]
    assert template[k8s_plan.ANNOTATION_HOOKS_HASH] != again[k8s_plan.ANNOTATION_HOOKS_HASH]


def test_a_workspace_without_lifecycle_options_has_none_of_their_objects():
    objects = _objects(_model())
    assert "ConfigMap" not in objects
    pod = objects["StatefulSet"]["spec"]["template"]["spec"]
    assert "initContainers" not in pod and "lifecycle" not in pod["containers"][0]
    assert [volume["name"] for volume in pod["volumes"]] == ["data"]
    assert k8s_plan.ANNOTATION_HOOKS_HASH not in objects["StatefulSet"]["spec"]["template"]["metadata"]["annotations"]
    assert lifecycle.ANNOTATION_AUTO_TERMINATION not in objects["StatefulSet"]["metadata"]["annotations"]


def test_docker_spec_hash_changes_with_hooks_and_startup_only_when_they_are_set():
    def spec_hash(**params):
        return docker_plan.desired_container(_model("docker", **params))["labels"][docker_plan.LABEL_SPEC_HASH]

    plain = spec_hash()
    assert spec_hash(lifecycle_config={}) == plain  # workspaces without them keep their containers
    hooked = spec_hash(lifecycle_config={"post_start": {"hook_path": "h"}}, _post_start_hook=HOOK)
    assert hooked != plain
    assert spec_hash(lifecycle_config={"post_start": {"hook_path": "h"}}, _post_start_hook=HOOK + "\n") != hooked
    assert spec_hash(on_startup=["make"]) not in (plain, spec_hash(on_startup=["make", "make test"]))


# --- git and on_startup ---------------------------------------------------------------------------


@pytest.mark.parametrize(("repo", "target"), [
    ("https://git.example.test/group/project.git", "project"),
    ("git@git.example.test:group/project.git", "project"),
    ("git@git.example.test:project", "project"),
    ("file:///srv/repo.git/", "repo"),
    ("/srv/plain", "plain"),
])
def test_clone_directory_is_named_as_git_names_it(repo, target):
    assert lifecycle.git_target(repo) == target


@pytest.mark.parametrize(("params", "field"), [
    ({"git": {"repo": "--upload-pack=evil"}}, "git.repo:"),
    ({"git": {"repo": "https://x/a b.git"}}, "git.repo:"),
    ({"git": {"repo": "https://x/p.git", "ref": "-x"}}, "git.ref:"),
    ({"git": {"repo": "https://x/.."}}, "git.repo:"),
    ({"on_startup": ["make", " "]}, "on_startup[1]:"),
])
def test_bad_startup_names_the_field(params, field):
    assert any(error.startswith(field) for error in _errors(**params))


@pytest.fixture()
def bare_repo(tmp_path):
    if not shutil.which("git"):
        pytest.skip("git is not installed")
    work = tmp_path / "work"
    git = ["git", "-c", "user.email=t@example.test", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q", "-b", "main", str(work)], check=True)
    (work / "README").write_text("main\n")
    subprocess.run([*git, "-C", str(work), "add", "README"], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "-qm", "main"], check=True)
    subprocess.run([*git, "-C", str(work), "checkout", "-qb", "feature"], check=True)
    (work / "FEATURE").write_text("feature\n")
    subprocess.run([*git, "-C", str(work), "add", "FEATURE"], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "-qm", "feature"], check=True)
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(tmp_path / "project.git")], check=True)
    return f"file://{tmp_path / 'project.git'}"


def _run_startup(data, startup):
    script = lifecycle.startup_script(startup, str(data))
    return subprocess.run(["/bin/sh", "-c", script], capture_output=True, text=True, check=False)


def test_startup_clones_runs_once_and_again_after_a_change(tmp_path, bare_repo):
    data = tmp_path / "data"
    data.mkdir()
    startup = {"git": {"repo": bare_repo, "ref": "feature", "target": "project"}, "commands": ["echo run >> log"]}
    assert _run_startup(data, startup).returncode == 0
    assert (data / "project" / "FEATURE").exists()
    assert _run_startup(data, startup).returncode == 0
    assert (data / "log").read_text() == "run\n"  # the marker keeps a restart from repeating it

    (data / "project" / "local-change").write_text("kept")
    startup["commands"].append("echo second >> log")
    assert _run_startup(data, startup).returncode == 0
    assert (data / "log").read_text() == "run\nrun\nsecond\n"
    assert (data / "project" / "local-change").exists()  # an existing clone is left alone


def test_startup_failure_names_the_command_and_leaves_no_marker(tmp_path):
    startup = {"git": None, "commands": ["true", "echo oops >&2; exit 3", "echo never > never"]}
    completed = _run_startup(tmp_path, startup)
    assert completed.returncode == 3
    assert "on_startup[1]: failed (exit status 3)" in completed.stderr
    assert not (tmp_path / "never").exists()
    assert not (tmp_path / lifecycle.STARTUP_MARKER).exists()


def test_kubernetes_init_container_shares_image_data_mount_and_security_context():
    model = _model(on_startup=["make"], git={"repo": "https://x/p.git"},
                   storage={"shared_claim": "team", "subpath_prefix": "ws"})
    pod = _pod(model)
    (init,) = pod["initContainers"]
    main = pod["containers"][0]
    assert init["name"] == "startup"
    for field in ("image", "volumeMounts", "securityContext", "envFrom", "workingDir"):
        assert init[field] == main[field], field
    assert init["volumeMounts"][0]["subPath"] == "ws/hook-a"
    assert init["command"][:2] == ["/bin/sh", "-c"]
    assert "git clone --quiet -- https://x/p.git p" in init["command"][2]


# --- security defaults ----------------------------------------------------------------------------


def test_each_workspace_has_its_own_service_account_without_a_token():
    objects = _objects(_model())
    account = objects["ServiceAccount"]
    assert account["metadata"]["name"] == "hook-a" and account["automountServiceAccountToken"] is False
    pod = _pod(_model())
    assert pod["serviceAccountName"] == "hook-a"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True}
    assert _pod(_model(service_account_token=True))["automountServiceAccountToken"] is True


def test_sandbox_options_reach_the_pod_and_are_refused_on_docker():
    pod = _pod(_model(runtime_class_name="gvisor", host_users=False))
    assert pod["runtimeClassName"] == "gvisor" and pod["hostUsers"] is False
    _none, errors = spec.build_model({"name": "hook-a", "backend": "docker", "service_account_token": True},
                                     kubernetes=False)
    assert "service_account_token: only the Kubernetes backend can use it; remove it for backend: docker" in errors


# --- container_config and the pre-start layer -----------------------------------------------------


def test_kubernetes_container_fields_merge_into_the_container():
    model = _model(container_config={
        "env": [{"name": "TEAM", "value": "data"}],
        "resources": {"limits": {"cpu": "0.5", "memory": "1024Mi"}},
        "securityContext": {"readOnlyRootFilesystem": True},
        "envFrom": [{"configMapRef": {"name": "shared"}}],
    }, resources={"cpu": "2"})
    container = _pod(model)["containers"][0]
    assert container["env"] == [{"name": "TEAM", "value": "data"}]
    assert container["resources"] == {"limits": {"cpu": "500m", "memory": "1Gi"}, "requests": {"cpu": "2"}}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["envFrom"] == [{"secretRef": {"name": "hook-a-env"}}, {"configMapRef": {"name": "shared"}}]


def test_pre_start_settings_win_over_container_config():
    model = _model(
        container_config={"env": [{"name": "A", "value": "static"}, {"name": "B", "value": "static"}],
                          "environment": {"X": "1"}},
        lifecycle_config={"pre_start": {"script_path": "pre.py"}},
        _pre_start_config={"env": [{"name": "A", "value": "script"}], "environment": {"Y": "2"}, "image": "ide:2"},
    )
    container = _pod(model)["containers"][0]
    assert container["env"] == [{"name": "A", "value": "script"}, {"name": "B", "value": "static"}]
    assert container["image"] == "ide:2"
    assert {"X", "Y"} <= {entry["name"] for entry in model["env"]}


@pytest.mark.parametrize(("params", "fragment"), [
    ({"backend": "docker", "container_config": {"env": []}}, "container_config.env: not a Docker container_config"),
    ({"container_config": {"replicas": 2}}, "container_config.replicas: neither a container_config field"),
    ({"container_config": {"env": [{"value": "x"}]}}, "container_config.env[0]: needs a name"),
    ({"container_config": {"resources": {"limits": {"cpu": "lots"}}}}, "container_config.resources.limits.cpu:"),
    ({"lifecycle_config": {"pre_start": {"script_path": "pre.py"}}, "_pre_start_config": {"replicas": 1}},
     "lifecycle_config.pre_start.script_path: pre.py returned container_config.replicas:"),
    ({"backend": "docker", "lifecycle_config": {"pre_start": {"script_path": "pre.py"}},
      "_pre_start_config": {"volumes": ["nodest"]}},
     "lifecycle_config.pre_start.script_path: pre.py returned container_config.volumes[0]:"),
    ({"lifecycle_config": {"pre_start": {"script_path": "pre.py"}}},
     "lifecycle_config.pre_start.script_path: the script runs on the controller"),
    ({"lifecycle_config": {"post_start": {"command": "x"}},
      "container_config": {"lifecycle": {"postStart": {"exec": {"command": ["y"]}}}}},
     "container_config.lifecycle.postStart:"),
])
def test_bad_container_settings_name_their_field(params, fragment):
    errors = _errors(**params)
    assert any(error.startswith(fragment) for error in errors), errors


@pytest.mark.parametrize(("amount", "canonical"), [
    ("0.5", "500m"), ("1000m", "1"), ("2000", "2k"), ("1.5Gi", "1536Mi"), ("1024Mi", "1Gi"), ("1536Ki", "1536Ki"),
    ("1G", "1G"), ("1500M", "1500M"), ("100", "100"), (2, "2"), ("0", "0"), ("512", "512"), ("0.5Ki", "512"),
    ("lots", None), ("1e3", None),
])
def test_quantities_are_written_as_the_api_server_writes_them(amount, canonical):
    assert quantity.canonical_quantity(amount) == canonical


def test_named_lists_merge_item_by_item_and_other_lists_are_replaced():
    container = {"env": [{"name": "A", "value": "1"}], "command": ["a"], "volumeMounts": [{"mountPath": "/d"}]}
    merged = k8s_container.merge(container, {
        "env": [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}],
        "command": ["b"],
        "volumeMounts": [{"mountPath": "/e", "name": "e"}],
    })
    assert merged["env"] == [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}]
    assert merged["command"] == ["b"]
    assert merged["volumeMounts"] == [{"mountPath": "/d"}, {"mountPath": "/e", "name": "e"}]
    assert container["env"] == [{"name": "A", "value": "1"}]  # the input is not changed


def test_dropped_optional_annotation_is_a_difference():
    held = {"metadata": {"annotations": {lifecycle.ANNOTATION_MAX_IDLE: "60", "other": "x"}}}
    assert compare.dropped_annotation({"metadata": {"annotations": {}}}, held) == (
        f"metadata.annotations.{lifecycle.ANNOTATION_MAX_IDLE}")
    assert compare.dropped_annotation(held, held) is None


# --- controller side ------------------------------------------------------------------------------


def _script(tmp_path, text, name="pre.py"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_pre_start_script_gets_the_context_and_stays_isolated(tmp_path):
    path = _script(tmp_path, "SEEN = []\n\ndef get_custom_configs(context):\n"
                             "    SEEN.append(context)\n    return {'environment': {'WHO': context['name']}}\n")
    modules = set(sys.modules)
    assert lifecycle.run_pre_start(path, {"name": "hook-a"}) == {"environment": {"WHO": "hook-a"}}
    assert set(sys.modules) == modules
    assert not (tmp_path / "__pycache__").exists()


@pytest.mark.parametrize(("text", "fragment"), [
    ("def get_custom_configs(:\n", "failed to load (SyntaxError"),
    ("import not_a_module_anywhere\n", "failed to load (ModuleNotFoundError"),
    ("import sys\nsys.exit(2)\n", "failed to load (SystemExit"),
    ("def other(context):\n    return {}\n", "defines no function get_custom_configs(context)"),
    ("def get_custom_configs(context):\n    raise RuntimeError('no quota')\n",
     "get_custom_configs raised RuntimeError: no quota"),
    ("def get_custom_configs(context):\n    return ['env']\n", "get_custom_configs returned a list"),
    ("def get_custom_configs(context):\n    return {'x': {1, 2}}\n", "values that are not plain data"),
])
def test_bad_pre_start_script_names_the_field_and_the_script(tmp_path, text, fragment):
    path = _script(tmp_path, text)
    with pytest.raises(WorkspaceError) as raised:
        lifecycle.run_pre_start(path, {})
    assert str(raised.value).startswith(f"lifecycle_config.pre_start.script_path: {path}: ")
    assert fragment in str(raised.value)


def test_missing_pre_start_script_is_a_clear_error(tmp_path):
    with pytest.raises(WorkspaceError, match=r"lifecycle_config\.pre_start\.script_path: .*cannot read the script"):
        lifecycle.run_pre_start(str(tmp_path / "missing.py"), {})


def test_hook_is_read_as_text_within_its_limit(tmp_path):
    assert lifecycle.read_hook(_script(tmp_path, HOOK, "hook.sh")) == HOOK
    binary = tmp_path / "hook.bin"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(WorkspaceError, match=r"lifecycle_config\.post_start\.hook_path: .*not a UTF-8 text file"):
        lifecycle.read_hook(str(binary))
    large = _script(tmp_path, "#" * (lifecycle.MAX_HOOK_BYTES + 1), "large.sh")
    with pytest.raises(WorkspaceError, match="larger than 256 KiB"):
        lifecycle.read_hook(large)
    with pytest.raises(WorkspaceError, match="cannot read the hook"):
        lifecycle.read_hook(str(tmp_path / "missing.sh"))


def test_pre_start_context_describes_the_workspace_without_secret_values():
    from ansible_collections.atelier.workspaces.plugins.action import workspace as action

    context = action.pre_start_context({
        "name": "hook-a", "backend": "docker", "env": {"PROJECT": "x"},
        "secrets": [{"key": "token", "env_var": "API_TOKEN", "value": "s3cret"}, {"key": "plain"}],
        "container_config": "environment: {EXTRA: 1}\nimage: ide:2\n",
    })
    assert context == {
        "name": "hook-a", "namespace": "workspaces", "backend": "docker", "image": "ide:2", "user": "1000",
        "user_code_path": "/home/workspace/code", "labels": {}, "env_names": ["API_TOKEN", "EXTRA", "PROJECT", "plain"],
        "container_config": {"environment": {"EXTRA": 1}, "image": "ide:2"},
    }
    assert "s3cret" not in repr(context)


@pytest.mark.parametrize("args", [
    {"name": "a", "_pre_start_config": {}},
    {"workspaces": [{"name": "a", "_post_start_hook": "echo"}]},
])
def test_internal_options_are_refused_in_a_task(args):
    from ansible_collections.atelier.workspaces.plugins.action import workspace as action

    with pytest.raises(WorkspaceError, match="set by the action plugin"):
        action.refuse_internal_options(args)
