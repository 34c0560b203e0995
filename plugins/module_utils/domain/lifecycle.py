# Copyright: atelier.workspaces contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lifecycle of a workspace: idle policy, pre-start configuration, post-start hooks, first-start commands.

Everything here is pure except the two controller-side helpers at the end
(run_pre_start, read_hook), which the action plugin uses to turn files next to
the playbook into module options. Both backends run the same shell text: the
startup script (git clone, then on_startup) and the post-start command.
"""

from __future__ import annotations

import copy
import json
import shlex

from ansible_collections.atelier.workspaces.plugins.module_utils.common.errors import WorkspaceError
from ansible_collections.atelier.workspaces.plugins.module_utils.common.hashing import fingerprint

PRE_START_FIELD = "lifecycle_config.pre_start.script_path"
HOOK_FIELD = "lifecycle_config.post_start.hook_path"
PRE_START_FUNCTION = "get_custom_configs"
# Where the post-start hook file is in the workspace container (ConfigMap mount or copied in).
HOOKS_DIR = "/opt/atelier/hooks"
POST_START_HOOK = "post-start"
HOOK_MODE = 0o555
MAX_HOOK_BYTES = 256 * 1024  # well under a ConfigMap's 1 MiB
# Written in the data directory once the startup script succeeded; holds the script's fingerprint.
STARTUP_MARKER = ".atelier/startup-done"
ANNOTATION_AUTO_TERMINATION = "workspaces.atelier.dev/auto-termination"
ANNOTATION_MAX_IDLE = "workspaces.atelier.dev/max-idle-seconds"
TERMINATION_KEYS = (ANNOTATION_AUTO_TERMINATION, ANNOTATION_MAX_IDLE)
LIFECYCLE_KEYS = ("termination_policy", "pre_start", "post_start")


def parse_lifecycle_config(raw, field="lifecycle_config"):
    """The option as a dict, also from the seed's YAML-string form; raises WorkspaceError naming the field."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        import yaml  # ansible-core depends on PyYAML; only the controller parses the string form

        try:
            raw = yaml.safe_load(raw)
        except yaml.YAMLError as error:
            raise WorkspaceError(f"{field}: not valid YAML ({error}); give a mapping such as "
                                 f"'termination_policy: {{max_idle_seconds: 1800}}'") from None
    if not isinstance(raw, dict):
        raise WorkspaceError(f"{field}: must be a mapping with {', '.join(LIFECYCLE_KEYS)}")
    unknown = sorted(set(raw) - set(LIFECYCLE_KEYS))
    if unknown:
        raise WorkspaceError(f"{field}.{unknown[0]}: not a lifecycle_config field; use {', '.join(LIFECYCLE_KEYS)}")
    return raw


def _termination(policy, errors):
    if not policy:
        return None
    field = "lifecycle_config.termination_policy"
    enabled = bool(policy.get("enable_auto_termination"))
    max_idle = policy.get("max_idle_seconds")
    if max_idle is not None and max_idle < 0:
        errors.append(f"{field}.max_idle_seconds: {max_idle} is negative; give the idle seconds allowed, 0 or more")
    if enabled and max_idle is None:
        errors.append(f"{field}.max_idle_seconds: required when enable_auto_termination is true, for example 1800")
    return {"enable_auto_termination": enabled, "max_idle_seconds": max_idle}


def termination_metadata(termination):
    """How the idle policy is stored with the workspace: annotations on Kubernetes, labels on Docker."""
    if not termination:
        return {}
    stored = {ANNOTATION_AUTO_TERMINATION: str(termination["enable_auto_termination"]).lower()}
    if termination["max_idle_seconds"] is not None:
        stored[ANNOTATION_MAX_IDLE] = str(termination["max_idle_seconds"])
    return stored


def _command(command, errors):
    field = "lifecycle_config.post_start.command"
    if command is None or command == "" or command == []:
        return None
    if isinstance(command, str):
        return command
    if isinstance(command, list) and all(isinstance(arg, str) and arg for arg in command):
        return list(command)
    errors.append(f"{field}: give a shell command as one string, or the program and its arguments as a list of strings")
    return None


def _post_start(post_start, hook, errors):
    post_start = post_start or {}
    command = _command(post_start.get("command"), errors)
    hook_path = post_start.get("hook_path")
    if hook_path and hook is None:
        errors.append(f"{HOOK_FIELD}: the file is read on the controller by the action plugin; run the module as "
                      f"a task (atelier.workspaces.workspace), not on its own")
    if command is None and not hook_path:
        return None
    return {"command": command, "hook_path": hook_path, "hook": hook if hook_path else None}


def post_start_command(post_start):
    """The argv the container runs after it starts: the command, then the hook script if the command succeeded."""
    if not post_start:
        return None
    command = post_start["command"]
    if post_start["hook"] is None:
        return ["/bin/sh", "-c", command] if isinstance(command, str) else command
    steps = []
    if command is not None:
        steps.append(f"/bin/sh -c {shlex.quote(command)}" if isinstance(command, str) else shlex.join(command))
    # started by sh: a hook without a '#!' line is then read as a shell script
    steps.append(shlex.quote(f"{HOOKS_DIR}/{POST_START_HOOK}"))
    return ["/bin/sh", "-c", " && ".join(steps)]


def git_target(repo):
    """The clone's directory name, as git itself derives it: the last path part without '.git'."""
    tail = repo.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return tail[:-4] if tail.endswith(".git") else tail


def _shell_word_error(field, value):
    if not isinstance(value, str) or not value.strip():
        return f"{field}: must not be empty"
    if value.startswith("-") or any(char.isspace() for char in value):
        return f"{field}: '{value}' must not start with '-' or hold spaces"
    return None


def _git(git, errors):
    if not git:
        return None
    found = [_shell_word_error("git.repo", git.get("repo"))]
    if git.get("ref") is not None:
        found.append(_shell_word_error("git.ref", git["ref"]))
    found = [error for error in found if error]
    if not found and git_target(git["repo"]) in ("", ".", ".."):
        found.append(f"git.repo: '{git['repo']}' names no directory to clone into; end it with the project name")
    errors.extend(found)
    return None if found else {"repo": git["repo"], "ref": git.get("ref"), "target": git_target(git["repo"])}


def _startup(git, commands, errors):
    commands = list(commands or [])
    errors.extend(f"on_startup[{index}]: empty command; remove it or write the command"
                  for index, command in enumerate(commands) if not str(command or "").strip())
    git = _git(git, errors)
    return {"git": git, "commands": commands} if git or commands else None


def lifecycle_model(params, errors):
    """The lifecycle part of a workspace model; problems are appended to errors, each naming its field."""
    config = params.get("lifecycle_config") or {}
    return {
        "termination": _termination(config.get("termination_policy"), errors),
        "post_start": _post_start(config.get("post_start"), params.get("_post_start_hook"), errors),
        "startup": _startup(params.get("git"), params.get("on_startup"), errors),
    }


def _fail_with(message):
    """A shell fragment for `command || <fragment>`: say what failed on stderr and stop with its status."""
    return f'{{ rc=$?; echo {shlex.quote(message)}" (exit status $rc)" >&2; exit $rc; }}'


def _git_lines(git):
    target = shlex.quote(git["target"])
    lines = [
        f"if [ ! -d {target}/.git ]; then",
        "  command -v git >/dev/null || { echo 'git: the image has no git command; use an image with git' >&2; "
        "exit 127; }",
        f"  GIT_TERMINAL_PROMPT=0 git clone --quiet -- {shlex.quote(git['repo'])} {target} || "
        + _fail_with(f"git.repo: cloning {git['repo']} failed"),
    ]
    if git["ref"]:
        lines.append(f"  git -C {target} checkout --quiet {shlex.quote(git['ref'])} -- || "
                     + _fail_with(f"git.ref: checking out {git['ref']} failed"))
    return [*lines, "fi"]


def startup_script(startup, user_code_path):
    """The shell script that clones git.repo (unless already cloned) and runs on_startup, once per version.

    It starts in the data directory and leaves a marker there, so a restart or a
    re-run does not repeat it; a changed definition has another fingerprint and runs again.
    """
    if not startup:
        return None
    marker = shlex.quote(startup_marker(user_code_path))
    done = fingerprint(startup)
    lines = [f'[ "$(cat {marker} 2>/dev/null)" = {done} ] && exit 0',
             f"cd {shlex.quote(user_code_path)} || exit 1"]
    if startup["git"]:
        lines += _git_lines(startup["git"])
    lines += [f"/bin/sh -c {shlex.quote(command)} || " + _fail_with(f"on_startup[{index}]: failed")
              for index, command in enumerate(startup["commands"])]
    lines.append(f'mkdir -p "$(dirname {marker})" && echo {done} > {marker}')
    return "\n".join(lines) + "\n"


def startup_marker(user_code_path):
    return f"{user_code_path.rstrip('/')}/{STARTUP_MARKER}"


def hook_fingerprint(post_start):
    """Changes with the hook's content; None without a hook."""
    return fingerprint(post_start["hook"]) if post_start and post_start["hook"] is not None else None


# --- controller side: used by the action plugin --------------------------------------------------


def run_pre_start(path, context, field=PRE_START_FIELD):
    """Load the script as a module of its own and return get_custom_configs(context); WorkspaceError otherwise.

    The module is not added to sys.modules and no bytecode is written next to the script.
    """
    import importlib.util

    where = f"{field}: {path}"
    try:
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise WorkspaceError(f"{where}: cannot read the script ({error})") from None
    module = importlib.util.module_from_spec(
        importlib.util.spec_from_loader(f"atelier_pre_start_{fingerprint(path)}", loader=None, origin=path))
    module.__file__ = path
    try:
        exec(compile(source, path, "exec"), module.__dict__)
    except (Exception, SystemExit) as error:
        raise WorkspaceError(f"{where}: the script failed to load ({type(error).__name__}: {error})") from None
    function = getattr(module, PRE_START_FUNCTION, None)
    if not callable(function):
        raise WorkspaceError(f"{where}: defines no function {PRE_START_FUNCTION}(context); add one that returns "
                             f"a dict of container settings")
    try:
        result = function(copy.deepcopy(context))
    except (Exception, SystemExit) as error:
        raise WorkspaceError(f"{where}: {PRE_START_FUNCTION} raised {type(error).__name__}: {error}") from None
    if not isinstance(result, dict):
        raise WorkspaceError(f"{where}: {PRE_START_FUNCTION} returned a {type(result).__name__}; it must return "
                             f"a dict of container settings")
    try:
        json.dumps(result)
    except (TypeError, ValueError) as error:
        raise WorkspaceError(f"{where}: {PRE_START_FUNCTION} returned values that are not plain data ({error}); "
                             f"use strings, numbers, booleans, lists and dicts") from None
    return result


def read_hook(path, field=HOOK_FIELD):
    """The post-start hook's text; WorkspaceError when unreadable, not text, or too large for a ConfigMap."""
    where = f"{field}: {path}"
    try:
        with open(path, "rb") as handle:
            content = handle.read(MAX_HOOK_BYTES + 1)
    except OSError as error:
        raise WorkspaceError(f"{where}: cannot read the hook ({error})") from None
    if len(content) > MAX_HOOK_BYTES:
        raise WorkspaceError(f"{where}: larger than {MAX_HOOK_BYTES // 1024} KiB; keep the hook small and let it "
                             f"fetch what it needs")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise WorkspaceError(f"{where}: not a UTF-8 text file; the hook must be a script") from None
