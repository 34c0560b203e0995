"""What both benchmarks share: writing a one-play playbook and timing ansible-playbook on it."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def write_play(path, tasks):
    """A playbook of one play on localhost with these tasks (JSON is valid YAML)."""
    play = [{"name": "Benchmark", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "tasks": tasks}]
    path.write_text(json.dumps(play))
    return path


def run_playbook(playbook):
    """Wall seconds of one ansible-playbook run; a failed run ends the benchmark with its output."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"))
    started = time.monotonic()
    completed = subprocess.run(
        [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), str(playbook)],
        capture_output=True, text=True, env=env, cwd=REPO_ROOT, check=False,
    )
    elapsed = time.monotonic() - started
    if completed.returncode != 0:
        sys.exit(f"{playbook.name} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    return elapsed
