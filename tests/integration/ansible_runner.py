"""Runs a collection module the way users do (through ansible) and returns its result."""

import json
import os
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = REPO_ROOT / ".venv" / "bin"


def run_module(module, args, check=False, diff=False, expect_failure=False, env=None):
    """Result dict of one ad-hoc module call on localhost; stdout and stderr are kept for leak checks.

    `env` changes the environment of that one call: a value sets a variable, None removes it.
    """
    overrides = env or {}
    env = {key: value for key, value in os.environ.items() if key not in overrides}
    env.update({key: value for key, value in overrides.items() if value is not None})
    env.update({
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / ".work" / "collections"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_PYTHON_INTERPRETER": str(VENV_BIN / "python"),
        "PATH": f"{VENV_BIN}:{env.get('PATH', '')}",
    })
    command = [str(VENV_BIN / "ansible"), "localhost", "-c", "local", "-m", module, "-a", json.dumps(args)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    completed = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO_ROOT, check=False)
    try:
        output = json.loads(completed.stdout)
        result = output["plays"][0]["tasks"][0]["hosts"]["localhost"]
    except (ValueError, KeyError, IndexError) as error:
        raise AssertionError(f"no result from ansible: {error}\n{completed.stdout}\n{completed.stderr}") from None
    result["_output"] = completed.stdout + completed.stderr
    failed = bool(result.get("failed"))
    assert failed == expect_failure, f"unexpected {'failure' if failed else 'success'}: {result.get('msg')}"
    return result


AUDIT_LOG = REPO_ROOT / ".work" / "kwok" / "clusters" / "atelier" / "logs" / "audit.log"
WRITE_VERBS = ("create", "update", "patch", "delete")


def audit_write_events():
    """Write requests the collection sent, as the API server's audit log recorded them."""
    with open(AUDIT_LOG, encoding="utf-8") as log:
        for line in log:
            if '"userAgent":"atelier.workspaces"' in line:
                event = json.loads(line)
                if event["verb"] in WRITE_VERBS:
                    yield event


def audit_writes(*namespaces):
    """How many write requests the collection sent (to these namespaces)."""
    return sum(1 for event in audit_write_events()
               if not namespaces or event.get("objectRef", {}).get("namespace") in namespaces)
